import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import request from 'supertest';
import { signDeviceMessage } from '../src/iot/device-message.js';
import { signPossessionChallenge } from '../src/iot/possession.js';
import { loadOrCreateDevice, nextMessage, runSimulator, type SimulatedDevice, topicFor } from '../src/iot/simulator.js';
import type { ProofBundle } from '../src/trace/proof-bundle.js';
import { verifyProofBundle } from '../src/trace/verify-bundle.js';
import { demoTokens, startTestPlatform, type TestPlatform, waitFor } from './helpers.js';

/**
 * The walking skeleton end to end, over HTTP and MQTT against real PostgreSQL,
 * Redis and Mosquitto and the embedded ledger running the compiled chaincode:
 * devices registered and certified on the ledger → order → dispatch to a factory
 * with certified devices → accept (work order on the ledger) → signed events
 * over MQTT → ingest → Merkle batch anchored → proof bundle that verifies, and a
 * tampered one that does not.
 */
describe('walking skeleton: order to verified proof bundle', () => {
  let t: TestPlatform;
  const tokens: Record<string, string> = {};
  const EVENTS = 60;

  before(async () => {
    t = await startTestPlatform({ anchorBatchSize: 25, anchorIntervalMs: 300 });
    Object.assign(tokens, await demoTokens(t, ['brand', 'factory1', 'factory2', 'certifier', 'financier']));
  });
  after(async () => {
    await t?.close();
  });

  const as = (user: string) => ({ Authorization: `Bearer ${tokens[user]}` });

  let orderId: string;
  let workOrderId: string;
  let factoryUser: string;
  let otherFactoryUser: string;
  let factoryMspId: string;
  /** Each factory's certified devices; the one the order goes to publishes with its own. */
  const fleets: Record<string, SimulatedDevice[]> = { factory1: [], factory2: [] };
  const devices: SimulatedDevice[] = [];

  test('health, readiness and the OpenAPI document', async () => {
    await request(t.app.server).get('/health').expect(200, { status: 'ok' });
    const ready = await request(t.app.server).get('/ready').expect(200);
    assert.deepEqual(Object.keys(ready.body.checks).sort(), [
      'ingest',
      'ledger',
      'mqtt',
      'postgres',
      'redis',
      'schedulers',
    ]);
    const doc = await request(t.app.server).get('/docs/json').expect(200);
    assert.ok(doc.body.paths['/api/orders']);
    assert.ok(doc.body.paths['/api/work-orders/{workOrderId}/proof']);
  });

  test('a wrong password, a missing token and bad input get clear errors', async () => {
    const bad = await request(t.app.server)
      .post('/api/auth/login')
      .send({ username: 'brand', password: 'x' })
      .expect(401);
    assert.equal(bad.body.code, 'UNAUTHENTICATED');
    const none = await request(t.app.server).get('/api/orders').expect(401);
    assert.equal(none.body.code, 'UNAUTHENTICATED');
    const invalid = await request(t.app.server)
      .post('/api/orders')
      .set(as('brand'))
      .send({ product: 'x', lines: [], targetPriceMinor: 1, currency: 'CNY', dueDate: '2027-01-01', shipTo: 'x' })
      .expect(400);
    assert.equal(invalid.body.code, 'VALIDATION_FAILED');
    const unknownField = await request(t.app.server)
      .post('/api/orders')
      .set(as('brand'))
      .send({
        product: 'x',
        lines: [{ sku: 'A', quantity: 1 }],
        targetPriceMinor: 1,
        currency: 'CNY',
        dueDate: '2027-01-01',
        shipTo: 'x',
        discount: 50,
      })
      .expect(400);
    assert.equal(unknownField.body.code, 'VALIDATION_FAILED');
    const factoryPosting = await request(t.app.server)
      .post('/api/orders')
      .set(as('factory1'))
      .send({
        product: 'x',
        lines: [{ sku: 'A', quantity: 1 }],
        targetPriceMinor: 1,
        currency: 'CNY',
        dueDate: '2027-01-01',
        shipTo: 'x',
      })
      .expect(403);
    assert.equal(factoryPosting.body.code, 'FORBIDDEN');
    const { rows } = await t.platform.pool.query('SELECT COUNT(*)::int AS n FROM orders');
    assert.equal(rows[0].n, 0, 'rejected requests change nothing');
  });

  test('factories register devices and only the certifier can certify them', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'c2m-devices-'));
    for (const [user, mspId] of [
      ['factory1', 'Factory1Org'],
      ['factory2', 'Factory2Org'],
    ] as const) {
      for (const name of ['knit-01', 'knit-02']) {
        const deviceId = `${t.config.redisPrefix.slice(-6)}-${user}-${name}`;
        const { device, csrPem } = await loadOrCreateDevice(stateDir, deviceId, mspId);
        const reg = await request(t.app.server)
          .post('/api/devices')
          .set(as(user))
          .send({ deviceId, model: 'Lonati GK616', serial: `SN-${user}-${name}`, line: 'line-1', csrPem })
          .expect(201);
        assert.equal(reg.body.device.status, 'REGISTERED');
        assert.equal(reg.body.device.factoryMspId, mspId);
        assert.match(reg.body.certificatePem, /BEGIN CERTIFICATE/);
        fleets[user]?.push(device);
      }
    }
    const all = [...(fleets.factory1 ?? []), ...(fleets.factory2 ?? [])];
    const byFactory = await request(t.app.server)
      .post(`/api/devices/${all[0]?.deviceId}/challenges`)
      .set(as('factory1'))
      .send({})
      .expect(403);
    assert.equal(byFactory.body.code, 'FORBIDDEN');
    for (const d of all) {
      // Proof of possession: the certifier's challenge, signed by the device's own key.
      const c = await request(t.app.server)
        .post(`/api/devices/${d.deviceId}/challenges`)
        .set(as('certifier'))
        .send({})
        .expect(201);
      const res = await request(t.app.server)
        .post(`/api/devices/${d.deviceId}/certify`)
        .set(as('certifier'))
        .send({
          challengeId: c.body.challengeId,
          signature: signPossessionChallenge(d.privateKey, d.deviceId, c.body.challenge),
          note: 'calibrated',
        })
        .expect(200);
      assert.equal(res.body.status, 'CERTIFIED');
    }
    const other = await request(t.app.server)
      .get(`/api/devices/${fleets.factory1?.[0]?.deviceId}`)
      .set(as('factory2'))
      .expect(404);
    assert.equal(other.body.code, 'DEVICE_NOT_FOUND');
  });

  test('a brand posts an order and dispatch offers it to a factory with certified devices', async () => {
    const res = await request(t.app.server)
      .post('/api/orders')
      .set(as('brand'))
      .send({
        product: 'Merino crew sock',
        lines: [
          { sku: 'MCS-GRY-M', colour: 'grey', size: 'M', quantity: 600 },
          { sku: 'MCS-NVY-L', colour: 'navy', size: 'L', quantity: 400 },
        ],
        spec: { materials: ['merino 70%'], requiredCertificates: ['OEKO-TEX 100'] },
        targetPriceMinor: 1250,
        currency: 'CNY',
        dueDate: '2027-01-15',
        shipTo: 'Hangzhou DC',
      })
      .expect(201);
    orderId = res.body.id;
    assert.equal(res.body.totalQuantity, 1000);
    const found = await waitFor('an offer', async () => {
      for (const user of ['factory1', 'factory2']) {
        const offers = await request(t.app.server).get('/api/offers?status=open').set(as(user)).expect(200);
        const offer = offers.body.items.find((o: { orderId: string }) => o.orderId === orderId);
        if (offer) return { user, offer };
      }
      return undefined;
    });
    factoryUser = found.user;
    otherFactoryUser = factoryUser === 'factory1' ? 'factory2' : 'factory1';
    factoryMspId = found.offer.factoryMspId;
    assert.equal(found.offer.quantity, 1000);
    devices.push(...(fleets[factoryUser] ?? []));
    // The brand sees why that factory could take it: its line has certified devices.
    const profile = await request(t.app.server)
      .get(`/api/factories/${factoryMspId}/profile`)
      .set(as('brand'))
      .expect(200);
    assert.deepEqual(
      profile.body.lines.find((l: { id: string }) => l.id === 'line-1'),
      { id: 'line-1', certifiedDevices: 2 },
    );

    // The other factory cannot see or take it; the brand cannot see another brand's data (only one brand here).
    const stolen = await request(t.app.server)
      .post(`/api/offers/${found.offer.id}/accept`)
      .set(as(otherFactoryUser))
      .expect(404);
    assert.equal(stolen.body.code, 'OFFER_NOT_FOUND');

    const accepted = await request(t.app.server)
      .post(`/api/offers/${found.offer.id}/accept`)
      .set(as(factoryUser))
      .expect(200);
    workOrderId = accepted.body.workOrder.id;
    assert.equal(accepted.body.offer.status, 'accepted');
    assert.ok(accepted.body.workOrder.ledger?.txId, 'the work order is committed on the ledger');
    const again = await request(t.app.server)
      .post(`/api/offers/${found.offer.id}/accept`)
      .set(as(factoryUser))
      .expect(409);
    assert.equal(again.body.code, 'OFFER_CLOSED');

    const order = await request(t.app.server).get(`/api/orders/${orderId}`).set(as('brand')).expect(200);
    assert.equal(order.body.status, 'accepted');
    assert.deepEqual(
      order.body.history.map((h: { action: string }) => h.action),
      ['posted', 'offered', 'offer_accepted'],
    );
    const ledger = await request(t.app.server).get('/api/ledger').set(as('financier')).expect(200);
    assert.ok(ledger.body.height >= 2);
  });

  test('devices publish signed events over MQTT; bad ones are dead-lettered, good ones stored and anchored', async () => {
    await runSimulator({
      mqttUrl: t.config.mqttUrl,
      topicRoot: t.config.mqttTopicRoot,
      devices,
      ratePerSecond: 2000,
      count: EVENTS,
      workOrderId,
    });
    // Misbehaviour: a forged signature, a replayed sequence number, an unknown device, garbage.
    const client = await mqtt.connectAsync(t.config.mqttUrl, { protocolVersion: 5 });
    const d0 = devices[0] as SimulatedDevice;
    const forged = nextMessage(d0, 'production.count', { workOrderId, units: 999 });
    await client.publishAsync(
      topicFor(t.config.mqttTopicRoot, d0),
      JSON.stringify({
        ...forged,
        sig: signDeviceMessage(
          JSON.parse(forged.body),
          (await loadOrCreateDevice(await mkdtemp(path.join(os.tmpdir(), 'c2m-x-')), 'intruder', factoryMspId)).device
            .privateKey,
        ).sig,
      }),
      { qos: 1 },
    );
    const replay = signDeviceMessage(
      {
        v: 1,
        deviceId: d0.deviceId,
        seq: 1,
        time: new Date().toISOString(),
        type: 'production.count',
        data: { workOrderId, units: 500 },
      },
      d0.privateKey,
    );
    await client.publishAsync(topicFor(t.config.mqttTopicRoot, d0), JSON.stringify(replay), { qos: 1 });
    await client.publishAsync(
      `${t.config.mqttTopicRoot}/${factoryMspId}/ghost-1/events`,
      JSON.stringify(
        signDeviceMessage(
          {
            v: 1,
            deviceId: 'ghost-1',
            seq: 1,
            time: new Date().toISOString(),
            type: 'production.count',
            data: { workOrderId, units: 1 },
          },
          d0.privateKey,
        ),
      ),
      { qos: 1 },
    );
    await client.publishAsync(topicFor(t.config.mqttTopicRoot, d0), '{"not json', { qos: 1 });
    await client.endAsync();

    await waitFor('all good events stored', async () => {
      const { rows } = await t.platform.pool.query(
        'SELECT COUNT(*)::int AS n FROM device_events WHERE work_order_id = $1',
        [workOrderId],
      );
      return rows[0].n === EVENTS;
    });
    const reasons = await waitFor('four dead letters', async () => {
      const { rows } = await t.platform.pool.query('SELECT reason FROM dead_letters ORDER BY id');
      return rows.length >= 4 ? rows.map((r) => r.reason as string).sort() : undefined;
    });
    assert.deepEqual(reasons, ['BAD_SIGNATURE', 'MALFORMED_JSON', 'REPLAY', 'UNKNOWN_DEVICE']);
    await waitFor('every event anchored', async () => {
      const { rows } = await t.platform.pool.query(
        `SELECT COUNT(*)::int AS n FROM device_events e JOIN batches b USING (batch_id) WHERE e.work_order_id = $1 AND b.status = 'anchored'`,
        [workOrderId],
      );
      return rows[0].n === EVENTS;
    });
    // The EPCIS events derived from those messages join the factory's next batch when theirs was full.
    await waitFor('every batch anchored, derived EPCIS events included', async () => {
      const { rows } = await t.platform.pool.query(
        `SELECT (SELECT COUNT(*) FROM batches WHERE status <> 'anchored')::int
              + (SELECT COUNT(*) FROM epcis_events WHERE batch_id IS NULL)::int AS pending`,
      );
      return rows[0].pending === 0;
    });
    const wo = await request(t.app.server).get(`/api/work-orders/${workOrderId}`).set(as('financier')).expect(200);
    assert.ok(wo.body.producedUnits > 0);
    const anchors = await request(t.app.server).get('/api/anchors').set(as('financier')).expect(200);
    assert.ok(anchors.body.items.length >= 3, 'batches of 25 give at least three anchors');
    assert.ok(anchors.body.items.every((a: { status: string; txId: string }) => a.status === 'anchored' && a.txId));
  });

  test('a financier fetches a proof bundle that verifies, and a tampered one that does not', async () => {
    const res = await request(t.app.server)
      .get(`/api/work-orders/${workOrderId}/proof`)
      .set(as('financier'))
      .expect(200);
    const bundle = res.body as ProofBundle;
    assert.equal(bundle.events.length, EVENTS);
    const server = await request(t.app.server).post('/api/proofs/verify').send({ bundle }).expect(200);
    assert.equal(server.body.valid, true, JSON.stringify(server.body.checks));
    assert.ok(
      server.body.checks.some((c: { name: string; ok: boolean }) => c.name.startsWith('anchors proven') && c.ok),
    );

    // Stand-alone: only the bundle and the consortium's CA certificates, no server.
    const offline = await verifyProofBundle(bundle, { trustedCaCertificates: t.platform.identity.caCertificates() });
    assert.equal(offline.valid, true, JSON.stringify(offline.checks));

    // Tamper with one event: more units than the device reported.
    const e0 = bundle.events[0] as ProofBundle['events'][number];
    const tampered = {
      ...bundle,
      events: [{ ...e0, message: e0.message.replace(/"units":\d+/, '"units":9999') }, ...bundle.events.slice(1)],
    };
    const bad = await request(t.app.server).post('/api/proofs/verify').send({ bundle: tampered }).expect(200);
    assert.equal(bad.body.valid, false);
    const failing = bad.body.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name);
    assert.ok(failing.includes('device signatures with the ledger key in force'));
    assert.ok(failing.includes('Merkle paths reach proven anchored roots'));

    // A forged anchor root is caught against the ledger even with a consistent tree.
    const [batchId, anchor] = Object.entries(bundle.anchors)[0] as [string, ProofBundle['anchors'][string]];
    const forgedAnchor = {
      ...bundle,
      anchors: { ...bundle.anchors, [batchId]: { ...anchor, merkleRoot: '00'.repeat(32) } },
    };
    const forged = await request(t.app.server).post('/api/proofs/verify').send({ bundle: forgedAnchor }).expect(200);
    assert.equal(forged.body.valid, false);

    // Without pinned trust nothing is proven, and the verifier says so.
    const unpinned = await verifyProofBundle(bundle);
    assert.equal(unpinned.valid, false);
    assert.match(unpinned.checks[0]?.detail ?? '', /no pinned CA/);

    // The summary form: every anchor with the totals committed on the ledger, and a sample of events.
    const summary = (
      await request(t.app.server)
        .get(`/api/work-orders/${workOrderId}/proof?form=summary&sample=3`)
        .set(as('financier'))
        .expect(200)
    ).body as ProofBundle;
    assert.equal(summary.events.length, 3);
    assert.deepEqual(Object.keys(summary.anchors).sort(), Object.keys(bundle.anchors).sort());
    const proven = await request(t.app.server).post('/api/proofs/verify').send({ bundle: summary }).expect(200);
    assert.equal(proven.body.valid, true, JSON.stringify(proven.body.checks));
    const wo = await request(t.app.server).get(`/api/work-orders/${workOrderId}`).set(as('financier')).expect(200);
    assert.equal(proven.body.totals.units, wo.body.producedUnits);
    assert.equal(proven.body.totals.events, EVENTS);

    // The other factory may not read this work order's bundle.
    await request(t.app.server).get(`/api/work-orders/${workOrderId}/proof`).set(as(otherFactoryUser)).expect(404);
  });
});
