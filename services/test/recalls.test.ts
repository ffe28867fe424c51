import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { scopeDocument } from '../src/epcis/recalls.js';
import type { AuthUser } from '../src/plugins/auth.js';
import { startTestPlatform, type TestPlatform } from './helpers.js';
import { login } from './ingest-fixtures.js';
import { buildChain, type Chain, storeEvents } from './trace-fixture.js';

/**
 * Recalls from each kind of start (a lot, a device and window, a failing QC event), recorded on the ledger and
 * read back from it, moved to closure, exported as CSV and as an EPCIS query.
 */
let t: TestPlatform;
let c: Chain;
before(async () => {
  t = await startTestPlatform({ anchorBatchSize: 1000, anchorIntervalMs: 60_000, loginRatePerMinute: 100_000 });
  c = await buildChain(t, 'recall');
});
after(async () => {
  await t?.close();
});
const api = () => request(t.app.server);
const path = (uri: string) => uri.replace('https://id.gs1.org', '');

test('a recall from a lot: scope traced forward, on the ledger, moved to closure, exported', async () => {
  const brand = await login(t, 'brand');
  await api()
    .post('/api/recalls')
    .set(await login(t, c.factoryUser))
    .send({ lot: path(c.lotUri), reason: 'x' })
    .expect(403);
  await api().post('/api/recalls').set(brand).send({ reason: 'no start' }).expect(400);
  const res = await api()
    .post('/api/recalls')
    .set(brand)
    .send({ lot: path(c.lotUri), reason: 'needle fragment found in lot' })
    .expect(201);
  const r = res.body;
  assert.equal(r.status, 'OPEN');
  assert.deepEqual(r.workOrders, [c.workOrderId]);
  assert.deepEqual(r.summary.lots, [{ gtin: c.gtin, lot: c.lot }]);
  assert.equal(r.summary.counts.serials, 6);
  assert.equal(r.summary.counts.cartons, 3);

  // The ledger holds it, readable by a financier's org; the platform's table is not the source.
  const onLedger = await t.platform.ledgerAccess.readRecall('financier', r.id);
  assert.equal(onLedger.status, 'OPEN');
  assert.deepEqual(onLedger.scope.workOrders, [c.workOrderId]);
  assert.equal(onLedger.scopeHash, r.scopeHash);
  assert.equal(onLedger.reason, 'needle fragment found in lot');

  // Details, CSV and the EPCIS query; the CSV rows hash to the ledger's scopeHash.
  const detail = await api()
    .get(`/api/recalls/${r.id}`)
    .set(await login(t, 'financier'))
    .expect(200);
  const serialRow = detail.body.items.find((i: { epc: string }) => i.epc === c.serials[0]);
  assert.equal(serialRow.lastEventId, c.ids.ship);
  assert.equal(serialRow.lastLocation, c.warehouse);
  assert.equal(
    createHash('sha256')
      .update(scopeDocument(r.id, onLedger.scope.start, detail.body.items))
      .digest('hex'),
    onLedger.scopeHash,
  );
  const csv = await api().get(`/api/recalls/${r.id}/scope.csv`).set(brand).expect(200);
  assert.match(csv.headers['content-type'] ?? '', /text\/csv/);
  const lines = csv.text.trim().split('\r\n');
  assert.equal(lines[0], 'epc,kind,last_location,last_location_name,last_event_id,last_event_time');
  assert.equal(lines.length, detail.body.items.length + 1);
  assert.ok(lines.some((l) => l.startsWith(`${c.serials[0]},serial,${c.warehouse}`)));
  const q = await api().get(`/api/recalls/${r.id}/epcis-query`).set(brand).expect(200);
  assert.equal(q.body.params.MATCH_anyEPCClass, c.lotUri);
  assert.ok(q.body.params.MATCH_anyEPC.includes(c.serials[0]));
  assert.match(q.body.url, /^\/api\/epcis\/events\?MATCH_anyEPCClass=/);

  // Another factory does not see it; the work order's factory does.
  await api()
    .get(`/api/recalls/${r.id}`)
    .set(await login(t, c.otherFactoryUser))
    .expect(404);
  await api()
    .get(`/api/recalls/${r.id}`)
    .set(await login(t, c.factoryUser))
    .expect(200);

  // To closure, forward only, every step on the ledger.
  await api()
    .post(`/api/recalls/${r.id}/status`)
    .set(brand)
    .send({ status: 'NOTIFIED', note: 'retailers' })
    .expect(200);
  await api().post(`/api/recalls/${r.id}/status`).set(brand).send({ status: 'RETURNED' }).expect(200);
  const back = await api().post(`/api/recalls/${r.id}/status`).set(brand).send({ status: 'NOTIFIED' }).expect(409);
  assert.equal(back.body.code, 'INVALID_STATE');
  await api().post(`/api/recalls/${r.id}/status`).set(brand).send({ status: 'DESTROYED' }).expect(200);
  await api().post(`/api/recalls/${r.id}/status`).set(brand).send({ status: 'CLOSED' }).expect(200);
  const closed = await t.platform.ledgerAccess.readRecall('platform', r.id);
  assert.deepEqual(
    closed.history.map((h) => h.status),
    ['OPEN', 'NOTIFIED', 'RETURNED', 'DESTROYED', 'CLOSED'],
  );
  assert.deepEqual(await t.platform.recalls.openRecallsForLot(c.gtin, c.lot), []);
});

