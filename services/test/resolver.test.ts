import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import request from 'supertest';
import { commitment } from '../src/epcis/consumer.js';
import { startTestPlatform, type TestPlatform } from './helpers.js';
import { login } from './ingest-fixtures.js';
import { buildChain, type Chain } from './trace-fixture.js';

/**
 * The GS1 Digital Link resolver's content negotiation, QR codes, and the public consumer view of a serial with
 * its recall banner read from the ledger and its redacted event proof.
 */
let t: TestPlatform;
let c: Chain;
before(async () => {
  t = await startTestPlatform({ anchorBatchSize: 1000, anchorIntervalMs: 60_000, loginRatePerMinute: 100_000 });
  c = await buildChain(t, 'resolve');
});
after(async () => {
  await t?.close();
});
const api = () => request(t.app.server);
const path = (uri: string) => uri.replace('https://id.gs1.org', '');
const VOC = 'https://gs1.org/voc/';

test('the resolver: linkset for machines, the consumer page for browsers, 400 for a bad check digit', async () => {
  const s1 = path(c.serials[0] as string);
  const ls = await api().get(s1).set('accept', 'application/linkset+json').expect(200);
  assert.match(ls.headers['content-type'] ?? '', /application\/linkset\+json/);
  const set = ls.body.linkset[0];
  assert.match(set.anchor, new RegExp(`${s1}$`));
  for (const type of ['pip', 'traceability', 'certificationInfo', 'recallStatus', 'defaultLink']) {
    assert.ok(set[`${VOC}${type}`]?.[0]?.href, type);
  }
  assert.deepEqual(set[`${VOC}pip`][0].hreflang, ['en', 'zh']);
  assert.match(ls.headers.link ?? '', /rel="linkset"/);

  const html = await api().get(s1).set('accept', 'text/html,application/xhtml+xml').expect(307);
  assert.match(html.headers.location ?? '', new RegExp(`/consumer${s1}$`));
  assert.match(html.headers.vary ?? '', /Accept/);
  const typed = await api().get(`${s1}?linkType=gs1:traceability`).expect(307);
  assert.match(typed.headers.location ?? '', new RegExp(`/api/public/products${s1}$`));
  await api().get(`${s1}?linkType=gs1:nothing`).expect(404);
  const all = await api().get(`${s1}?linkType=all`).expect(200);
  assert.ok(all.body.linkset);

  const lot = await api().get(path(c.lotUri)).set('accept', 'text/html').expect(307);
  assert.match(lot.headers.location ?? '', /\/consumer\/01\//);
  const sscc = await api().get(path(c.carton1)).set('accept', 'application/linkset+json').expect(200);
  assert.ok(sscc.body.linkset[0][`${VOC}traceability`]);

  const wrong = `${c.gtin.slice(0, 13)}${(Number(c.gtin.slice(13)) + 1) % 10}`;
  const bad = await api().get(`/01/${wrong}/21/1`).set('accept', 'text/html').expect(400);
  assert.equal(bad.body.code, 'VALIDATION_FAILED');
  // A well-formed GTIN nobody registered here.
  await api().get('/01/00000000000017/21/1').set('accept', 'text/html').expect(404);
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), async (a, b) => {
      const r = await api().get(`/01/${encodeURIComponent(a || '0')}/21/${encodeURIComponent(b || '0')}`);
      assert.ok([307, 400, 404].includes(r.status), `${a} ${b}: ${r.status}`);
    }),
    { numRuns: 100 },
  );
});

test('QR codes in SVG and PNG encode the resolver URI', async () => {
  const s1 = path(c.serials[0] as string);
  const svg = await api().get(`/api/qr${s1}.svg`).expect(200);
  assert.match(svg.headers['content-type'] ?? '', /image\/svg\+xml/);
  assert.match(String(svg.text ?? svg.body), /<svg/);
  const png = await api().get(`/api/qr${s1}.png?size=128`).buffer(true).expect(200);
  assert.match(png.headers['content-type'] ?? '', /image\/png/);
  assert.deepEqual([...(png.body as Buffer).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  await api().get(`/api/qr${s1}.gif`).expect(400);
  await api().get('/api/qr/01/12345678901234/21/1.svg').expect(400);
});

test('the consumer view: public facts, no prices or terms, and the recall banner from the ledger', async () => {
  const [, gtin, serial] = /\/01\/(\d{14})\/21\/(\d+)$/.exec(c.serials[0] as string) as RegExpExecArray;
  const url = `/api/public/products/01/${gtin}/21/${serial}`;
  const p = await api().get(url).expect(200);
  assert.equal(p.body.brand.names.en, 'Lanyue Apparel');
  assert.equal(p.body.factory.mspId, c.factoryMsp);
  assert.equal(p.body.lot, c.lot);
  assert.ok(
    p.body.devices.some(
      (d: { deviceId: string; certifiedAtEventTime: boolean }) => d.deviceId === c.deviceId && d.certifiedAtEventTime,
    ),
  );
  assert.equal(p.body.qc[0].disposition, 'conformant');
  assert.ok(p.body.shipping.some((s: { eventID: string }) => s.eventID === c.ids.ship));
  assert.deepEqual(p.body.recalls, []);
  assert.doesNotMatch(JSON.stringify(p.body), /price|terms|Minor|brand_user|factory_user|"username"/i);

  const brand = await login(t, 'brand');
  const opened = await api()
    .post('/api/recalls')
    .set(brand)
    .send({ lot: path(c.lotUri), reason: 'dye batch failed azo test' })
    .expect(201);
  const withRecall = await api().get(url).expect(200);
  assert.equal(withRecall.body.recalls.length, 1);
  assert.equal(withRecall.body.recalls[0].source, 'ledger');
  assert.equal(withRecall.body.recalls[0].reason, 'dye batch failed azo test');
  assert.equal(withRecall.body.recalls[0].txId, opened.body.ledger.txId);
  // Even if the platform's own table lied, the banner comes from the ledger record.
  await t.platform.pool.query(`UPDATE recalls SET status = 'CLOSED' WHERE id = $1`, [opened.body.id]);
  assert.equal((await api().get(url).expect(200)).body.recalls.length, 1);
  await api().post(`/api/recalls/${opened.body.id}/status`).set(brand).send({ status: 'CLOSED' }).expect(200);
  assert.equal((await api().get(url).expect(200)).body.recalls.length, 0);

  // The redacted bundle: disclosed fields, salted commitments for the rest, stable between requests.
  const b1 = await api().get(`${url}/proof`).expect(200);
  const b2 = await api().get(`${url}/proof`).expect(200);
  assert.deepEqual(b1.body.events, b2.body.events);
  const commission = b1.body.events.find((e: { eventID: string }) => e.eventID === c.ids.commission);
  assert.equal(commission.disclosed.bizStep, 'commissioning');
  assert.equal(commission.disclosed.epcList, undefined);
  assert.match(commission.redacted['c2m:workOrder'], /^[0-9a-f]{64}$/);
  const { rows } = await t.platform.pool.query('SELECT salt FROM consumer_redaction_salts WHERE event_id = $1', [
    c.ids.commission,
  ]);
  assert.equal(commission.redacted['c2m:workOrder'], commitment(rows[0].salt, 'c2m:workOrder', c.workOrderId));
  assert.doesNotMatch(JSON.stringify(b1.body), new RegExp(c.workOrderId));
  await api().get('/api/public/products/01/00000000000017/21/1').expect(404);
});
