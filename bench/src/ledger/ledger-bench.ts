/**
 * Ledger throughput and commit latency, through the typed facades with every
 * signature and validation on: device registrations (factory → Factory1 +
 * Platform peers) and batch anchors (platform admin → Platform + Factory1 peers),
 * at 1, 10 and 100 concurrent clients. The embedded engine runs each case on a
 * fresh data dir; `--ledger embedded,fabric` also runs every case, with the same
 * identities, clients and operations, on a real Fabric network through the
 * Gateway (the settings file of `--fabric-connection`, default FABRIC_CONNECTION),
 * and prints both in one table with the channel's batch settings.
 *
 *   node bench/dist/src/ledger/ledger-bench.js [--seconds 3] [--clients 1,10,100] [--ops register,anchor]
 *                                              [--signers message,digest] [--block-size 50] [--block-timeout 50]
 *                                              [--repeat 1] [--ledger embedded,fabric] [--fabric-connection f]
 *
 * With Fabric in the run, the identity store issues every identity (users and the embedded engine's peers)
 * from the network's own org CAs (the settings' `ca` entries), so both ledgers see the same certificates.
 *
 * Signer `digest` is the baseline: identities as @c2m/identity first handed them out, signing a SHA-256 digest
 * with @noble/curves. Signer `message` adds the `signMessage` fast path (node:crypto over the message, on the
 * JavaScript thread); `worker` signs on @c2m/identity's
 * CryptoPool, in batches on a worker thread, as the platform's identities do.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type IdentityStore, isLowS, openIdentityStore, sharedCryptoPool, signMessage } from '@c2m/identity';
import {
  anchorsContract,
  caMaterialFromSettings,
  devicesContract,
  type FabricSettings,
  fabricConnectionPath,
  LedgerError,
  loadFabricSettings,
  openEmbeddedLedger,
  openFabricLedger,
  orgsContract,
} from '@c2m/network';
import { ErrorCodes, type Ledger, type LedgerIdentity, Orgs } from '@c2m/shared';
import { fabricBatchSettings } from './fabric-batch.js';

// fabric-contract-api logs every decorator at info; the bench prints only its table.
const require = createRequire(import.meta.url);
for (const name of ['fabric-contract-api/lib/logger', 'fabric-shim/lib/logger']) require(name).setLevel('CRITICAL');
process.env.CORE_CHAINCODE_LOGGING_LEVEL = 'CRITICAL';
// Imported after the level is set: the contract decorators log at import time.
const { contracts } = await import('@c2m/chaincode');

type Op = 'register' | 'anchor';
type SignerKind = 'message' | 'worker' | 'digest';
type LedgerKind = 'embedded' | 'fabric';

interface CaseResult {
  readonly ledger: LedgerKind;
  readonly op: Op;
  readonly signer: SignerKind;
  readonly clients: number;
  readonly committed: number;
  readonly failed: number;
  readonly seconds: number;
  readonly tps: number;
  readonly p50: number;
  readonly p99: number;
  readonly blocks: number;
  /** Event-loop utilisation: the share of wall time the one JS thread was busy. */
  readonly busy: number;
  /** Process CPU (user + system, all threads) per committed transaction. */
  readonly cpuMsPerTx: number;
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '1,10,100' },
    ops: { type: 'string', default: 'register,anchor' },
    signers: { type: 'string', default: 'message,digest' },
    'block-size': { type: 'string', default: '50' },
    'block-timeout': { type: 'string', default: '50' },
    repeat: { type: 'string', default: '1' },
    ledger: { type: 'string', default: 'embedded' },
    'fabric-connection': { type: 'string', default: process.env.FABRIC_CONNECTION ?? '' },
  },
});
const ledgers = values.ledger.split(',') as LedgerKind[];
for (const l of ledgers)
  if (l !== 'embedded' && l !== 'fabric') throw new Error(`--ledger: embedded or fabric, not ${l}`);
const fabricConnection = values['fabric-connection'] ? fabricConnectionPath(values['fabric-connection']) : '';
if (ledgers.includes('fabric') && !fabricConnection) {
  throw new Error(
    '--ledger fabric needs --fabric-connection (or FABRIC_CONNECTION): the settings file network.sh writes',
  );
}
/** Ids unique to this run: a Fabric network keeps what earlier runs wrote. */
const runId = Date.now().toString(36);
const seconds = Number(values.seconds);
const clientCounts = values.clients.split(',').map(Number);
const ops = values.ops.split(',') as Op[];
const signers = values.signers.split(',') as SignerKind[];
const blockSize = Number(values['block-size']);
const blockTimeoutMs = Number(values['block-timeout']);
/** Runs per case, interleaved across signers so that a slow spell of the shared machine hits them alike. */
const repeat = Math.max(1, Number(values.repeat));

