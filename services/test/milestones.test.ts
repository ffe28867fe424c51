import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mqtt from 'mqtt';
import request from 'supertest';
import { nextMessage, type SimulatedDevice, topicFor } from '../src/iot/simulator.js';
import { startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { acceptedWorkOrder, certifiedDevicePerFactory, login } from './ingest-fixtures.js';

/**
 * A work order's milestones end to end: production and QC are recorded on the
 * ledger only when anchored device events prove them; each milestone only by
 * the party entitled to it and in order; the order follows to delivered and
 * the brand closes it.
 */
let t: TestPlatform;
before(async () => {
  t = await startTestPlatform({ anchorBatchSize: 10, anchorIntervalMs: 200 });
});
after(async () => {
  await t?.close();
});

test('milestones are proven by anchored events, recorded in order by the entitled party, and close the order', async () => {
  const brand = await login(t, 'brand');
  // Certified devices first: dispatch offers the order only to a factory that has one.
  const fleet = await certifiedDevicePerFactory(t, 'ms-01');
  const { orderId, workOrderId: woId, factoryUser: user, factory } = await acceptedWorkOrder(t, 'Milestone sock', 600);
  const milestone = (as: { Authorization: string }, m: string) =>
    request(t.app.server).post(`/api/work-orders/${woId}/milestones`).set(as).send({ milestone: m });

  // Nothing produced yet: the claim is refused and nothing changes.
  const early = await milestone(factory, 'PRODUCED').expect(409);
  assert.equal(early.body.code, 'INVALID_STATE');
  assert.match(early.body.message, /0 of 600 units/);

  const device = fleet[user] as SimulatedDevice;
  const client = await mqtt.connectAsync(t.config.mqttUrl, { protocolVersion: 5 });
  try {
    const topic = topicFor(t.config.mqttTopicRoot, device);
    for (let i = 0; i < 6; i++) {
      await client.publishAsync(
        topic,
        JSON.stringify(nextMessage(device, 'production.count', { workOrderId: woId, units: 120 })),
        { qos: 1 },
      );
    }
    for (let i = 0; i < 2; i++) {
      const data = {
        workOrderId: woId,
        characteristic: 'length_mm',
        value: 250,
        lowerLimit: 245,
        upperLimit: 255,
        pass: true,
      };
      await client.publishAsync(topic, JSON.stringify(nextMessage(device, 'quality.measurement', data)), { qos: 1 });
    }
  } finally {
    await client.endAsync();
  }
  await waitFor('the events anchored', async () => {
    const { rows } = await t.platform.pool.query(
      `SELECT COUNT(*)::int AS n FROM device_events e JOIN batches b USING (batch_id)
       WHERE e.work_order_id = $1 AND b.status = 'anchored'`,
      [woId],
    );
    return rows[0].n === 8;
  });

  const producedRes = await milestone(factory, 'PRODUCED');
  assert.equal(producedRes.status, 201, JSON.stringify(producedRes.body));
  const produced = producedRes;
  // 720 reported against 600 ordered: 600 count, 120 are over-production.
  assert.equal(produced.body.evidence.anchoredUnits, 600);
  assert.equal(produced.body.evidence.overProduction, 120);
  assert.ok(produced.body.evidence.anchorBatches.count >= 1);
  assert.match(produced.body.evidence.anchorBatches.hash, /^[0-9a-f]{64}$/);
  const afterProduced = await request(t.app.server).get(`/api/orders/${orderId}`).set(brand).expect(200);
  assert.equal(afterProduced.body.status, 'in_production');

  // The brand cannot claim QC; delivery cannot come before shipping (the ledger's order of milestones).
  assert.equal((await milestone(brand, 'QC_PASSED').expect(403)).body.code, 'FORBIDDEN');
  await milestone(factory, 'QC_PASSED').expect(201);
  assert.equal((await milestone(brand, 'DELIVERED').expect(409)).body.code, 'INVALID_STATE');
  await milestone(factory, 'SHIPPED').expect(201);
  await milestone(brand, 'DELIVERED').expect(201);

  const list = await request(t.app.server)
    .get(`/api/work-orders/${woId}/milestones`)
    .set(await login(t, 'financier'))
    .expect(200);
  assert.deepEqual(
    list.body.items.map((m: { milestone: string }) => m.milestone),
    ['PRODUCED', 'QC_PASSED', 'SHIPPED', 'DELIVERED'],
  );
  const onLedger = await t.platform.ledgerAccess
    .readWorkOrder('platform', woId)
    .catch(async () => t.platform.ledgerAccess.readWorkOrder(user, woId));
  assert.equal(onLedger.status, 'DELIVERED');

  const delivered = await request(t.app.server).get(`/api/orders/${orderId}`).set(brand).expect(200);
  assert.equal(delivered.body.status, 'delivered');
  const closed = await request(t.app.server).post(`/api/orders/${orderId}/close`).set(brand).send({}).expect(200);
  assert.equal(closed.body.status, 'closed');
  await request(t.app.server).post(`/api/orders/${orderId}/close`).set(brand).send({}).expect(409);
});
