import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createDeviceCsr, generateDeviceKeyPair } from '@c2m/identity';
import mqtt from 'mqtt';
import request from 'supertest';
import { nextMessage, type SimulatedDevice, topicFor } from '../src/iot/simulator.js';
import type { ProofBundle } from '../src/trace/proof-bundle.js';
import { verifyProofBundle } from '../src/trace/verify-bundle.js';
import { startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { acceptedWorkOrder, certifiedDevicePerFactory, certify, login } from './ingest-fixtures.js';

/**
 * A device rotates its key mid-order. Events signed with the old key before the
 * rotation stay valid and provable; after it, only the new key is accepted, and
 * the proof bundle shows both certificates with the time each key was in force.
 */
let t: TestPlatform;
before(async () => {
  t = await startTestPlatform({ anchorBatchSize: 10, anchorIntervalMs: 200 });
});
after(async () => {
  await t?.close();
});

test('events verify with the key in force at their time, across a key rotation', async () => {
  const financier = await login(t, 'financier');
  // Certified devices first: dispatch offers the order only to a factory that has one.
  const fleet = await certifiedDevicePerFactory(t, 'rot-01');
  const { workOrderId, factoryUser: user, factory } = await acceptedWorkOrder(t, 'Rotation sock', 200);
  const device = fleet[user] as SimulatedDevice;
  const client = await mqtt.connectAsync(t.config.mqttUrl, { protocolVersion: 5 });
  const topic = topicFor(t.config.mqttTopicRoot, device);
  const publish = (d: SimulatedDevice, units: number) =>
    client.publishAsync(topic, JSON.stringify(nextMessage(d, 'production.count', { workOrderId, units })), { qos: 1 });
  try {
    for (let i = 0; i < 5; i++) await publish(device, 10);
    await waitFor('old-key events stored', async () => {
      const { rows } = await t.platform.pool.query(
        'SELECT COUNT(*)::int AS n FROM device_events WHERE device_id = $1',
        [device.deviceId],
      );
      return rows[0].n === 5;
    });

    // Rotate: new key, new certificate, re-certified with a proof of possession of the new key.
    const keys = generateDeviceKeyPair();
    const csrPem = await createDeviceCsr(keys.privateKey, keys.publicKey, {
      deviceId: device.deviceId,
      mspId: device.factoryMspId,
    });
    await request(t.app.server)
      .post(`/api/devices/${device.deviceId}/rotate-key`)
      .set(factory)
      .send({ csrPem, note: 'secure element replaced' })
      .expect(200);
    const rotated: SimulatedDevice = { ...device, privateKey: keys.privateKey };
    await certify(t, rotated);
    await new Promise((r) => setTimeout(r, 50));

    for (let i = 0; i < 5; i++) await publish(rotated, 20);
    // The old key after the rotation is refused.
    await publish(device, 999);
    await waitFor('new-key events stored and the old key refused', async () => {
      const stored = await t.platform.pool.query('SELECT COUNT(*)::int AS n FROM device_events WHERE device_id = $1', [
        device.deviceId,
      ]);
      const dead = await t.platform.pool.query(`SELECT reason FROM dead_letters WHERE device_id = $1`, [
        device.deviceId,
      ]);
      return stored.rows[0].n === 10 && dead.rows.length === 1 ? dead.rows[0].reason : undefined;
    }).then((reason) => assert.equal(reason, 'BAD_SIGNATURE'));
  } finally {
    await client.endAsync();
  }

  await waitFor('all events anchored', async () => {
    const { rows } = await t.platform.pool.query(
      `SELECT COUNT(*)::int AS n FROM device_events e JOIN batches b USING (batch_id)
       WHERE e.device_id = $1 AND b.status = 'anchored'`,
      [device.deviceId],
    );
    return rows[0].n === 10;
  });
  const res = await request(t.app.server).get(`/api/work-orders/${workOrderId}/proof`).set(financier).expect(200);
  const bundle = res.body as ProofBundle;
  assert.equal(bundle.events.length, 10);
  const d = bundle.devices[device.deviceId];
  assert.equal(Object.keys(d?.certificates ?? {}).length, 2, 'both certificates are in the bundle');
  const offline = await verifyProofBundle(bundle, { trustedCaCertificates: t.platform.identity.caCertificates() });
  assert.equal(offline.valid, true, JSON.stringify(offline.checks));
  const server = await request(t.app.server).post('/api/proofs/verify').send({ bundle }).expect(200);
  assert.equal(server.body.valid, true, JSON.stringify(server.body.checks));

  // Claiming the new key was in force all along breaks the old events' signatures.
  const flattened = {
    ...bundle,
    devices: {
      ...bundle.devices,
      [device.deviceId]: { ...d, states: d?.states.map((s) => ({ ...s, publicKeyPem: d.publicKeyPem })) },
    },
  } as ProofBundle;
  const bad = await verifyProofBundle(flattened, { trustedCaCertificates: t.platform.identity.caCertificates() });
  assert.equal(bad.valid, false);
});
