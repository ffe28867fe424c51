import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { after, before, test } from 'node:test';
import { epcisEventHash, gs1CheckDigit } from '@c2m/shared';
import fc from 'fast-check';
import mqtt from 'mqtt';
import request from 'supertest';
import { withTransaction } from '../src/db/database.js';
import { DERIVED_CONTEXT, type DeviceRow, deriveFromDeviceEvents } from '../src/epcis/from-device.js';
import { identityEventSigner } from '../src/epcis/signer.js';
import { nextMessage, type SimulatedDevice, topicFor } from '../src/iot/simulator.js';
import { startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { acceptedWorkOrder, certifiedDevicePerFactory, login } from './ingest-fixtures.js';

/**
 * Product identity on GS1 keys: prefixes, GTINs, locations and SSCCs are checked before they are stored; a
 * factory starts a work order under lots that reach the ledger; device messages become EPCIS events that
 * commission the lot's serials at the line's SGLN, signed by the platform.
 */
let t: TestPlatform;
before(async () => {
  t = await startTestPlatform({ anchorBatchSize: 1000, anchorIntervalMs: 60_000 });
});
after(async () => {
  await t?.close();
});

const api = () => request(t.app.server);
const validKey = (k: string) => String(gs1CheckDigit(k.slice(0, -1))) === k.slice(-1);

test('company prefixes, GTINs, locations and SSCCs are checked and owned', async () => {
  const brand = await login(t, 'brand');
  const factory1 = await login(t, 'factory1');
  const factory2 = await login(t, 'factory2');
  await api().post('/api/gs1/products').set(brand).send({ sku: 'S-1' }).expect(409);
  await api().put('/api/gs1/company-prefix').set(brand).send({ companyPrefix: '69414' }).expect(400);
  await api().put('/api/gs1/company-prefix').set(brand).send({ companyPrefix: '6941410' }).expect(200);
  await api().put('/api/gs1/company-prefix').set(factory1).send({ companyPrefix: '6941420' }).expect(200);
  const overlap = await api()
    .put('/api/gs1/company-prefix')
    .set(factory2)
    .send({ companyPrefix: '694142' })
    .expect(409);
  assert.equal(overlap.body.code, 'CONFLICT');
  await api().put('/api/gs1/company-prefix').set(factory2).send({ companyPrefix: '6941430' }).expect(200);

  // GTINs: a wrong check digit, another prefix, then the next free one.
  const badCheck = await api()
    .post('/api/gs1/products')
    .set(brand)
    .send({ sku: 'S-1', gtin: '06941410000011' })
    .expect(400);
  assert.match(badCheck.body.message, /check digit/);
  await api().post('/api/gs1/products').set(brand).send({ sku: 'S-1', gtin: '06941420000017' }).expect(400);
  const p = await api().post('/api/gs1/products').set(brand).send({ sku: 'S-1', name: 'Sock' }).expect(200);
  assert.match(p.body.gtin, /^06941410[0-9]{6}$/);
  assert.ok(validKey(p.body.gtin));
  assert.equal(p.body.uri, `https://id.gs1.org/01/${p.body.gtin}`);
  const again = await api().post('/api/gs1/products').set(brand).send({ sku: 'S-1' }).expect(200);
  assert.equal(again.body.gtin, p.body.gtin);
  await api().post('/api/gs1/products').set(factory1).send({ sku: 'S-1' }).expect(403);

  // Locations: a site (next free GLN), a line as an SGLN extension of it; another org cannot hang on it.
  const site = await api()
    .post('/api/gs1/locations')
    .set(factory1)
    .send({ kind: 'site', name: 'Zhuji plant' })
    .expect(200);
  assert.match(site.body.gln, /^6941420[0-9]{6}$/);
  assert.ok(validKey(site.body.gln));
  const line = await api()
    .post('/api/gs1/locations')
    .set(factory1)
    .send({ kind: 'line', name: 'Line 1', parentUri: site.body.uri, extension: '1', line: 'line-1' })
    .expect(200);
  assert.equal(line.body.uri, `https://id.gs1.org/414/${site.body.gln}/254/1`);
  await api()
    .post('/api/gs1/locations')
    .set(factory2)
    .send({ kind: 'line', parentUri: site.body.uri, extension: '2' })
    .expect(404);
  await api().post('/api/gs1/locations').set(factory2).send({ kind: 'site', gln: site.body.gln }).expect(400);
  const list = await api().get('/api/gs1/locations').set(factory2).expect(200);
  assert.deepEqual(list.body.items, []);

  const ssccs = await api().post('/api/gs1/sscc').set(factory1).send({ count: 3 }).expect(200);
  assert.equal(new Set(ssccs.body.items.map((s: { sscc: string }) => s.sscc)).size, 3);
  for (const s of ssccs.body.items) {
    assert.match(s.sscc, /^06941420[0-9]{10}$/);
    assert.ok(validKey(s.sscc));
  }
});

test('hostile GTINs and locations are refused with a clear error and store nothing', async () => {
  const brand = await login(t, 'brand');
  const before = (await api().get('/api/gs1/products').set(brand).expect(200)).body.items.length;
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 20 }), fc.string({ maxLength: 30 }), async (sku, gtin) => {
      const res = await api()
        .post('/api/gs1/products')
        .set(brand)
        .send({ sku: `X${sku}`, gtin });
      if (res.status === 200) assert.ok(validKey(res.body.gtin) && res.body.gtin.startsWith('06941410'));
      else assert.ok([400, 409].includes(res.status), `status ${res.status}`);
    }),
    { numRuns: 40 },
  );
  const after = (await api().get('/api/gs1/products').set(brand).expect(200)).body.items;
  assert.ok(after.every((p: { gtin: string }) => validKey(p.gtin)));
  assert.ok(after.length >= before);
});