test('a recall from a device and a time window', async () => {
  const brand = await login(t, 'brand');
  const from = new Date(Date.parse(c.times.commission) - 1000).toISOString();
  const to = new Date(Date.parse(c.times.commission) + 1000).toISOString();
  const res = await api()
    .post('/api/recalls')
    .set(brand)
    .send({ deviceId: c.deviceId, from, to, reason: 'sensor drift on the knitting head' })
    .expect(201);
  assert.equal(res.body.start.kind, 'device');
  assert.equal(res.body.start.from, from);
  assert.deepEqual(res.body.workOrders, [c.workOrderId]);
  assert.ok(res.body.summary.counts.serials >= 6);
  const open = await t.platform.recalls.openRecallsForLot(c.gtin, c.lot);
  assert.ok(open.some((r) => r.recallId === res.body.id));
  await api()
    .post('/api/recalls')
    .set(brand)
    .send({ deviceId: c.deviceId, from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z', reason: 'x' })
    .expect(404);
});

test('a recall from a failing QC event; a passing one is refused; a brand recalls only its own', async () => {
  const brand = await login(t, 'brand');
  const passing = await api().post('/api/recalls').set(brand).send({ qcEvent: c.ids.inspect, reason: 'x' }).expect(409);
  assert.equal(passing.body.code, 'INVALID_STATE');
  const [failed] = await storeEvents(
    t,
    c.factoryMsp,
    [
      {
        '@context': [{ c2m: 'https://ns.c2m.network/epcis/' }],
        type: 'ObjectEvent',
        eventTime: new Date(Date.parse(c.times.inspect) + 500).toISOString(),
        eventTimeZoneOffset: '+00:00',
        epcList: [],
        quantityList: [{ epcClass: c.lotUri }],
        action: 'OBSERVE',
        bizStep: 'inspecting',
        disposition: 'non_conformant',
        readPoint: { id: c.line },
        'c2m:workOrder': c.workOrderId,
        'c2m:device': c.deviceId,
      },
    ],
    { brandMsp: 'BrandOrg' },
  );
  const res = await api()
    .post('/api/recalls')
    .set(brand)
    .send({ qcEvent: failed, reason: 'length out of tolerance' })
    .expect(201);
  assert.equal(res.body.start.kind, 'qc');
  assert.deepEqual(res.body.summary.lots, [{ gtin: c.gtin, lot: c.lot }]);

  // Another brand's user cannot trace the lot at all: 404, nothing recorded.
  const brand2: AuthUser = {
    username: 'b2',
    mspId: 'Brand2Org',
    orgKind: 'brand',
    role: 'brand-manager',
    displayName: 'b2',
  };
  await assert.rejects(t.platform.recalls.open(brand2, { kind: 'lot', lot: c.lotUri }, 'x'), { statusCode: 404 });
  // The chaincode itself refuses a lot that is not one of the work orders' lots.
  await assert.rejects(
    t.platform.ledgerAccess.openRecall('brand', {
      recallId: 'RCL-FORGED',
      scopeHash: 'a'.repeat(64),
      reason: 'forged',
      scope: {
        start: { kind: 'lot', id: 'x' },
        lots: [{ gtin: c.gtin, lot: 'NOT-A-LOT' }],
        gtins: [c.gtin],
        workOrders: [c.workOrderId],
        counts: {},
      },
    }),
    /ACCESS_DENIED|not a lot/,
  );
  const list = await api().get('/api/recalls').set(brand).expect(200);
  assert.ok(list.body.items.length >= 3);
});
