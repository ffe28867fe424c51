/**
 * Proof bundles at scale: bundle size and offline verification time for work orders of 1,000, 100,000 and
 * 1,000,000 events, on a real embedded ledger (every anchor endorsed, ordered, signed by the orderer), verified
 * by the shared verifier (@c2m/shared verifyBundle, WebCrypto) with the consortium's trust pinned.
 *
 *   node bench/dist/src/proof/proof-bench.js [--sizes 1000,100000,1000000] [--baseline-max 100000] [--sample 20]
 *
 * Forms per size:
 * - summary: every batch's anchor (1,000 events per batch) with its committed totals and the offline proof of
 *   its transaction, the work order's and the device's ledger history, and `--sample` full events;
 * - batch: the full form for one batch (1,000 events with Merkle paths);
 * - baseline `inline`: every event inline with its Merkle path (the bundle form before summaries), up to
 *   `--baseline-max` events.
 * Events are synthetic production counts of one certified device. A Merkle leaf is the hash of the signed
 * message only, so only events that appear in a bundle are signed (all of them for the inline baseline).
 */
import { randomBytes, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createDeviceCsr, generateDeviceKeyPair, openIdentityStore } from '@c2m/identity';
import {
  anchorsContract,
  C2M_ENDORSEMENT_POLICY,
  devicesContract,
  openEmbeddedLedger,
  orgsContract,
  workOrdersContract,
} from '@c2m/network';
import { buildTree, leafHash } from '@c2m/services/dist/src/trace/merkle.js';
import { closeVerifyPool, verifyInWorker } from '@c2m/services/dist/src/trace/verify-pool.js';
import {
  type BatchTotals,
  canonicalJson,
  defaultPolicy,
  type Ledger,
  Orgs,
  type PinnedTrust,
  type ProofBundleV2,
  parsePolicy,
  possessionChallengeText,
  recordInProof,
  type TransactionProof,
  verifyBundle,
} from '@c2m/shared';

