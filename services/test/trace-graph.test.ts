import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import request from 'supertest';
import type { AuthUser } from '../src/plugins/auth.js';
import { startTestPlatform, type TestPlatform } from './helpers.js';
import { login } from './ingest-fixtures.js';
import { buildChain, type Chain } from './trace-fixture.js';

/**
 * The trace graph over a real EPCIS store: backward from a serial through its lot, the transformation that
 * made the lot, the device and line that made it, cartons and a pallet (with a serial taken out again) and
 * the shipment; forward from the yarn lot, the device and the line; access as the EPCIS query's.
 */
let t: TestPlatform;
let c: Chain;
before(async () => {
  t = await startTestPlatform({ anchorBatchSize: 1000, anchorIntervalMs: 60_000, loginRatePerMinute: 100_000 });
  c = await buildChain(t, 'trace');
});
after(async () => {
  await t?.close();
});

const api = () => request(t.app.server);
interface G {
  nodes: { id: string; kind: string; events: string[]; data: Record<string, unknown>; lastLocation?: unknown }[];
  edges: { from: string; to: string; kind: string; eventID?: string; since?: string; until?: string }[];
  events: Record<string, { proof: string; bizStep: string | null }>;
}
const node = (g: G, id: string) => g.nodes.find((n) => n.id === id);
const edge = (g: G, from: string, to: string, kind?: string) =>
  g.edges.find((e) => e.from === from && e.to === to && (!kind || e.kind === kind));
const path = (uri: string) => uri.replace('https://id.gs1.org', '');

test('backward from a serial: lot, yarn, work order, factory, line, device, QC, carton, pallet, shipment', async () => {
  const brand = await login(t, 'brand');
  const s1 = c.serials[0] as string;
  const res = await api()
    .get(`/api/trace${path(s1)}?direction=backward`)
    .set(brand)
    .expect(200);
  const g = res.body as G;
  assert.equal(res.body.root, s1);
  assert.ok(edge(g, c.lotUri, s1, 'lotOf'), 'serial belongs to its lot');
  assert.ok(edge(g, c.material, c.lotUri, 'transformed'), 'the lot was made from the yarn lot');
  assert.ok(edge(g, c.carton1, s1, 'contains'));
  assert.ok(edge(g, c.pallet, c.carton1, 'contains'));
  assert.ok(edge(g, `workOrder:${c.workOrderId}`, s1, 'producedUnder'));
  assert.ok(edge(g, `factory:${c.factoryMsp}`, `workOrder:${c.workOrderId}`, 'madeBy'));
  assert.ok(edge(g, c.line, s1, 'madeAt'));
  const device = node(g, `device:${c.deviceId}`);
  assert.ok(device, 'the device that made it');
  assert.equal((device.data.certifiedAtEventTime as Record<string, boolean>)[c.ids.commission as string], true);
  assert.ok(edge(g, `device:${c.deviceId}`, s1, 'producedBy'));
  assert.ok(edge(g, `device:${c.deviceId}`, c.lotUri, 'inspectedBy'));
  const qc = node(g, `event:${c.ids.inspect}`);
  assert.equal(qc?.kind, 'qc');
  assert.equal(qc?.data.disposition, 'conformant');
  const shipment = node(g, `event:${c.ids.ship}`);
  assert.equal(shipment?.kind, 'shipment');
  assert.ok(edge(g, c.pallet, `event:${c.ids.ship}`, 'shipped'));
  assert.deepEqual(node(g, s1)?.lastLocation, {
    uri: c.warehouse,
    name: 'trace warehouse',
    eventID: c.ids.ship,
    eventTime: c.times.ship,
  });
  // Every node's events resolve, each with its proof route; no sibling serial was pulled in.
  for (const n of g.nodes)
    for (const id of n.events) assert.match(g.events[id]?.proof ?? '', /^\/api\/epcis\/events\/.+\/proof$/);
  assert.equal(node(g, c.serials[1] as string), undefined);

  // The same trace from the EPC URN and the URL-encoded Digital Link.
  const [, gtin, serial] = /01\/(\d{14})\/21\/(\d+)/.exec(s1) as RegExpExecArray;
  const cp = '6941410';
  const urn = `urn:epc:id:sgtin:${cp}.${(gtin as string).slice(0, 1)}${(gtin as string).slice(8, 13)}.${serial}`;
  const byUrn = await api()
    .get(`/api/trace/${encodeURIComponent(urn)}`)
    .set(brand)
    .expect(200);
  assert.equal(byUrn.body.root, s1);
  const byDl = await api()
    .get(`/api/trace/${encodeURIComponent(s1)}`)
    .set(brand)
    .expect(200);
  assert.equal(byDl.body.nodes.length, g.nodes.length);
});

test('disaggregation: a serial taken out of a carton did not ship with it; association carries a serial', async () => {
  const brand = await login(t, 'brand');
  const s3 = c.serials[2] as string;
  const g = (
    await api()
      .get(`/api/trace${path(s3)}`)
      .set(brand)
      .expect(200)
  ).body as G;
  const held = edge(g, c.carton1, s3, 'contains');
  assert.equal(held?.until, c.times.unpack, 'the carton held it until the unpacking');
  assert.equal(node(g, `event:${c.ids.ship}`), undefined, 'the pallet shipped after it was taken out');
  assert.equal(edge(g, c.pallet, c.carton1), undefined, 'the carton went on the pallet without it');
  assert.equal((node(g, s3)?.lastLocation as { eventID: string } | undefined)?.eventID, c.ids.unpack);

  const s6 = c.serials[5] as string;
  const a = (
    await api()
      .get(`/api/trace${path(s6)}`)
      .set(brand)
      .expect(200)
  ).body as G;
  assert.ok(edge(a, c.crate, s6, 'associated'));
  assert.ok(edge(a, c.crate, `event:${c.ids.ship}`, 'shipped'));
});

