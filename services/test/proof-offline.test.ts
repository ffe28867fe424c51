import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import request from 'supertest';
import { nextMessage } from '../src/iot/simulator.js';
import { buildTree, leafHash } from '../src/trace/merkle.js';
import type { ProofBundle } from '../src/trace/proof-bundle.js';
import { verifyProofBundle } from '../src/trace/verify-bundle.js';
import { startTestPlatform, type TestPlatform } from './helpers.js';
import { anchoredWorkOrder, writeTrustDir } from './proof-fixture.js';

/**
 * Issue 11, item 1, as an attacker would probe it: bundles that are forged or altered must not verify
 * offline (the CLI with pinned trust, no server) nor on the server.
 */
const run = promisify(execFile);
const CLI = new URL('../src/trace/verify-cli.js', import.meta.url).pathname;

let t: TestPlatform;
let dir: string;
let trustDir: string;
let fixture: Awaited<ReturnType<typeof anchoredWorkOrder>>;
before(async () => {
  t = await startTestPlatform({
    anchorBatchSize: 3,
    anchorIntervalMs: 200,
    // The flood below is about the verifier pool shedding load; the per-client rate limit has its own test.
    proofVerifyRatePerMinute: 1000,
  });
  dir = await mkdtemp(path.join(os.tmpdir(), 'c2m-proof-'));
  trustDir = await writeTrustDir(t, path.join(dir, 'trust'));
  fixture = await anchoredWorkOrder(t, 'off-01', 8);
});
after(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(bundle: unknown, ...args: string[]): Promise<{ code: number; out: string }> {
  const file = path.join(dir, `${randomBytes(6).toString('hex')}.json`);
  await writeFile(file, JSON.stringify(bundle));
  try {
    const { stdout } = await run(process.execPath, [CLI, file, ...args]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

const pinned = () => ({ trustedCaCertificates: t.platform.identity.caCertificates() });

test('a genuine bundle is VERIFIED offline by the CLI with pinned trust, and not without it', async () => {
  const { bundle } = fixture;
  assert.ok(Object.keys(bundle.anchors).length >= 3);
  const ok = await cli(bundle, '--ca-dir', trustDir);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /^VERIFIED: work order .*: \d+ anchors proven offline, 8 full events/m);
  // Without endorsement-policy.txt the CLI pins the consortium default over the CA files it found (in file
  // order): the same policy whatever the order of its rules.
  const casOnly = path.join(dir, 'cas-only');
  await writeTrustDir(t, casOnly);
  await rm(path.join(casOnly, 'endorsement-policy.txt'));
  const byDefault = await cli(bundle, '--ca-dir', casOnly);
  assert.equal(byDefault.code, 0, byDefault.out);
  const unpinned = await cli(bundle);
  assert.equal(unpinned.code, 1);
  assert.match(unpinned.out, /FAIL trust-anchors: no pinned CA certificates/);
  assert.match(unpinned.out, /NOT VERIFIED/);
  // What the platform offers to pin is what the CLI pinned here from the identity store.
  const served = (await request(t.app.server).get('/api/proofs/trust').expect(200)).body;
  assert.deepEqual(served.caCertificates, t.platform.identity.caCertificates());
  assert.equal(served.endorsementPolicy, bundle.endorsementPolicy);
  assert.deepEqual(served.ordererMspIds, ['PlatformOrg']);
  // A pinned policy other than the channel's is a refusal too, not a silent pass.
  const otherPolicy = await cli(bundle, '--ca-dir', trustDir, '--policy', "AND('PlatformOrg.peer')");
  assert.equal(otherPolicy.code, 1);
  assert.match(otherPolicy.out, /differs from the pinned one/);
});

test('invented events signed with a real device key, under an invented anchor, are refused offline and on the server', async () => {
  const { bundle, device, workOrderId } = fixture;
  // Four invented production counts of 100,000 units each, really signed by the certified device's key.
  const forgedEvents = Array.from({ length: 4 }, () =>
    nextMessage({ ...device }, 'production.count', { workOrderId, units: 100_000 }),
  );
  const leaves = forgedEvents.map((e) => leafHash(e.body));
  const tree = buildTree(leaves);
  const realAnchor = Object.values(bundle.anchors)[0] as ProofBundle['anchors'][string];
  const events = forgedEvents.map((e, i) => ({
    message: e.body,
    sig: e.sig,
    leafHash: leaves[i] as string,
    batchId: 'B-forged',
    proof: tree.proof(i),
  }));
  const variants: Record<string, ProofBundle> = {
    // An anchor whose transaction the bundle does not hold.
    'invented tx': {
      ...bundle,
      events,
      anchors: {
        'B-forged': { ...realAnchor, batchId: 'B-forged', merkleRoot: tree.root, eventCount: 4, txId: 'ab'.repeat(32) },
      },
    },
    // A genuine, proven anchor transaction, claimed for the invented root.
    'borrowed tx': {
      ...bundle,
      events: events.map((e) => ({ ...e, batchId: realAnchor.batchId })),
      anchors: { [realAnchor.batchId]: { ...realAnchor, merkleRoot: tree.root, eventCount: 4 } },
    },
  };
  for (const [what, forged] of Object.entries(variants)) {
    const offline = await cli(forged, '--ca-dir', trustDir);
    assert.equal(offline.code, 1, `${what}: ${offline.out}`);
    assert.match(offline.out, /FAIL anchors proven on the ledger/, what);
    assert.match(offline.out, /NOT VERIFIED/, what);
    const server = await request(t.app.server).post('/api/proofs/verify').send({ bundle: forged }).expect(200);
    assert.equal(server.body.valid, false, what);
  }
});

test('a swapped device certificate, a rewritten certification history or a dropped revision fail the check', async () => {
  const { bundle, device, other } = fixture;
  const d = bundle.devices[device.deviceId] as ProofBundle['devices'][string];
  const otherDevice = await t.platform.pool.query(
    'SELECT certificate_pem, fingerprint FROM device_certificates WHERE device_id = $1',
    [other.deviceId],
  );
  const otherPem = otherDevice.rows[0].certificate_pem as string;
  const certified = d.states.findIndex((s) => s.status === 'CERTIFIED');
  assert.ok(certified > 0, 'registered, then certified');
  const changes: Record<string, ProofBundle['devices'][string]> = {
    'certificatePem swapped': { ...d, certificatePem: otherPem },
    'certificate map swapped': { ...d, certificates: { [d.certificateFingerprint]: otherPem } },
    'certification extended': {
      ...d,
      states: d.states.map((s, i) => (i === certified ? { ...s, validUntil: '2099-01-01T00:00:00.000Z' } : s)),
    },
    'registration dropped': { ...d, states: d.states.slice(1), ledgerTxIds: d.ledgerTxIds.slice(1) },
    'history reordered': { ...d, ledgerTxIds: [...d.ledgerTxIds].reverse() },
    'owner changed': { ...d, factoryMspId: other.factoryMspId },
  };
  for (const [what, changed] of Object.entries(changes)) {
    const r = await verifyProofBundle(
      { ...bundle, devices: { ...bundle.devices, [device.deviceId]: changed } },
      pinned(),
    );
    assert.equal(r.valid, false, what);
    const failing = r.checks.filter((c) => !c.ok).map((c) => c.name);
    assert.ok(failing.includes('device certificates and histories bound to ledger records'), `${what}: ${failing}`);
  }
});

// --- Fuzz: every field of a genuine bundle, changed one at a time, must be refused. ---

type Path = readonly (string | number)[];
type Kind = 'string' | 'number' | 'boolean' | 'blob' | 'rename-key' | 'delete-key' | 'delete-element';
interface Site {
  readonly path: Path;
  readonly kind: Kind;
}

/** Base64 blobs: mutated byte-wise (decoded, one byte flipped, re-encoded), so a change is never a mere respelling. */
const BLOBS: Readonly<Record<string, 'base64' | 'base64url'>> = {
  envelope: 'base64',
  signature: 'base64',
  sig: 'base64url',
};

/**
 * Changes that do not alter what the bundle claims, excluded with the reason:
 * - generatedAt: when the bundle was assembled; no check rests on it and nothing signs it.
 * - workOrder.quantity: part of the private terms; the channel holds only termsHash, and the verifier says so.
 * - deleting a full event: leaves a smaller bundle whose every remaining claim is still true.
 */
function excluded(site: Site): boolean {
  const [a, b] = site.path;
  if (a === 'generatedAt') return true;
  if (a === 'workOrder' && b === 'quantity') return true;
  return a === 'events' && site.path.length === 2 && site.kind === 'delete-element';
}

function sitesOf(value: unknown, path: Path = []): Site[] {
  const out: Site[] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ path: [...path, i], kind: 'delete-element' }, ...sitesOf(v, [...path, i]));
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push({ path: [...path, k], kind: 'rename-key' }, { path: [...path, k], kind: 'delete-key' });
      out.push(...sitesOf(v, [...path, k]));
    }
  } else if (typeof value === 'string') {
    out.push({ path, kind: BLOBS[String(path[path.length - 1])] ? 'blob' : 'string' });
  } else if (typeof value === 'number') out.push({ path, kind: 'number' });
  else if (typeof value === 'boolean') out.push({ path, kind: 'boolean' });
  return out.filter((s) => !excluded(s));
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-:.';