test('a started work order carries lots on the ledger; device counts commission its serials at the line', async () => {
  const fleet = await certifiedDevicePerFactory(t, 'gs1');
  const { workOrderId, factoryUser, factory } = await acceptedWorkOrder(t, 'Lot sock', 300);
  const other = await login(t, factoryUser === 'factory1' ? 'factory2' : 'factory1');
  await api().post(`/api/work-orders/${workOrderId}/start`).set(other).expect(404);
  const started = await api().post(`/api/work-orders/${workOrderId}/start`).set(factory).expect(200);
  assert.equal(started.body.items.length, 1);
  const lot = started.body.items[0];
  assert.equal(lot.quantity, 300);
  assert.equal(lot.serialTo - lot.serialFrom + 1, 300);
  const again = await api().post(`/api/work-orders/${workOrderId}/start`).set(factory).expect(200);
  assert.deepEqual(again.body.items, started.body.items);
  const onLedger = await waitFor('lots on the ledger', async () => {
    const r = await t.platform.ledgerAccess.readWorkOrder('platform', workOrderId);
    return Array.isArray(r.lots) && r.lots.length > 0 ? r : undefined;
  });
  assert.deepEqual(onLedger.lots, [
    { gtin: lot.gtin, lot: lot.lot, quantity: 300, serialFrom: lot.serialFrom, serialTo: lot.serialTo },
  ]);

  // The factory's line 1 (registered in the first test for factory1; register it here for factory2).
  if (factoryUser === 'factory2') {
    const site = await api().post('/api/gs1/locations').set(factory).send({ kind: 'site' }).expect(200);
    await api()
      .post('/api/gs1/locations')
      .set(factory)
      .send({ kind: 'line', parentUri: site.body.uri, extension: '1', line: 'line-1' })
      .expect(200);
  }
  const device = fleet[factoryUser] as SimulatedDevice;
  const client = await mqtt.connectAsync(t.config.mqttUrl, { protocolVersion: 5 });
  try {
    const topic = topicFor(t.config.mqttTopicRoot, device);
    for (const units of [120, 150, 40]) {
      await client.publishAsync(
        topic,
        JSON.stringify(nextMessage(device, 'production.count', { workOrderId, units })),
        {
          qos: 1,
        },
      );
    }
    const qc = { workOrderId, characteristic: 'length_mm', value: 251, lowerLimit: 245, upperLimit: 255, pass: false };
    await client.publishAsync(topic, JSON.stringify(nextMessage(device, 'quality.measurement', qc)), { qos: 1 });
  } finally {
    await client.endAsync();
  }
  const rows = await waitFor('stored messages', async () => {
    const { rows } = await t.platform.pool.query(
      `SELECT e.*, d.line FROM device_events e JOIN devices d USING (device_id) WHERE work_order_id = $1 ORDER BY id`,
      [workOrderId],
    );
    return rows.length === 4 ? (rows as DeviceRow[]) : undefined;
  });
  const signer = identityEventSigner(t.platform.identity.userIdentity('platform'), 'platform');
  const stored = await withTransaction(t.platform.pool, (c) => deriveFromDeviceEvents(c, rows, signer, (u) => u));
  assert.equal(stored.length, 4);
  const { rows: events } = await t.platform.pool.query(
    'SELECT * FROM epcis_events WHERE work_order_id = $1 ORDER BY id',
    [workOrderId],
  );
  const [a, b, c, q] = events.map((e) => e.event);
  assert.equal(a.bizStep, 'commissioning');
  assert.equal(a.epcList.length, 120);
  assert.equal(a.epcList[0], `https://id.gs1.org/01/${lot.gtin}/21/${lot.serialFrom}`);
  assert.equal(b.epcList[0], `https://id.gs1.org/01/${lot.gtin}/21/${lot.serialFrom + 120}`);
  // 120 + 150 + 40 = 310: the last 10 are over-production, counted against the lot's class.
  assert.equal(c.epcList.length, 30);
  assert.equal(c['c2m:overProduction'], 10);
  assert.match(a.readPoint.id, /^https:\/\/id\.gs1\.org\/414\/[0-9]{13}\/254\/1$/);
  assert.equal(q.bizStep, 'inspecting');
  assert.equal(q.disposition, 'non_conformant');
  assert.equal(q.sensorElementList[0].sensorReport[0].type, 'gs1:MT-Length');
  for (const e of events) {
    const { eventID, recordTime: _r, ...body } = e.event;
    assert.equal(eventID, epcisEventHash(body, DERIVED_CONTEXT));
    assert.equal(e.event_id, eventID);
    assert.equal(e.brand_msp, 'BrandOrg');
    assert.deepEqual(e.event['c2m:sourceMessages'], e.source_leaves);
    const key = createPublicKey(e.signer_certificate);
    assert.ok(verify('sha256', Buffer.from(e.message), key, Buffer.from(e.signature, 'base64')));
  }
  const lots = await api().get(`/api/work-orders/${workOrderId}/lots`).set(factory).expect(200);
  assert.equal(lots.body.items[0].nextSerial, lot.serialTo + 1);
  // Deriving the same messages again stores nothing and commissions no further serials.
  const replay = await withTransaction(t.platform.pool, (c) => deriveFromDeviceEvents(c, rows, signer, (u) => u));
  assert.deepEqual(replay, []);
  const unchanged = await api().get(`/api/work-orders/${workOrderId}/lots`).set(factory).expect(200);
  assert.equal(unchanged.body.items[0].nextSerial, lot.serialTo + 1);
});
