import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ProofBundleV2 } from '@c2m/shared';
import mqtt from 'mqtt';
import request from 'supertest';
import { nextMessage, type SimulatedDevice, topicFor } from '../src/iot/simulator.js';
import { verifyProofBundle } from '../src/trace/verify-bundle.js';
import { capture, finished } from './epcis-fixtures.js';
import { demoTokens, startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { acceptedWorkOrder, certifiedDevicePerFactory } from './ingest-fixtures.js';

/**
 * The traceability spine end to end on the real services: a factory starts a work order under lots; its
 * certified device's counts become commissioning events of the lot's serials when the anchorer cuts them, in
 * the same batches; such an event's proof bundle verifies offline and reaches the device's signature; the
 * factory packs the serials into cartons and a pallet and ships it (EPCIS capture), which records SHIPPED; the
 * brand receives it at its DC, which records DELIVERED.
 */
let t: TestPlatform;
let tokens: Record<string, string>;
before(async () => {
  t = await startTestPlatform({ anchorBatchSize: 40, anchorIntervalMs: 300 });
  tokens = await demoTokens(t, ['brand', 'factory1', 'factory2']);
});
after(async () => {
  await t?.close();
});

const as = (user: string) => ({ authorization: `Bearer ${tokens[user]}` });
const api = () => request(t.app.server);
const events = async (user: string, query: string) =>
  (await api().get(`/api/epcis/events?${query}`).set(as(user)).expect(200)).body.epcisBody.queryResults.resultsBody
    .eventList as Record<string, unknown>[];

test('counts commission serials, the proof reaches the device, shipping and receiving record the milestones', async () => {
  // Identity: prefixes, the brand's DC, each factory's site and line 1.
  await api().put('/api/gs1/company-prefix').set(as('brand')).send({ companyPrefix: '6901234' }).expect(200);
  const dc = await api()
    .post('/api/gs1/locations')
    .set(as('brand'))
    .send({ kind: 'warehouse', name: 'DC' })
    .expect(200);
  const sites: Record<string, { uri: string }> = {};
  for (const [user, prefix] of [
    ['factory1', '6941420'],
    ['factory2', '6941430'],
  ] as const) {
    await api().put('/api/gs1/company-prefix').set(as(user)).send({ companyPrefix: prefix }).expect(200);
    const site = await api().post('/api/gs1/locations').set(as(user)).send({ kind: 'site' }).expect(200);
    await api()
      .post('/api/gs1/locations')
      .set(as(user))
      .send({ kind: 'line', parentUri: site.body.uri, extension: '1', line: 'line-1' })
      .expect(200);
    sites[user] = site.body;
  }

  const fleet = await certifiedDevicePerFactory(t, 'flow');
  const { workOrderId, factoryUser } = await acceptedWorkOrder(t, 'Flow sock', 240);
  const [lot] = (await api().post(`/api/work-orders/${workOrderId}/start`).set(as(factoryUser)).expect(200)).body.items;
  const device = fleet[factoryUser] as SimulatedDevice;
  const client = await mqtt.connectAsync(t.config.mqttUrl, { protocolVersion: 5 });
  try {
    const topic = topicFor(t.config.mqttTopicRoot, device);
    for (let i = 0; i < 10; i++) {
      await client.publishAsync(
        topic,
        JSON.stringify(nextMessage(device, 'production.count', { workOrderId, units: 24 })),
        {
          qos: 1,
        },
      );
    }
    const qc = { workOrderId, characteristic: 'length_mm', value: 250, lowerLimit: 245, upperLimit: 255, pass: true };
    await client.publishAsync(topic, JSON.stringify(nextMessage(device, 'quality.measurement', qc)), { qos: 1 });
  } finally {
    await client.endAsync();
  }

  // Derived when cut, anchored in the batches of the factory.
  const commissioned = await waitFor(
    'commissioning events anchored',
    async () => {
      const { rows } = await t.platform.pool.query(
        `SELECT e.event_id FROM epcis_events e JOIN batches b ON b.batch_id = e.batch_id AND b.status = 'anchored'
         WHERE e.work_order_id = $1 AND e.biz_step = 'commissioning'`,
        [workOrderId],
      );
      return rows.length === 10 ? rows.map((r) => r.event_id as string) : undefined;
    },
    60_000,
  );
  const visible = await events(
    'brand',
    `EQ_bizStep=commissioning&MATCH_epcClass=${encodeURIComponent(lot.uri)}&perPage=50`,
  );
  // The brand sees its product's events (by class, the lot's serials are instances of it) — or by serial:
  const bySerial = await events('brand', `MATCH_epc=${encodeURIComponent(lot.firstSerialUri)}`);
  assert.equal(bySerial.length, 1);
  assert.equal(bySerial[0]?.bizStep, 'commissioning');
  assert.ok(visible.length <= 10);

  const proof = await api()
    .get(`/api/epcis/events/${encodeURIComponent(commissioned[0] as string)}/proof`)
    .set(as('brand'))
    .expect(200);
  const bundle = proof.body as ProofBundleV2;
  const verdict = await verifyProofBundle(bundle, { trustedCaCertificates: t.platform.identity.caCertificates() });
  assert.ok(verdict.valid, JSON.stringify(verdict.checks.filter((c) => !c.ok)));
  assert.ok(bundle.events.length >= 1, 'the source device message travels with the derived event');
  const names = verdict.checks.map((c) => c.name).join(' | ');
  assert.match(names, /device signatures/);

  // PRODUCED and QC_PASSED are proven by the anchored device events.
  for (const m of ['PRODUCED', 'QC_PASSED']) {
    await api()
      .post(`/api/work-orders/${workOrderId}/milestones`)
      .set(as(factoryUser))
      .send({ milestone: m })
      .expect(201);
  }

  // Pack 240 serials into 10 cartons, the cartons onto a pallet, ship it to the brand's DC.
  const serials = (
    await t.platform.pool.query(
      `SELECT x.epc FROM epcis_events e JOIN epcis_event_epcs x ON x.event_pk = e.id AND x.role = 'epc'
       WHERE e.work_order_id = $1 AND e.biz_step = 'commissioning' ORDER BY x.epc`,
      [workOrderId],
    )
  ).rows.map((r) => r.epc as string);
  assert.equal(serials.length, 240);
  const ssccs = (await api().post('/api/gs1/sscc').set(as(factoryUser)).send({ count: 11 }).expect(200)).body.items.map(
    (s: { uri: string }) => s.uri,
  ) as string[];
  const site = (sites[factoryUser] as { uri: string }).uri;
  const at = (m: number) => new Date(Date.now() - 3600_000 + m * 60_000).toISOString();
  const base = { eventTimeZoneOffset: '+08:00', readPoint: { id: site }, bizLocation: { id: site } };
  const doc = (eventList: unknown[]) =>
    JSON.stringify({
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: new Date().toISOString(),
      epcisBody: { eventList },
    });
  const packing = ssccs.slice(0, 10).map((carton, i) => ({
    type: 'AggregationEvent',
    eventTime: at(i),
    parentID: carton,
    childEPCs: serials.slice(i * 24, (i + 1) * 24),
    action: 'ADD',
    bizStep: 'packing',
    disposition: 'in_progress',
    ...base,
  }));
  const pallet = ssccs[10] as string;
  const shipping = {
    type: 'ObjectEvent',
    eventTime: at(15),
    epcList: [pallet],
    action: 'OBSERVE',
    bizStep: 'shipping',
    disposition: 'in_transit',
    ...base,
    destinationList: [{ type: 'location', destination: dc.body.uri }],
  };
  const palletising = { ...packing[0], eventTime: at(12), parentID: pallet, childEPCs: ssccs.slice(0, 10) };
  // Another org's word does not move the milestone: the brand "ships" every serial from its own DC.
  const forged = await capture(
    t,
    tokens.brand as string,
    doc([{ ...shipping, epcList: serials, readPoint: { id: dc.body.uri }, bizLocation: { id: dc.body.uri } }]),
  );
  assert.equal((await finished(t, tokens.brand as string, forged.body.captureID)).status, 'succeeded');
  const outcome = await waitFor('the brand-captured shipping event followed', async () => {
    const { rows } = await t.platform.pool.query(
      `SELECT f.outcome FROM epcis_logistics_followed f JOIN epcis_events e ON e.id = f.event_pk
       WHERE e.capture_id = $1`,
      [forged.body.captureID],
    );
    return rows[0]?.outcome as string | undefined;
  });
  assert.match(outcome, /captured by BrandOrg, not Factory\dOrg/);
  assert.equal(
    (await api().get(`/api/work-orders/${workOrderId}`).set(as('brand')).expect(200)).body.status,
    'qc_passed',
  );

  const shipped = await capture(t, tokens[factoryUser] as string, doc([...packing, palletising, shipping]));
  assert.equal(shipped.status, 202, JSON.stringify(shipped.body));
  const job = await finished(t, tokens[factoryUser] as string, shipped.body.captureID);
  assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));

  const status = async () =>
    (await api().get(`/api/work-orders/${workOrderId}`).set(as('brand')).expect(200)).body.status as string;
  await waitFor(
    'SHIPPED from the shipping event',
    async () => ((await status()) === 'shipped' ? true : undefined),
    60_000,
  );
  const milestones = (await api().get(`/api/work-orders/${workOrderId}/milestones`).set(as('brand')).expect(200)).body
    .items as { milestone: string; evidence: { epcisEvents?: string[]; units?: number } }[];
  const shippedMilestone = milestones.find((m) => m.milestone === 'SHIPPED');
  assert.equal(shippedMilestone?.evidence.units, 240);
  assert.equal(shippedMilestone?.evidence.epcisEvents?.length, 1);

  // The brand receives the pallet at its DC: DELIVERED follows.
  const receiving = {
    type: 'ObjectEvent',
    eventTime: at(50),
    eventTimeZoneOffset: '+08:00',
    epcList: [pallet],
    action: 'OBSERVE',
    bizStep: 'receiving',
    disposition: 'in_progress',
    readPoint: { id: dc.body.uri },
    bizLocation: { id: dc.body.uri },
  };
  const received = await capture(t, tokens.brand as string, doc([receiving]));
  assert.equal(received.status, 202, JSON.stringify(received.body));
  await finished(t, tokens.brand as string, received.body.captureID);
  await waitFor(
    'DELIVERED from the receiving event',
    async () => ((await status()) === 'delivered' ? true : undefined),
    60_000,
  );
});