/** The store keeps each identity's key next to its certificate (an MSP folder); find it by the certificate. */
async function keysByCertificate(dir: string, out = new Map<string, KeyObject>()): Promise<Map<string, KeyObject>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const cert = await readFile(join(path, 'signcerts', 'cert.pem'), 'utf8').catch(() => undefined);
      const key = await readFile(join(path, 'keystore', 'key.pem'), 'utf8').catch(() => undefined);
      if (cert && key) out.set(cert, createPrivateKey(key));
      else await keysByCertificate(path, out);
    }
  }
  return out;
}

function withSigner(identity: LedgerIdentity, kind: SignerKind, keys: Map<string, KeyObject>): LedgerIdentity {
  // The baseline signs digests only (@noble/curves), as identities did before the store offered signMessage.
  if (kind === 'digest') return { mspId: identity.mspId, certificatePem: identity.certificatePem, sign: identity.sign };
  const key = keys.get(identity.certificatePem);
  if (!key) throw new Error(`no key found for ${identity.mspId}`);
  if (kind === 'worker') return { ...identity, signMessage: sharedCryptoPool().signer(key) };
  return { ...identity, signMessage: async (message) => signMessage(key, message) };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

let seq = 0;
const merkleRoot = 'ab'.repeat(32);
const publicKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
  type: 'spki',
  format: 'pem',
}) as string;

/** The Fabric network's ledger, opened once and shared by its cases (its state outlives them anyway). */
let fabricLedger: Ledger | undefined;

async function openCaseLedger(
  kind: LedgerKind,
  store: IdentityStore,
  keys: Map<string, KeyObject>,
  signer: SignerKind,
  dataDir: string,
): Promise<Ledger> {
  if (kind === 'fabric') {
    fabricLedger ??= await openFabricLedger(fabricSettings!);
    return fabricLedger;
  }
  const peers = Object.fromEntries(
    store.orgs().map((o) => [o.mspId, withSigner(store.peerIdentity(o.mspId), signer, keys)]),
  );
  return openEmbeddedLedger({
    dataDir,
    contracts,
    peers,
    caCertificates: store.caCertificates(),
    blockSize,
    blockTimeoutMs,
  });
}

let fabricSettings: FabricSettings | undefined;