const require = createRequire(import.meta.url);
for (const name of ['fabric-contract-api/lib/logger', 'fabric-shim/lib/logger']) require(name).setLevel('CRITICAL');
process.env.CORE_CHAINCODE_LOGGING_LEVEL = 'CRITICAL';
const { contracts } = await import('@c2m/chaincode');

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,100000,1000000' },
    'baseline-max': { type: 'string', default: '100000' },
    sample: { type: 'string', default: '20' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const baselineMax = Number(values['baseline-max']);
const sampleSize = Number(values.sample);
const BATCH = 1000;
const DEVICE = 'bench-proof-dev-1';
void C2M_ENDORSEMENT_POLICY;

const dirs: string[] = [];
const tmp = async (p: string) => {
  const d = await mkdtemp(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

const store = await openIdentityStore({ dataDir: await tmp('c2m-bench-proof-id-') });
const cas = store.caCertificates();
const policyText = defaultPolicy(Orgs.platform, Object.keys(cas));
const trust: PinnedTrust = {
  caCertificates: cas,
  endorsementPolicy: parsePolicy(policyText),
  channel: 'c2m',
  chaincode: 'c2m',
  ordererMspIds: [Orgs.platform],
};
const keys = generateDeviceKeyPair();
const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const certificatePem = await store.issueDeviceCertificate(
  Orgs.factory1,
  await createDeviceCsr(keys.privateKey, keys.publicKey, { deviceId: DEVICE, mspId: Orgs.factory1 }),
  { deviceId: DEVICE },
);
const { X509Certificate, createHash } = await import('node:crypto');
const fingerprint = createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
const es256 = (text: string) =>
  sign('sha256', Buffer.from(text), { key: keys.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');

interface Fixture {
  ledger: Ledger;
  workOrderId: string;
  woTxIds: string[];
  deviceTxIds: string[];
  startMs: number;
}

async function setUp(): Promise<Fixture> {
  const peers = Object.fromEntries(store.orgs().map((o) => [o.mspId, store.peerIdentity(o.mspId)]));
  const ledger = await openEmbeddedLedger({
    dataDir: await tmp('c2m-bench-proof-ledger-'),
    contracts,
    peers,
    caCertificates: cas,
  });
  const admin = store.userIdentity('platform');
  for (const o of store.orgs()) {
    if (o.mspId !== Orgs.platform)
      await orgsContract(ledger, admin).registerOrg({ mspId: o.mspId, kind: o.kind, name: o.mspId });
  }
  const factory = devicesContract(ledger, store.userIdentity('factory1'));
  const reg = await factory.registerDevice({
    deviceId: DEVICE,
    model: 'SKM-200',
    serial: 'SN1',
    line: 'line-1',
    certificateFingerprint: fingerprint,
    publicKeyPem,
  });
  const challenge = possessionChallengeText({
    deviceId: DEVICE,
    issuedAt: new Date().toISOString(),
    nonce: randomBytes(24).toString('base64url'),
  });
  const cert = await devicesContract(ledger, store.userIdentity('certifier')).certifyDevice(DEVICE, {
    validUntil: new Date(Date.now() + 365 * 86_400_000),
    proof: { challenge, signature: es256(challenge) },
  });
  const workOrderId = `WO-bench-${randomBytes(4).toString('hex')}`;
  const wo = await workOrdersContract(ledger, store.userIdentity('brand')).commitWorkOrder({
    workOrderId,
    orderId: 'O-bench',
    factoryMspId: Orgs.factory1,
    terms: { quantity: 1 },
  });
  const acc = await workOrdersContract(ledger, store.userIdentity('factory1')).acceptWorkOrder(workOrderId);
  return {
    ledger,
    workOrderId,
    woTxIds: [wo.txId, acc.txId],
    deviceTxIds: [reg.txId, cert.txId],
    startMs: Date.now() + 1000,
  };
}

const message = (f: Fixture, i: number) =>
  canonicalJson({
    v: 1,
    deviceId: DEVICE,
    seq: i + 1,
    time: new Date(f.startMs + i).toISOString(),
    type: 'production.count',
    data: { workOrderId: f.workOrderId, units: 10 },
  });

interface Anchored {
  batchId: string;
  root: string;
  tree: ReturnType<typeof buildTree>;
  messages: string[];
  txId: string;
  blockNumber: number;
  blockHash: string;
  totals: Record<string, BatchTotals>;
}

/** Builds and anchors the batches of n events, 16 anchors in flight. */
async function anchorEvents(f: Fixture, n: number): Promise<Anchored[]> {
  const anchors = anchorsContract(f.ledger, store.userIdentity('platform'));
  const out: Anchored[] = [];
  const batches = Math.ceil(n / BATCH);
  let next = 0;
  const worker = async () => {
    for (let b = next++; b < batches; b = next++) {
      const messages = Array.from({ length: Math.min(BATCH, n - b * BATCH) }, (_, k) => message(f, b * BATCH + k));
      const tree = buildTree(messages.map(leafHash));
      const totals = {
        [f.workOrderId]: { events: messages.length, units: 10 * messages.length, qcPass: 0, qcFail: 0 },
      };
      const batchId = `B-${f.workOrderId}-${b}`;
      const r = await anchors.anchorBatch({
        batchId,
        factoryMspId: Orgs.factory1,
        merkleRootHex: tree.root,
        eventCount: messages.length,
        firstEventTime: new Date(f.startMs + b * BATCH).toISOString(),
        lastEventTime: new Date(f.startMs + b * BATCH + messages.length - 1).toISOString(),
        totals,
      });
      const info = await f.ledger.transaction(r.txId);
      out[b] = {
        batchId,
        root: tree.root,
        tree,
        messages,
        txId: r.txId,
        blockNumber: r.blockNumber,
        blockHash: info?.blockHash ?? '',
        totals,
      };
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}

async function bundle(f: Fixture, anchored: readonly Anchored[], events: [Anchored, number][]): Promise<ProofBundleV2> {
  const transactions: Record<string, ProofBundleV2['transactions'][string]> = {};
  const blocks: Record<string, ProofBundleV2['blocks'][string]> = {};
  const prove = async (txId: string) => {
    const p = (await f.ledger.transactionProof?.(txId)) as TransactionProof;
    transactions[txId] = { envelope: p.envelope, blockNumber: p.blockNumber, txIndex: p.txIndex };
    blocks[String(p.blockNumber)] = p.block;
    return p;
  };
  const states = [];
  for (const txId of f.deviceTxIds) {
    const r = await recordInProof<{ lastChange: { at: string }; status: string; validUntil: string | null }>(
      await prove(txId),
      'c2m',
      'c2m.device',
      DEVICE,
    );
    states.push({
      from: r!.lastChange.at,
      status: r!.status,
      ...(r!.validUntil ? { validUntil: r!.validUntil } : {}),
      publicKeyPem,
      certificateFingerprint: fingerprint,
    });
  }
  for (const txId of f.woTxIds) await prove(txId);
  const anchors: Record<string, ProofBundleV2['anchors'][string]> = {};
  for (const a of anchored) {
    await prove(a.txId);
    anchors[a.batchId] = {
      batchId: a.batchId,
      factoryMspId: Orgs.factory1,
      merkleRoot: a.root,
      eventCount: a.messages.length,
      txId: a.txId,
      blockNumber: a.blockNumber,
      blockHash: a.blockHash,
      totals: a.totals,
    };
  }
  return {
    version: 2,
    generatedAt: new Date().toISOString(),
    workOrder: {
      id: f.workOrderId,
      orderId: 'O-bench',
      brandMspId: Orgs.brand,
      factoryMspId: Orgs.factory1,
      quantity: 1,
      termsHash: createHash('sha256')
        .update(canonicalJson({ quantity: 1 }))
        .digest('hex'),
      ledger: { txId: f.woTxIds[1]!, blockNumber: transactions[f.woTxIds[1]!]!.blockNumber },
      ledgerTxIds: f.woTxIds,
    },
    events: events.map(([a, i]) => ({
      message: a.messages[i]!,
      sig: es256(a.messages[i]!),
      leafHash: leafHash(a.messages[i]!),
      batchId: a.batchId,
      proof: a.tree.proof(i),
    })),
    anchors,
    devices: {
      [DEVICE]: {
        certificatePem,
        factoryMspId: Orgs.factory1,
        certificateFingerprint: fingerprint,
        publicKeyPem,
        certificates: { [fingerprint]: certificatePem },
        states,
        ledgerTxIds: f.deviceTxIds,
      },
    },
    transactions,
    blocks,
    caCertificates: cas,
    endorsementPolicy: policyText,
  };
}

interface Row {
  events: number;
  form: string;
  fullEvents: number;
  anchors: number;
  bytes: number;
  verifyMs: number;
  valid: boolean;
}

async function measure(events: number, form: string, b: ProofBundleV2): Promise<Row> {
  const json = JSON.stringify(b);
  const parsed = JSON.parse(json) as ProofBundleV2;
  const t0 = performance.now();
  const r = await verifyBundle(parsed, { trust });
  const verifyMs = performance.now() - t0;
  if (!r.valid)
    console.error(
      form,
      r.checks.filter((c) => !c.ok),
    );
  return {
    events,
    form,
    fullEvents: b.events.length,
    anchors: Object.keys(b.anchors).length,
    bytes: Buffer.byteLength(json),
    verifyMs,
    valid: r.valid,
  };
}

/**
 * What /api/proofs/verify does to the event loop: four concurrent verifications of one bundle on the main
 * thread (before) and on the piscina pool the route uses (now), with the worst event-loop delay a /health
 * request would have met meanwhile.
 */
async function loopDelay(b: ProofBundleV2): Promise<string[]> {
  const out: string[] = [];
  for (const where of ['main thread', 'worker pool'] as const) {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, () =>
        where === 'main thread' ? verifyBundle(b, { trust }) : verifyInWorker(b, trust),
      ),
    );
    const wall = performance.now() - t0;
    h.disable();
    out.push(
      `| 4 x ${Object.keys(b.anchors).length}-anchor summary | ${where} | ${(wall / 1000).toFixed(2)} s | ${(h.max / 1e6).toFixed(0)} ms |`,
    );
  }
  await closeVerifyPool();
  return out;
}

const rows: Row[] = [];
let loop: string[] = [];
try {
  for (const n of sizes) {
    const f = await setUp();
    const t0 = performance.now();
    const anchored = await anchorEvents(f, n);
    const anchorS = (performance.now() - t0) / 1000;
    const pick = (k: number): [Anchored, number][] =>
      Array.from({ length: k }, () => {
        const a = anchored[Math.floor(Math.random() * anchored.length)]!;
        return [a, Math.floor(Math.random() * a.messages.length)];
      });
    const summary = await bundle(f, anchored, pick(Math.min(sampleSize, n)));
    rows.push(await measure(n, 'summary', summary));
    if (n === 100_000) loop = await loopDelay(summary);
    const first = anchored[0]!;
    rows.push(
      await measure(
        n,
        'batch (full)',
        await bundle(
          f,
          [first],
          first.messages.map((_, i) => [first, i]),
        ),
      ),
    );
    if (n <= baselineMax) {
      const all = anchored.flatMap((a) => a.messages.map((_, i): [Anchored, number] => [a, i]));
      rows.push(await measure(n, 'baseline: inline', await bundle(f, anchored, all)));
    }
    console.error(`${n} events: ${anchored.length} anchors committed in ${anchorS.toFixed(1)} s`);
    await f.ledger.close();
  }
} finally {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}

const mb = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} kB`);
console.log('| events | form | full events | anchors | bundle | verify | VERIFIED |');
console.log('|---:|---|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(
    `| ${r.events.toLocaleString('en')} | ${r.form} | ${r.fullEvents.toLocaleString('en')} | ${r.anchors} | ${mb(r.bytes)} | ${r.verifyMs >= 1000 ? `${(r.verifyMs / 1000).toFixed(2)} s` : `${r.verifyMs.toFixed(0)} ms`} | ${r.valid ? 'yes' : 'NO'} |`,
  );
}
if (loop.length > 0) {
  console.log('\n| verifications | where | wall | worst event-loop delay |');
  console.log('|---|---|---:|---:|');
  for (const l of loop) console.log(l);
}
