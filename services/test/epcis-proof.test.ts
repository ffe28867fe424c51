import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  EPCIS_MESSAGE_TAG,
  type EpcisSignedMessage,
  epcisEventHash,
  epcisMessage,
  Orgs,
  type ProofBundleV2,
} from '@c2m/shared';
import fc from 'fast-check';
import request from 'supertest';
import { withTransaction } from '../src/db/database.js';
import { canonicalUri } from '../src/epcis/canonical.js';
import { indexEvent, insertEvents } from '../src/epcis/store.js';
import { PLATFORM_USER } from '../src/platform.js';
import { verifyProofBundle } from '../src/trace/verify-bundle.js';
import { capture, finished, gs1Example, ownLocations } from './epcis-fixtures.js';
import { demoTokens, startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { anchoredWorkOrder, writeTrustDir } from './proof-fixture.js';

const CLI = new URL('../src/trace/verify-cli.js', import.meta.url).pathname;

/** Waits until every event of the capture is in an anchored batch. */
async function anchored(t: TestPlatform, captureId: string): Promise<void> {
  await waitFor('EPCIS events anchored', async () => {
    const { rows } = await t.platform.pool.query(
      `SELECT COUNT(*) FILTER (WHERE b.status = 'anchored')::int AS done, COUNT(*)::int AS n
       FROM epcis_events e LEFT JOIN batches b USING (batch_id) WHERE e.capture_id = $1`,
      [captureId],
    );
    return rows[0].n > 0 && rows[0].done === rows[0].n;
  });
}

async function proof(t: TestPlatform, token: string, eventID: string, expect = 200): Promise<ProofBundleV2> {
  const res = await request(t.app.server)
    .get(`/api/epcis/events/${encodeURIComponent(eventID)}/proof`)
    .set('authorization', `Bearer ${token}`);
  assert.equal(res.status, expect, JSON.stringify(res.body).slice(0, 300));
  return res.body as ProofBundleV2;
}

const EPCIS_CHECKS = [
  'EPCIS leaf hashes recompute from the signed messages',
  "EPCIS Merkle paths reach proven anchored roots of the events' owners",
  'EPCIS signer certificates chain to the pinned CA of the signing org',
  'EPCIS signatures over the messages verify',
  'EPCIS event hashes recompute from the events (CBV 2.0) and match their eventIDs',
  'device-derived EPCIS events: every source device message proven, certified at event time',
];

describe('EPCIS event proofs', () => {
  let t: TestPlatform;
  let tokens: Record<string, string>;
  let cas: Record<string, string>;
  let factoryEventId: string;
  let factoryBundle: ProofBundleV2;
  const verify = (b: ProofBundleV2) => verifyProofBundle(b, { trustedCaCertificates: cas });

  before(async () => {
    t = await startTestPlatform({ anchorBatchSize: 4, anchorIntervalMs: 200, loginRatePerMinute: 10_000 });
    tokens = await demoTokens(t, ['brand', 'factory1', 'factory2', 'financier', 'platform']);
    cas = t.platform.identity.caCertificates();
    await ownLocations(t, Orgs.factory1, ['urn:epc:id:sgln:0614141.07346.0', 'urn:epc:id:sgln:0012345.11111.0']);
    await ownLocations(t, Orgs.brand, ['urn:epc:id:sgln:0614141.00888.0', 'urn:epc:id:sgln:0614141.00777.0']);
    const res = await capture(t, tokens.factory1 as string, await gs1Example('Example_9.6.1-ObjectEvent.jsonld'));
    const job = await finished(t, tokens.factory1 as string, res.body.captureID);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    await anchored(t, job.captureID);
    factoryEventId = 'ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0';
    factoryBundle = await proof(t, tokens.factory1 as string, factoryEventId);
  });
  after(async () => t.close());

  test("a captured GS1 example event's bundle verifies offline, each EPCIS check on its own line", async () => {
    assert.equal(factoryBundle.workOrder, null);
    assert.equal(factoryBundle.epcisEvents?.length, 1);
    const r = await verify(factoryBundle);
    assert.ok(r.valid, JSON.stringify(r.checks.filter((c) => !c.ok)));
    for (const name of EPCIS_CHECKS) {
      const c = r.checks.find((x) => x.name === name);
      assert.ok(c?.ok, `${name}: ${c?.detail}`);
    }
    // The platform's own verification endpoint agrees.
    const server = await request(t.app.server).post('/api/proofs/verify').send({ bundle: factoryBundle }).expect(200);
    assert.equal(server.body.valid, true);
  });

  test('the CLI verifies it with pinned trust (exit 0) and refuses a forged one (exit 1)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'c2m-epcis-proof-'));
    try {
      const trustDir = await writeTrustDir(t, path.join(dir, 'trust'));
      const file = path.join(dir, 'bundle.json');
      await writeFile(file, JSON.stringify(factoryBundle));
      const ok = await promisify(execFile)(process.execPath, [CLI, file, '--ca-dir', trustDir]);
      assert.match(ok.stdout, /VERIFIED: 1 EPCIS events/);
      const forged = structuredClone(factoryBundle) as { epcisEvents: { signature: string }[] };
      forged.epcisEvents[0]!.signature = (factoryBundle.epcisEvents?.[1] ?? factoryBundle.epcisEvents?.[0])!.signature
        .split('')
        .reverse()
        .join('');
      await writeFile(file, JSON.stringify(forged));
      const bad = await promisify(execFile)(process.execPath, [CLI, file, '--ca-dir', trustDir]).catch(
        (e: { code: number; stdout: string }) => e,
      );
      assert.equal((bad as { code: number }).code, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('changing any character of the message, signature, certificate or Merkle path fails it', async () => {
    const e = factoryBundle.epcisEvents?.[0];
    assert.ok(e);
    const fields = ['message', 'signature', 'signerCertificate', 'proof', 'leafHash'] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.nat(), fc.nat(), async (field, at, by) => {
        const b = structuredClone(factoryBundle) as ProofBundleV2 & { epcisEvents: Record<string, unknown>[] };
        const target = b.epcisEvents[0] as Record<string, unknown>;
        const change = (s: string, alphabet: string) => {
          const i = at % s.length;
          const others = alphabet.replace(s[i] as string, '');
          return s.slice(0, i) + others[by % others.length] + s.slice(i + 1);
        };
        if (field === 'proof') {
          const steps = target.proof as { hash: string }[];
          if (steps.length === 0) return;
          const step = steps[at % steps.length] as { hash: string };
          step.hash = change(step.hash, '0123456789abcdef');
        } else if (field === 'leafHash') {
          target.leafHash = change(target.leafHash as string, '0123456789abcdef');
        } else if (field === 'signature') {
          target.signature = change(
            target.signature as string,
            'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
          );
        } else {
          const s = target[field] as string;
          // Inside the PEM body (not its header lines, whose change a parser may not notice) for the certificate.
          const body = field === 'signerCertificate' ? s.indexOf('\n') + 1 : 0;
          const end = field === 'signerCertificate' ? s.indexOf('\n-----END') : s.length;
          const i = body + (at % (end - body));
          if (s[i] === '\n') return;
          const alphabet =
            field === 'message'
              ? 'abcdefghijklmnopqrstuvwxyz0123456789{}[]":,ABCXYZ'
              : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
          const others = alphabet.replace(s[i] as string, '');
          target[field] = s.slice(0, i) + others[by % others.length] + s.slice(i + 1);
        }
        const r = await verify(b);
        assert.equal(r.valid, false, `${field} changed at ${at}`);
      }),
      { numRuns: 60 },
    );
  });

  test('a forged signer: another key, or another org signing for the owner, is refused', async () => {
    const e = factoryBundle.epcisEvents?.[0];
    assert.ok(e);
    // A key and self-made certificate nobody pinned.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const selfSigned = structuredClone(factoryBundle) as ProofBundleV2 & { epcisEvents: Record<string, unknown>[] };
    (selfSigned.epcisEvents[0] as Record<string, unknown>).signature = sign(
      'sha256',
      Buffer.from(e.message),
      privateKey,
    ).toString('base64');
    const r1 = await verify(selfSigned);
    assert.equal(r1.valid, false);
    assert.equal(r1.checks.find((c) => c.name === 'EPCIS signatures over the messages verify')?.ok, false);
    // factory2's real identity signing a message that says factory1 owns it: its certificate is not factory1's.
    const f2 = t.platform.identity.userIdentity('factory2');
    const other = structuredClone(factoryBundle) as ProofBundleV2 & { epcisEvents: Record<string, unknown>[] };
    const target = other.epcisEvents[0] as Record<string, unknown>;
    target.signerCertificate = f2.certificatePem;
    target.signature = Buffer.from(await f2.signMessage!(Buffer.from(e.message))).toString('base64');
    const r2 = await verify(other);
    assert.equal(r2.valid, false);
    assert.equal(
      r2.checks.find((c) => c.name === 'EPCIS signer certificates chain to the pinned CA of the signing org')?.ok,
      false,
    );
  });

  test('who may have the proof: the owner and the platform; another factory and finance (no work order) get 404', async () => {
    await proof(t, tokens.platform as string, factoryEventId);
    await proof(t, tokens.factory2 as string, factoryEventId, 404);
    await proof(t, tokens.financier as string, factoryEventId, 404);
    await proof(t, tokens.factory1 as string, 'urn:uuid:00000000-0000-4000-8000-000000000000', 404);
  });

  test("a brand's captured event is anchored in the brand's own batch and verifies", async () => {
    const doc = JSON.parse(await gs1Example('Example_9.6.3-AggregationEvent.jsonld'));
    const job = await finished(
      t,
      tokens.brand as string,
      (await capture(t, tokens.brand as string, JSON.stringify(doc))).body.captureID,
    );
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    await anchored(t, job.captureID);
    const eventID = doc.epcisBody.eventList[0].eventID as string;
    const bundle = await proof(t, tokens.brand as string, eventID);
    const anchor = Object.values(bundle.anchors)[0];
    assert.equal(anchor?.factoryMspId, Orgs.brand);
    const r = await verify(bundle);
    assert.ok(r.valid, JSON.stringify(r.checks.filter((c) => !c.ok)));
  });

  test("a device-derived event's proof reaches its device messages; dropping one fails it", async () => {
    const fixture = await anchoredWorkOrder(t, 'epcis-dev', 3);
    const { rows: messages } = await t.platform.pool.query(
      `SELECT e.leaf_hash, e.factory_msp, e.event_time FROM device_events e WHERE e.work_order_id = $1 ORDER BY e.id`,
      [fixture.workOrderId],
    );
    const factory = messages[0].factory_msp as string;
    // As the platform derives it (from-device.ts): signed by the platform's service identity, owned by the factory.
    const event = {
      type: 'ObjectEvent',
      eventTime: (messages[0].event_time as Date).toISOString(),
      eventTimeZoneOffset: '+08:00',
      epcList: ['https://id.gs1.org/01/06141410000014/21/77'],
      action: 'ADD',
      bizStep: 'commissioning',
      readPoint: { id: 'https://id.gs1.org/414/0614141073467/254/1' },
    };
    const eventHash = epcisEventHash(event);
    const recordTime = new Date().toISOString();
    const stored = { ...event, eventID: eventHash, recordTime };
    const platform = t.platform.identity.userIdentity(PLATFORM_USER);
    const m: EpcisSignedMessage = {
      tag: EPCIS_MESSAGE_TAG,
      eventID: eventHash,
      eventIdFrom: 'hash',
      eventHash,
      event: stored,
      ownerMspId: factory,
      signer: { mspId: platform.mspId, username: PLATFORM_USER },
      recordTime,
      sourceLeaves: messages.map((r) => r.leaf_hash as string),
    };
    const message = epcisMessage(m);
    const signature = Buffer.from(await platform.signMessage!(Buffer.from(message))).toString('base64');
    await withTransaction(t.platform.pool, (c) =>
      insertEvents(c, [
        {
          eventId: eventHash,
          eventHash,
          event: stored,
          index: indexEvent(stored, canonicalUri),
          ownerMsp: factory,
          source: 'device',
          workOrderId: fixture.workOrderId,
          recordTime,
          message,
          signature,
          signerCertificate: platform.certificatePem,
          sourceLeaves: m.sourceLeaves,
          leafHash: createHash('sha256')
            .update(Buffer.from([0]))
            .update(message)
            .digest('hex'),
        },
      ]),
    );
    await waitFor('device-derived event anchored', async () => {
      const { rows } = await t.platform.pool.query(
        `SELECT b.status FROM epcis_events e JOIN batches b USING (batch_id) WHERE e.event_id = $1`,
        [eventHash],
      );
      return rows[0]?.status === 'anchored';
    });
    const bundle = await proof(t, tokens.financier as string, eventHash);
    assert.equal(bundle.events.length, 3);
    const r = await verify(bundle);
    assert.ok(r.valid, JSON.stringify(r.checks.filter((c) => !c.ok)));
    assert.match(r.checks.find((c) => c.name.startsWith('device-derived'))?.detail ?? '', /^1\/1/);
    const dropped = { ...bundle, events: bundle.events.slice(1) };
    const r2 = await verify(dropped);
    assert.equal(r2.valid, false);
    assert.equal(r2.checks.find((c) => c.name.startsWith('device-derived'))?.ok, false);
  });
});