/** A copy of the bundle with one change at `site`; `r` (a random natural) picks the position and the new value. */
function mutate(bundle: ProofBundle, site: Site, r: number): ProofBundle {
  const copy = structuredClone(bundle) as unknown as Record<string | number, unknown>;
  let parent = copy as Record<string | number, unknown>;
  for (const p of site.path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
  const last = site.path[site.path.length - 1] as string | number;
  const v = parent[last];
  switch (site.kind) {
    case 'string': {
      const s = v as string;
      if (s.length === 0) parent[last] = 'x';
      else {
        const i = r % s.length;
        const options = ALPHABET.replace(s[i] as string, '');
        parent[last] = s.slice(0, i) + options[r % options.length] + s.slice(i + 1);
      }
      break;
    }
    case 'blob': {
      const enc = BLOBS[String(last)] as 'base64' | 'base64url';
      const bytes = Buffer.from(v as string, enc);
      bytes[r % bytes.length]! ^= 1 + (r % 255);
      parent[last] = bytes.toString(enc);
      break;
    }
    case 'number':
      parent[last] = (v as number) + (r % 2 === 0 ? 1 : -1);
      break;
    case 'boolean':
      parent[last] = !v;
      break;
    case 'rename-key':
      parent[`${String(last)}${ALPHABET[r % 26]}`] = v;
      delete parent[last];
      break;
    case 'delete-key':
      delete parent[last];
      break;
    case 'delete-element':
      (parent as unknown as unknown[]).splice(last as number, 1);
      break;
  }
  return copy as unknown as ProofBundle;
}

test('fuzz: every string, number, object key, array element and base64 blob byte of a bundle, changed, is refused', async () => {
  const fc = (await import('fast-check')).default;
  const { bundle } = fixture;
  assert.equal((await verifyProofBundle(bundle, pinned())).valid, true, 'the unchanged bundle verifies');
  const sites = sitesOf(bundle);
  const kinds = new Set(sites.map((s) => s.kind));
  for (const k of ['string', 'number', 'blob', 'rename-key', 'delete-key', 'delete-element'] as const) {
    assert.ok(kinds.has(k), `the bundle has ${k} sites`);
  }
  // Every site once, with a random position and value from fast-check (seeded, so a failure replays).
  const picks = fc.sample(fc.nat(), { numRuns: sites.length, seed: 20261207 });
  const accepted: string[] = [];
  for (const [i, site] of sites.entries()) {
    const r = await verifyProofBundle(mutate(bundle, site, picks[i] as number), pinned()).catch(() => ({
      valid: false,
    }));
    if (r.valid) accepted.push(`${site.kind} ${site.path.join('.')}`);
  }
  assert.deepEqual(accepted, [], `${accepted.length} of ${sites.length} changes were accepted`);
  // Then the blobs (envelopes, signatures) byte by byte, at random positions: every byte of an envelope is under
  // its block's data hash, every signature byte under ECDSA.
  const blobs = sites.filter((s) => s.kind === 'blob');
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...blobs), fc.nat(), async (site, r) => {
      const res = await verifyProofBundle(mutate(bundle, site, r), pinned()).catch(() => ({ valid: false }));
      return !res.valid;
    }),
    { numRuns: 200, seed: 11 },
  );
  console.log(`fuzz: ${sites.length} field changes and 200 blob-byte flips, all refused`);
});

