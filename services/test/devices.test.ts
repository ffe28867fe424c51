import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createDeviceCsr, generateDeviceKeyPair } from '@c2m/identity';
import request from 'supertest';
import { certifiedAt, statesFromHistory } from '../src/iot/device-registry.js';
import { signPossessionChallenge } from '../src/iot/possession.js';
import { loadOrCreateDevice, type SimulatedDevice } from '../src/iot/simulator.js';
import { demoTokens, startTestPlatform, type TestPlatform, waitFor } from './helpers.js';

/**
 * Device identity over HTTP against the embedded ledger: proof of possession,
 * lifecycle with who and when, key rotation, certified-at from the ledger
 * agreeing with the ingest's rule, and fleet registration from CSV.
 */
describe('device identity lifecycle', () => {
  let t: TestPlatform;
  let stateDir: string;
  const tokens: Record<string, string> = {};
  const as = (user: string) => ({ Authorization: `Bearer ${tokens[user]}` });
  const api = () => request(t.app.server);
  let tag: string;

  before(async () => {
    t = await startTestPlatform();
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'c2m-dev-'));
    tag = t.config.redisPrefix.slice(-6);
    Object.assign(tokens, await demoTokens(t, ['factory1', 'factory2', 'certifier', 'financier']));
  });
  after(async () => {
    await t?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  async function newDevice(name: string): Promise<SimulatedDevice> {
    const deviceId = `${tag}-${name}`;
    const { device, csrPem } = await loadOrCreateDevice(stateDir, deviceId, 'Factory1Org');
    await api()
      .post('/api/devices')
      .set(as('factory1'))
      .send({ deviceId, model: 'Lonati GK616', serial: `SN-${name}`, line: 'line-1', csrPem })
      .expect(201);
    return device;
  }

  async function challenge(deviceId: string) {
    const res = await api().post(`/api/devices/${deviceId}/challenges`).set(as('certifier')).send({}).expect(201);
    return res.body as { challengeId: string; challenge: string; expiresAt: string };
  }

  async function certify(d: SimulatedDevice, key = d.privateKey) {
    const c = await challenge(d.deviceId);
    return api()
      .post(`/api/devices/${d.deviceId}/certify`)
      .set(as('certifier'))
      .send({ challengeId: c.challengeId, signature: signPossessionChallenge(key, d.deviceId, c.challenge) });
  }

  test('certification needs a fresh, single-use challenge signed by the key on the ledger', async () => {
    const d = await newDevice('pop');
    const other = await newDevice('pop-other');
    await api().post(`/api/devices/${d.deviceId}/challenges`).set(as('factory1')).send({}).expect(403);

    const c = await challenge(d.deviceId);
    assert.match(c.challenge, new RegExp(`^C2M-POP/1 ${d.deviceId} `));
    // The device tool refuses to sign something that is not a challenge for it.
    assert.throws(() => signPossessionChallenge(d.privateKey, d.deviceId, '{"seq":1}'), /not a proof-of-possession/);
    assert.throws(() => signPossessionChallenge(other.privateKey, other.deviceId, c.challenge), /names/);

    // Signed by another device's key: refused, and the attempt used the challenge up.
    const forged = signPossessionChallenge(other.privateKey, d.deviceId, c.challenge);
    const bad = await api()
      .post(`/api/devices/${d.deviceId}/certify`)
      .set(as('certifier'))
      .send({ challengeId: c.challengeId, signature: forged })
      .expect(400);
    assert.equal(bad.body.code, 'POSSESSION_NOT_PROVEN');
    const good = signPossessionChallenge(d.privateKey, d.deviceId, c.challenge);
    const reused = await api()
      .post(`/api/devices/${d.deviceId}/certify`)
      .set(as('certifier'))
      .send({ challengeId: c.challengeId, signature: good })
      .expect(409);
    assert.equal(reused.body.code, 'CHALLENGE_USED');

    // A challenge for one device does not certify another; an expired one does not certify at all.
    const c2 = await challenge(d.deviceId);
    const wrongDevice = await api()
      .post(`/api/devices/${other.deviceId}/certify`)
      .set(as('certifier'))
      .send({ challengeId: c2.challengeId, signature: signPossessionChallenge(d.privateKey, d.deviceId, c2.challenge) })
      .expect(404);
    assert.equal(wrongDevice.body.code, 'CHALLENGE_NOT_FOUND');
    await t.platform.pool.query(`UPDATE device_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      c2.challengeId,
    ]);
    const expired = await api()
      .post(`/api/devices/${d.deviceId}/certify`)
      .set(as('certifier'))
      .send({ challengeId: c2.challengeId, signature: signPossessionChallenge(d.privateKey, d.deviceId, c2.challenge) })
      .expect(409);
    assert.equal(expired.body.code, 'CHALLENGE_EXPIRED');
    const still = await api().get(`/api/devices/${d.deviceId}`).set(as('certifier')).expect(200);
    assert.equal(still.body.status, 'REGISTERED');

    const ok = await certify(d);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.status, 'CERTIFIED');
    // The ledger keeps the proof, so anyone can re-check it against the device key.
    const record = await t.platform.ledgerAccess.readDevice('platform', d.deviceId);
    const proof = (record.lastChange as { proof?: { challenge: string } }).proof;
    assert.match(proof?.challenge ?? '', /^C2M-POP\/1 /);
  });

  test('suspend, reactivate, revoke and key rotation: who may, in which state, recorded with who', async () => {
    const d = await newDevice('life');
    assert.equal((await certify(d)).status, 200);
    const byFactory = await api().post(`/api/devices/${d.deviceId}/suspend`).set(as('factory1')).send({}).expect(403);
    assert.equal(byFactory.body.code, 'FORBIDDEN');
    const wrongState = await api()
      .post(`/api/devices/${d.deviceId}/reactivate`)
      .set(as('certifier'))
      .send({})
      .expect(409);
    assert.equal(wrongState.body.code, 'INVALID_STATE');
    const s = await api()
      .post(`/api/devices/${d.deviceId}/suspend`)
      .set(as('certifier'))
      .send({ note: 'recalibration due' })
      .expect(200);
    assert.equal(s.body.status, 'SUSPENDED');
    await api().post(`/api/devices/${d.deviceId}/reactivate`).set(as('certifier')).send({}).expect(200);

    // Key rotation: only the owning factory, with a CSR for the device; the device must be certified again.
    const next = generateDeviceKeyPair();
    const csrPem = await createDeviceCsr(next.privateKey, next.publicKey, {
      deviceId: d.deviceId,
      mspId: 'Factory1Org',
    });
    const foreign = await api()
      .post(`/api/devices/${d.deviceId}/rotate-key`)
      .set(as('factory2'))
      .send({ csrPem })
      .expect(404);
    assert.equal(foreign.body.code, 'DEVICE_NOT_FOUND');
    await api().post(`/api/devices/${d.deviceId}/rotate-key`).set(as('certifier')).send({ csrPem }).expect(403);
    const rotated = await api()
      .post(`/api/devices/${d.deviceId}/rotate-key`)
      .set(as('factory1'))
      .send({ csrPem, note: 'controller board replaced' })
      .expect(200);
    assert.equal(rotated.body.device.status, 'REGISTERED');
    assert.equal(rotated.body.device.keyVersion, 2);
    assert.match(rotated.body.certificatePem, /BEGIN CERTIFICATE/);
    const oldKey = await certify(d);
    assert.equal(oldKey.status, 400);
    assert.equal(oldKey.body.code, 'POSSESSION_NOT_PROVEN');
    assert.equal((await certify(d, next.privateKey)).status, 200);

    const revoked = await api()
      .post(`/api/devices/${d.deviceId}/revoke`)
      .set(as('certifier'))
      .send({ note: 'tampered' })
      .expect(200);
    assert.equal(revoked.body.status, 'REVOKED');
    const after = await api().post(`/api/devices/${d.deviceId}/reactivate`).set(as('certifier')).send({}).expect(409);
    assert.equal(after.body.code, 'DEVICE_REVOKED');
    const noChallenge = await api().post(`/api/devices/${d.deviceId}/challenges`).set(as('certifier')).expect(409);
    const bare = await api().post(`/api/devices/${d.deviceId}/suspend`).set(as('certifier')).expect(409);
    assert.equal(bare.body.code, 'DEVICE_REVOKED');
    assert.equal(noChallenge.body.code, 'DEVICE_REVOKED');

    const detail = await api().get(`/api/devices/${d.deviceId}`).set(as('factory1')).expect(200);
    assert.deepEqual(
      detail.body.history.map((h: { action: string }) => h.action),
      ['register', 'certify', 'suspend', 'reactivate', 'rotateKey', 'certify', 'revoke'],
    );
    const rotation = detail.body.history[4];
    assert.equal(rotation.by, 'factory1@Factory1Org');
    assert.equal(rotation.note, 'controller board replaced');
    assert.equal(rotation.keyVersion, 2);
    assert.equal(detail.body.history[2].by, 'certifier@PlatformOrg');
  });

  test("certified-at from the ledger agrees with the ingest's rule over suspend, reactivate, rotate and revoke", async () => {
    const d = await newDevice('when');
    const pause = () => new Promise((r) => setTimeout(r, 15));
    assert.equal((await certify(d)).status, 200);
    await pause();
    await api().post(`/api/devices/${d.deviceId}/suspend`).set(as('certifier')).send({}).expect(200);
    await pause();
    await api().post(`/api/devices/${d.deviceId}/reactivate`).set(as('certifier')).send({}).expect(200);
    await pause();
    const next = generateDeviceKeyPair();
    const csrPem = await createDeviceCsr(next.privateKey, next.publicKey, {
      deviceId: d.deviceId,
      mspId: 'Factory1Org',
    });
    await api().post(`/api/devices/${d.deviceId}/rotate-key`).set(as('factory1')).send({ csrPem }).expect(200);
    await pause();
    assert.equal((await certify(d, next.privateKey)).status, 200);
    await pause();
    await api().post(`/api/devices/${d.deviceId}/revoke`).set(as('certifier')).send({}).expect(200);

    const history = await t.platform.ledgerAccess.deviceHistory('platform', d.deviceId);
    const states = statesFromHistory(history);
    assert.equal(states.length, 7);
    // Every change instant, a millisecond either side, and the middle of each interval.
    const times = new Set<number>();
    for (let i = 0; i < states.length; i++) {
      const from = states[i]?.from as number;
      for (const dt of [-1, 0, 1]) times.add(from + dt);
      const to = states[i + 1]?.from;
      if (to !== undefined) times.add(Math.floor((from + to) / 2));
    }
    times.add((states[0]?.from as number) - 60_000);
    const answers: boolean[] = [];
    for (const ms of [...times].sort((a, b) => a - b)) {
      const time = new Date(ms).toISOString();
      const res = await api()
        .get(`/api/devices/${d.deviceId}/certified-at`)
        .query({ time })
        .set(as('financier'))
        .expect(200);
      assert.equal(res.body.certified, certifiedAt(states, ms), `disagreement at ${time} (${res.body.status})`);
      answers.push(res.body.certified);
    }
    // Both answers occur, and the suspended and rotated intervals read as not certified.
    assert.ok(answers.includes(true) && answers.includes(false));
    const mid = (i: number) =>
      new Date(Math.floor(((states[i]?.from as number) + (states[i + 1]?.from as number)) / 2));
    const at = async (when: Date) =>
      (
        await api()
          .get(`/api/devices/${d.deviceId}/certified-at`)
          .query({ time: when.toISOString() })
          .set(as('financier'))
      ).body;
    assert.deepEqual(
      [await at(mid(2)), await at(mid(3)), await at(mid(4)), await at(mid(5)), await at(new Date())].map((a) => [
        a.status,
        a.certified,
      ]),
      [
        ['SUSPENDED', false],
        ['CERTIFIED', true],
        ['REGISTERED', false],
        ['CERTIFIED', true],
        ['REVOKED', false],
      ],
    );
    const hidden = await api()
      .get(`/api/devices/${d.deviceId}/certified-at`)
      .query({ time: new Date().toISOString() })
      .set(as('factory2'))
      .expect(404);
    assert.equal(hidden.body.code, 'DEVICE_NOT_FOUND');
    await api()
      .get(`/api/devices/${d.deviceId}/certified-at`)
      .query({ time: 'yesterday' })
      .set(as('financier'))
      .expect(400);
  });

  test('a fleet registers from CSV as a job with progress and a row report, and re-uploading it is idempotent', async () => {
    const fleet: { deviceId: string; csrPem: string }[] = [];
    for (let i = 1; i <= 4; i++) {
      const deviceId = `${tag}-fleet-${i}`;
      const k = generateDeviceKeyPair();
      fleet.push({
        deviceId,
        csrPem: await createDeviceCsr(k.privateKey, k.publicKey, { deviceId, mspId: 'Factory1Org' }),
      });
    }
    // Row 5 carries a CSR for another device id; row 6 a device registered earlier with another key.
    const taken = await newDevice('fleet-taken');
    const spare = generateDeviceKeyPair();
    const rows = [
      ...fleet.map((f, i) => [f.deviceId, 'Lonati GK616', `SN-F${i}`, 'line-2', f.csrPem]),
      [`${tag}-fleet-x`, 'Lonati GK616', 'SN-X', 'line-2', fleet[0]?.csrPem],
      [
        taken.deviceId,
        'Lonati GK616',
        'SN-T',
        'line-2',
        await createDeviceCsr(spare.privateKey, spare.publicKey, { deviceId: taken.deviceId, mspId: 'Factory1Org' }),
      ],
    ];
    const quote = (v: unknown) => `"${String(v).replaceAll('"', '""')}"`;
    const csv = ['deviceId,model,serial,line,csrPem', ...rows.map((r) => r.map(quote).join(','))].join('\r\n');

    const upload = async () => {
      const res = await api().post('/api/devices/bulk').set(as('factory1')).set('content-type', 'text/csv').send(csv);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.headers.location, `/api/devices/bulk/${res.body.jobId}`);
      return waitFor('the bulk job', async () => {
        const r = await api().get(`/api/devices/bulk/${res.body.jobId}`).set(as('factory1')).expect(200);
        return r.body.state === 'completed' ? r.body : undefined;
      });
    };
    const first = await upload();
    assert.equal(first.total, 6);
    assert.equal(first.progress, 100);
    assert.deepEqual(
      first.rows.map((r: { status: string; code: string | null }) => [r.status, r.code]),
      [
        ['registered', null],
        ['registered', null],
        ['registered', null],
        ['registered', null],
        ['failed', 'VALIDATION_FAILED'],
        ['failed', 'DEVICE_EXISTS'],
      ],
    );
    const list = await api().get('/api/devices').set(as('factory1')).expect(200);
    for (const f of fleet) assert.ok(list.body.items.some((d: { deviceId: string }) => d.deviceId === f.deviceId));
    const onLedger = await t.platform.ledgerAccess.readDevice('platform', fleet[0]?.deviceId as string);
    assert.equal(onLedger.certificateFingerprint, first.rows[0].certificateFingerprint);

    const second = await upload();
    assert.deepEqual(
      second.rows.map((r: { status: string }) => r.status),
      ['already_registered', 'already_registered', 'already_registered', 'already_registered', 'failed', 'failed'],
    );
    assert.deepEqual(
      second.rows.slice(0, 4).map((r: { certificateFingerprint: string }) => r.certificateFingerprint),
      first.rows.slice(0, 4).map((r: { certificateFingerprint: string }) => r.certificateFingerprint),
    );
    // Another factory does not see the job; a CSV without the columns is refused at once.
    await api().get(`/api/devices/bulk/${first.jobId}`).set(as('factory2')).expect(404);
    const badCsv = await api()
      .post('/api/devices/bulk')
      .set(as('factory1'))
      .set('content-type', 'text/csv')
      .send('id,model\nx,y\n')
      .expect(400);
    assert.equal(badCsv.body.code, 'VALIDATION_FAILED');
    // JSON rows work the same way.
    const json = await api()
      .post('/api/devices/bulk')
      .set(as('factory1'))
      .send({ rows: [{ deviceId: fleet[1]?.deviceId, model: 'm', serial: 's', line: 'l', csrPem: fleet[1]?.csrPem }] })
      .expect(202);
    const done = await waitFor('the JSON bulk job', async () => {
      const r = await api().get(`/api/devices/bulk/${json.body.jobId}`).set(as('factory1')).expect(200);
      return r.body.state === 'completed' ? r.body : undefined;
    });
    assert.equal(done.rows[0].status, 'already_registered');
  });

  test('a bulk row whose ledger write landed but was not marked done counts as registered on retry', async () => {
    const deviceId = `${tag}-retry-1`;
    const k = generateDeviceKeyPair();
    const csrPem = await createDeviceCsr(k.privateKey, k.publicKey, { deviceId, mspId: 'Factory1Org' });
    const res = await api()
      .post('/api/devices/bulk')
      .set(as('factory1'))
      .send({ rows: [{ deviceId, model: 'm', serial: 's', line: 'l', csrPem }] })
      .expect(202);
    const jobId = res.body.jobId as string;
    const finished = () =>
      waitFor('the bulk job', async () => {
        const r = await api().get(`/api/devices/bulk/${jobId}`).set(as('factory1')).expect(200);
        return r.body.state === 'completed' ? r.body : undefined;
      });
    const first = await finished();
    assert.equal(first.rows[0].status, 'registered');
    // As if the process died after the ledger committed but before the row was marked.
    await t.platform.pool.query(`UPDATE device_bulk_rows SET status = 'pending' WHERE job_id = $1`, [jobId]);
    await api().post(`/api/devices/bulk/${jobId}/retry`).set(as('factory2')).expect(404);
    const retried = await api().post(`/api/devices/bulk/${jobId}/retry`).set(as('factory1')).expect(202);
    assert.equal(retried.body.pending, 1);
    const again = await finished();
    assert.equal(again.rows[0].status, 'registered', JSON.stringify(again.rows[0]));
    assert.equal(again.rows[0].certificateFingerprint, first.rows[0].certificateFingerprint);
    const history = await t.platform.ledgerAccess.deviceHistory('platform', deviceId);
    assert.equal(history.length, 1, 'registered once on the ledger');
  });
});