test('backward from an SSCC: its contents (with the one taken out), their lot and origin, the shipment', async () => {
  const factory = await login(t, c.factoryUser);
  const g = (
    await api()
      .get(`/api/trace${path(c.carton1)}`)
      .set(factory)
      .expect(200)
  ).body as G;
  for (const s of c.serials.slice(0, 3)) assert.ok(edge(g, c.carton1, s, 'contains'), s);
  assert.ok(edge(g, c.lotUri, c.serials[0] as string, 'lotOf'));
  assert.ok(edge(g, c.material, c.lotUri, 'transformed'));
  assert.ok(node(g, `event:${c.ids.ship}`));
});

test('forward from the yarn lot: every serial, carton, pallet and shipment, each with its last location', async () => {
  const brand = await login(t, 'brand');
  const g = (
    await api()
      .get(`/api/trace${path(c.material)}?direction=forward`)
      .set(brand)
      .expect(200)
  ).body as G;
  assert.ok(edge(g, c.material, c.lotUri, 'transformed'));
  for (const s of c.serials) assert.ok(node(g, s), `serial ${s} affected`);
  for (const box of [c.carton1, c.carton2, c.pallet, c.crate]) assert.ok(node(g, box), box);
  assert.ok(node(g, `event:${c.ids.ship}`));
  const loc = (s: string) => (node(g, s)?.lastLocation as { uri: string; eventID: string }) ?? {};
  assert.equal(loc(c.serials[0] as string).eventID, c.ids.ship);
  assert.equal(loc(c.serials[4] as string).eventID, c.ids.ship);
  assert.equal(loc(c.serials[2] as string).eventID, c.ids.unpack);
  assert.equal(loc(c.serials[5] as string).uri, c.warehouse);
  // Only the 6 serials some event names, not the 300 of the lot's range.
  assert.equal(g.nodes.filter((n) => n.kind === 'serial').length, 6);
});

test('forward from a device or a line within a time window', async () => {
  const factory = await login(t, c.factoryUser);
  const device = encodeURIComponent(`https://ns.c2m.network/epcis/devices/${c.deviceId}`);
  const from = new Date(Date.parse(c.times.commission) - 1000).toISOString();
  const to = new Date(Date.parse(c.times.commission) + 1000).toISOString();
  const g = (await api().get(`/api/trace/${device}?direction=forward&from=${from}&to=${to}`).set(factory).expect(200))
    .body as G;
  for (const s of c.serials) assert.ok(node(g, s));
  assert.ok(node(g, c.pallet));
  // A window before anything happened: nothing to trace.
  await api()
    .get(`/api/trace/${device}?direction=forward&from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`)
    .set(factory)
    .expect(404);
  await api().get(`/api/trace/${device}?direction=backward`).set(factory).expect(400);

  const line = (
    await api()
      .get(`/api/trace/${encodeURIComponent(c.line)}?direction=forward&from=${from}&to=${to}`)
      .set(factory)
      .expect(200)
  ).body as G;
  for (const s of c.serials) assert.ok(node(line, s));
});

test('access: another factory and another brand get 404, a financier sees it; hostile paths are 400 or 404', async () => {
  const s1 = path(c.serials[0] as string);
  const other = await login(t, c.otherFactoryUser);
  const res = await api().get(`/api/trace${s1}`).set(other).expect(404);
  assert.equal(res.body.code, 'NOT_FOUND');
  await api()
    .get(`/api/trace${s1}`)
    .set(await login(t, 'financier'))
    .expect(200);
  await api().get(`/api/trace${s1}`).expect(401);
  const brand2: AuthUser = {
    username: 'b2',
    mspId: 'Brand2Org',
    orgKind: 'brand',
    role: 'brand-manager',
    displayName: 'b2',
  };
  await assert.rejects(t.platform.traceGraph.trace(brand2, c.serials[0] as string, { direction: 'backward' }), {
    statusCode: 404,
  });
  // A wrong check digit is 400.
  const badGtin = `${c.gtin.slice(0, 13)}${(Number(c.gtin.slice(13)) + 1) % 10}`;
  const bad = await api()
    .get(`/api/trace/01/${badGtin}/21/1`)
    .set(await login(t, 'brand'))
    .expect(400);
  assert.equal(bad.body.code, 'VALIDATION_FAILED');

  const brand = await login(t, 'brand');
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.constantFrom('01/', '00/123', '414/1/254/x', 'urn:epc:id:sgtin:', '%E0%A4%A', '..%2F..%2Fetc'),
        fc.tuple(fc.stringMatching(/^[0-9]{14}$/), fc.string({ maxLength: 25 })).map(([g, s]) => `01/${g}/21/${s}`),
      ),
      async (raw) => {
        const r = await api()
          .get(`/api/trace/${encodeURIComponent(raw)}?direction=forward`)
          .set(brand);
        assert.ok([400, 404].includes(r.status), `${raw}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      },
    ),
    { numRuns: 150 },
  );
});