test('/api/proofs/verify refuses hostile bodies and sheds a flood with VERIFIER_BUSY, never a wrong answer', async () => {
  const { bundle } = fixture;
  // Over the 12 MB body limit.
  const huge = { ...bundle, generatedAt: 'x'.repeat(13 * 1024 * 1024) };
  await request(t.app.server).post('/api/proofs/verify').send({ bundle: huge }).expect(413);
  // Not a bundle: the schema refuses it before any thread is used.
  for (const bad of [
    {},
    { bundle: { ...bundle, version: 1 } },
    { bundle: { ...bundle, blocks: [] } },
    { bundle: 'x' },
  ]) {
    await request(t.app.server).post('/api/proofs/verify').send(bad).expect(400);
  }
  // A flood: every answer is a correct verdict or a clear 503, whatever the machine's thread count.
  const answers = await Promise.all(
    Array.from({ length: 48 }, () => request(t.app.server).post('/api/proofs/verify').send({ bundle })),
  );
  const busy = answers.filter((a) => a.status === 503);
  for (const a of busy) assert.equal(a.body.code, 'VERIFIER_BUSY');
  for (const a of answers.filter((x) => x.status !== 503)) {
    assert.equal(a.status, 200);
    assert.equal(a.body.valid, true);
  }
  console.log(`flood: ${answers.length - busy.length} verified, ${busy.length} shed with VERIFIER_BUSY`);
  // The pool recovers: the next one is answered.
  const after = await request(t.app.server).post('/api/proofs/verify').send({ bundle }).expect(200);
  assert.equal(after.body.valid, true);
});