async function runCase(
  kind: LedgerKind,
  store: IdentityStore,
  keys: Map<string, KeyObject>,
  op: Op,
  signer: SignerKind,
  clients: number,
  durationSeconds = seconds,
): Promise<CaseResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'c2m-bench-ledger-'));
  let ledger: Ledger | undefined;
  try {
    ledger = await openCaseLedger(kind, store, keys, signer, dataDir);
    const admin = withSigner(store.userIdentity('platform'), signer, keys);
    const factory = withSigner(store.userIdentity('factory1'), signer, keys);
    const orgs = orgsContract(ledger, admin);
    for (const o of store.orgs()) {
      if (o.mspId === Orgs.platform) continue;
      await orgs.registerOrg({ mspId: o.mspId, kind: o.kind, name: o.mspId }).catch((err: unknown) => {
        // A long-lived network has them from an earlier run.
        if (!(err instanceof LedgerError && err.code === ErrorCodes.ALREADY_EXISTS)) throw err;
      });
    }
    const devices = devicesContract(ledger, factory);
    const anchors = anchorsContract(ledger, admin);
    const one = (): Promise<unknown> => {
      const n = ++seq;
      if (op === 'register') {
        return devices.registerDevice({
          deviceId: `bench-${runId}-dev-${n}`,
          model: 'SKM-200',
          serial: `SN${n}`,
          line: 'line-1',
          certificateFingerprint: n.toString(16).padStart(64, '0'),
          publicKeyPem,
        });
      }
      const t = new Date(1_764_000_000_000 + n * 1000).toISOString();
      return anchors.anchorBatch({
        batchId: `bench-${runId}-batch-${n}`,
        factoryMspId: Orgs.factory1,
        merkleRootHex: merkleRoot,
        eventCount: 100,
        firstEventTime: t,
        lastEventTime: t,
      });
    };
    const startHeight = await ledger.height();
    const latencies: number[] = [];
    let failed = 0;
    let firstError: unknown;
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const deadline = start + durationSeconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          try {
            await one();
            latencies.push(performance.now() - t0);
          } catch (err) {
            failed++;
            firstError ??= err;
          }
        }
      }),
    );
    const elapsed = (performance.now() - start) / 1000;
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const cpu = process.cpuUsage(cpu0);
    if (firstError) console.error(`${kind} ${op}/${signer}/${clients}: first failure:`, (firstError as Error).message);
    latencies.sort((a, b) => a - b);
    return {
      ledger: kind,
      op,
      signer,
      clients,
      committed: latencies.length,
      failed,
      seconds: elapsed,
      tps: latencies.length / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      blocks: (await ledger.height()) - startHeight,
      busy: elu,
      cpuMsPerTx: (cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length),
    };
  } finally {
    if (kind === 'embedded') await ledger?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

type Row = CaseResult & { readonly tpsRange: readonly number[] };

function printTable(results: readonly Row[]): void {
  console.log(
    '| ledger | op | signer | clients | committed | failed | tx/s | tx/s of all runs | p50 ms | p99 ms | blocks | tx/block | loop busy | CPU ms/tx |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const signer = r.signer === 'digest' ? 'digest (baseline)' : r.signer;
    const perBlock = r.blocks > 0 ? (r.committed / r.blocks).toFixed(1) : '-';
    console.log(
      `| ${r.ledger} | ${r.op} | ${signer} | ${r.clients} | ${r.committed} | ${r.failed} | ${r.tps.toFixed(0)} | ${r.tpsRange.map((t) => t.toFixed(0)).join(' / ')} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.blocks} | ${perBlock} | ${(r.busy * 100).toFixed(0)}% | ${r.cpuMsPerTx.toFixed(2)} |`,
    );
  }
}

function printRatios(results: readonly Row[]): void {
  const find = (l: LedgerKind, op: Op, clients: number, signer: SignerKind) =>
    results.find((r) => r.ledger === l && r.op === op && r.clients === clients && r.signer === signer);
  for (const op of ops) {
    for (const clients of clientCounts) {
      for (const l of ledgers) {
        const base = find(l, op, clients, 'digest');
        for (const signer of signers.filter((x) => x !== 'digest')) {
          const fast = find(l, op, clients, signer);
          if (base && fast)
            console.log(`${l} ${op} x${clients}: ${signer} signer ${(fast.tps / base.tps).toFixed(2)}x baseline`);
        }
      }
      for (const signer of signers) {
        const e = find('embedded', op, clients, signer);
        const f = find('fabric', op, clients, signer);
        if (e && f && f.tps > 0) {
          console.log(
            `${op} x${clients} (${signer}): embedded ${e.tps.toFixed(0)} tx/s = ${(e.tps / f.tps).toFixed(1)}x Fabric ${f.tps.toFixed(0)} tx/s; p50 ${e.p50.toFixed(0)} vs ${f.p50.toFixed(0)} ms`,
          );
        }
      }
    }
  }
}

async function main(): Promise<void> {
  const identityDir = await mkdtemp(join(tmpdir(), 'c2m-bench-identity-'));
  try {
    let batch = '';
    if (ledgers.includes('fabric')) {
      fabricSettings = await loadFabricSettings(fabricConnection);
      batch = await fabricBatchSettings(fabricConnection);
    }
    // With Fabric, every identity comes from the network's CAs, so both ledgers see the same certificates.
    const store = await openIdentityStore({
      dataDir: identityDir,
      ...(fabricSettings ? { caMaterial: caMaterialFromSettings(fabricSettings) } : {}),
    });
    const keys = await keysByCertificate(identityDir);
    // The fast signer must produce what Fabric accepts: a low-S signature that verifies.
    for (const key of [...keys.values()].slice(0, 2)) {
      for (let i = 0; i < 16; i++) {
        const msg = Buffer.from(`check ${i}`);
        const sig = await sharedCryptoPool().signer(key)(msg);
        if (!isLowS(sig) || !verify('sha256', msg, key, sig)) throw new Error('crypto-thread signer self-check failed');
      }
    }
    // Warm the JIT, the module graph and the connections so the first measured case is not penalised.
    for (const l of ledgers) await runCase(l, store, keys, ops[0]!, 'message', 10, 1);
    const results: Row[] = [];
    for (const op of ops) {
      for (const clients of clientCounts) {
        for (const l of ledgers) {
          const runs = new Map<SignerKind, CaseResult[]>(signers.map((x) => [x, []]));
          for (let i = 0; i < repeat; i++) {
            for (const signer of signers) {
              const r = await runCase(l, store, keys, op, signer, clients);
              runs.get(signer)!.push(r);
              console.error(`${l} ${op} ${signer} x${clients} (run ${i + 1}/${repeat}): ${r.tps.toFixed(0)} tx/s`);
            }
          }
          for (const signer of signers) {
            // The median run by throughput stands for the case; the range shows how much the machine moved.
            const sorted = [...runs.get(signer)!].sort((a, b) => a.tps - b.tps);
            const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
            results.push({ ...median, tpsRange: sorted.map((r) => r.tps) });
          }
        }
      }
    }
    console.log(
      `\n${seconds} s per case, ${repeat} run(s) per case (median shown), node ${process.version}; embedded: block size ${blockSize}, block timeout ${blockTimeoutMs} ms` +
        (batch ? `; fabric: ${batch}` : ''),
    );
    printTable(results);
    printRatios(results);
  } finally {
    await fabricLedger?.close();
    await rm(identityDir, { recursive: true, force: true });
  }
}

await main();
