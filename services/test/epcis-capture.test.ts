import assert from 'node:assert/strict';
import { createHash, verify, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Orgs, parseEpcisMessage } from '@c2m/shared';
import fc from 'fast-check';
import request from 'supertest';
import { capture, type Doc, finished, gs1Example, ownLocations } from './epcis-fixtures.js';
import { demoTokens, startTestPlatform, type TestPlatform } from './helpers.js';
import { acceptedWorkOrder, certifiedDevicePerFactory } from './ingest-fixtures.js';

/** The sites (GLN level) the GS1 examples use; an SGLN of a site counts as its owner's. */
const EXAMPLE_SITES = [
  'urn:epc:id:sgln:0614141.07346.0',
  'urn:epc:id:sgln:0012345.11111.0',
  'urn:epc:id:sgln:4012345.00001.0',
  'urn:epc:id:sgln:4012345.00005.0',
  'urn:epc:id:sgln:0614141.00777.0',
  'urn:epc:id:sgln:0614141.00888.0',
  'urn:epc:id:sgln:952005385.011.0',
  'urn:epc:id:sgln:9524567.98765.0',
];

const count = async (t: TestPlatform, table: string) =>
  (await t.platform.pool.query(`SELECT COUNT(*)::int AS n FROM ${table}`)).rows[0].n as number;

describe('EPCIS capture', () => {
  let t: TestPlatform;
  let tokens: Record<string, string>;
  before(async () => {
    t = await startTestPlatform({ loginRatePerMinute: 10_000 });
    tokens = await demoTokens(t, ['brand', 'factory1', 'factory2', 'financier', 'certifier']);
    await ownLocations(t, Orgs.factory1, EXAMPLE_SITES);
    await ownLocations(t, Orgs.factory2, ['urn:epc:id:sgln:0614141.99999.0']);
  });
  after(async () => t.close());

  test("GS1's examples are captured: 202 + Location, the job succeeds, each event is hashed, signed and stored", async () => {
    for (const name of [
      'Example_9.6.1-ObjectEvent.jsonld',
      'Example_9.6.3-AggregationEvent.jsonld',
      'Example_9.6.4-TransformationEvent.jsonld',
      'Example-TransactionEvents-2020_07_03y.jsonld',
      'AssociationEvent-a.jsonld',
      'SensorDataExample1.jsonld',
    ]) {
      const body = await gs1Example(name);
      const res = await capture(t, tokens.factory1 as string, body);
      assert.equal(res.status, 202, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.headers.location, `/api/epcis/capture/${res.body.captureID}`);
      assert.equal(res.headers['gs1-epcis-version'], '2.0.0');
      assert.ok(Number(res.headers['gs1-epcis-capture-limit']) > 0);
      const job = await finished(t, tokens.factory1 as string, res.body.captureID);
      const doc = JSON.parse(body) as Doc;
      assert.equal(job.status, 'succeeded', `${name}: ${JSON.stringify(job.errors)}`);
      assert.equal(job.capturedCount, doc.epcisBody.eventList.length);
      const stored = await t.platform.pool.query('SELECT * FROM epcis_events WHERE capture_id = $1 ORDER BY id', [
        job.captureID,
      ]);
      assert.equal(stored.rows.length, doc.epcisBody.eventList.length, name);
      for (const [i, row] of stored.rows.entries()) {
        const sent = doc.epcisBody.eventList[i] as Record<string, unknown>;
        const m = parseEpcisMessage(row.message);
        assert.equal(m.eventID, row.event_id);
        assert.equal(m.eventHash, row.event_hash);
        assert.match(row.event_hash, /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
        assert.equal(row.event_id, (sent.eventID as string | undefined) ?? row.event_hash);
        assert.equal(m.ownerMspId, Orgs.factory1);
        assert.deepEqual(m.signer, { mspId: Orgs.factory1, username: 'factory1' });
        assert.equal(m.captureId, job.captureID);
        assert.deepEqual(row.event, m.event);
        // User extensions are kept as sent.
        for (const [k, v] of Object.entries(sent)) if (k.includes(':')) assert.deepEqual(row.event[k], v, k);
        // The signature is the capturing user's, over the exact message, and the leaf is SHA-256(0x00 ‖ message).
        const cert = new X509Certificate(row.signer_certificate);
        assert.ok(verify('sha256', Buffer.from(row.message), cert.publicKey, Buffer.from(row.signature, 'base64')));
        assert.ok(cert.subject.includes('factory1'));
        assert.equal(
          row.leaf_hash,
          createHash('sha256')
            .update(Buffer.from([0]))
            .update(row.message)
            .digest('hex'),
        );
        assert.equal(row.batch_id === null || typeof row.batch_id === 'string', true);
      }
    }
    // The sensor example's extension prefix binding travels with its events.
    const { rows } = await t.platform.pool.query(
      `SELECT message FROM epcis_events WHERE event->>'type' = 'ObjectEvent' AND message LIKE '%"context"%' LIMIT 1`,
    );
    assert.ok(rows[0], 'a message carries the document context');
  });

  test('the same document again is idempotent: captured, nothing stored twice', async () => {
    const body = await gs1Example('Example_9.6.1-ObjectEvent.jsonld');
    const before = await count(t, 'epcis_events');
    const res = await capture(t, tokens.factory1 as string, body).then((r) => r.body);
    const job = await finished(t, tokens.factory1 as string, res.captureID);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.capturedCount, 2);
    assert.equal(await count(t, 'epcis_events'), before);
  });

  test('an event without eventID gets its hash as eventID; a sent eventID with other content is a conflict', async () => {
    const doc = JSON.parse(await gs1Example('Example_9.6.3-AggregationEvent.jsonld')) as Doc;
    const noId = structuredClone(doc);
    delete noId.epcisBody.eventList[0]?.eventID;
    (noId.epcisBody.eventList[0] as Record<string, unknown>).eventTime = '2026-11-30T10:00:00Z';
    const job = await finished(
      t,
      tokens.factory1 as string,
      (await capture(t, tokens.factory1 as string, JSON.stringify(noId))).body.captureID,
    );
    assert.equal(job.status, 'succeeded');
    const { rows } = await t.platform.pool.query(
      'SELECT event_id, event_hash FROM epcis_events WHERE capture_id = $1',
      [job.captureID],
    );
    assert.equal(rows[0].event_id, rows[0].event_hash);

    const changed = structuredClone(doc);
    (changed.epcisBody.eventList[0] as Record<string, unknown>).action = 'DELETE';
    const before = await count(t, 'epcis_events');
    const conflict = await finished(
      t,
      tokens.factory1 as string,
      (await capture(t, tokens.factory1 as string, JSON.stringify(changed))).body.captureID,
    );
    assert.equal(conflict.status, 'failed');
    assert.deepEqual(
      conflict.errors.map((e: { code: string; index: number }) => [e.index, e.code]),
      [[0, 'EVENT_ID_CONFLICT']],
    );
    assert.equal(await count(t, 'epcis_events'), before);
  });

  test('a private field of the c2m: namespace (a price) is refused per event and stores nothing', async () => {
    const doc = JSON.parse(await gs1Example('Example_9.6.1-ObjectEvent.jsonld')) as Doc;
    const priced = structuredClone(doc);
    priced['@context'] = [...[priced['@context']].flat(), { c2m: 'https://ns.c2m.network/epcis/' }];
    for (const e of priced.epcisBody.eventList) delete e.eventID;
    Object.assign(priced.epcisBody.eventList[0] as Record<string, unknown>, {
      'c2m:workOrder': 'WO-x',
      'c2m:unitPriceMinor': 1234,
    });
    const before = await count(t, 'epcis_events');
    const job = await finished(
      t,
      tokens.factory1 as string,
      (await capture(t, tokens.factory1 as string, JSON.stringify(priced))).body.captureID,
    );
    assert.equal(job.status, 'failed');
    assert.deepEqual(
      job.errors.map((e: { code: string; index: number }) => [e.index, e.code]),
      [[0, 'PRIVATE_FIELD']],
    );
    assert.match(job.errors[0].message, /c2m:unitPriceMinor/);
    assert.equal(await count(t, 'epcis_events'), before);
  });

  test("another org's GLN is refused per event; rollback stores nothing, proceed stores the rest", async () => {
    const doc = JSON.parse(await gs1Example('Example_9.6.1-ObjectEvent.jsonld')) as Doc;
    const mixed = structuredClone(doc);
    for (const e of mixed.epcisBody.eventList) delete e.eventID;
    (mixed.epcisBody.eventList[1] as Record<string, unknown>).readPoint = { id: 'urn:epc:id:sgln:0614141.99999.7' };
    delete (mixed.epcisBody.eventList[1] as Record<string, unknown>).bizLocation;
    const before = await count(t, 'epcis_events');
    // factory2 owns only the 0614141.99999 site: event 0 is at factory1's location.
    const rolled = await finished(
      t,
      tokens.factory2 as string,
      (await capture(t, tokens.factory2 as string, JSON.stringify(mixed))).body.captureID,
    );
    assert.equal(rolled.status, 'failed');
    assert.deepEqual(
      rolled.errors.map((e: { code: string; index: number }) => [e.index, e.code]),
      [[0, 'LOCATION_NOT_OWNED']],
    );
    assert.equal(await count(t, 'epcis_events'), before);
    const proceeded = await finished(
      t,
      tokens.factory2 as string,
      (
        await capture(t, tokens.factory2 as string, JSON.stringify(mixed), {
          'GS1-Capture-Error-Behaviour': 'proceed',
        })
      ).body.captureID,
    );
    assert.equal(proceeded.status, 'failed');
    assert.equal(proceeded.captureErrorBehaviour, 'proceed');
    assert.equal(proceeded.capturedCount, 1);
    assert.equal(await count(t, 'epcis_events'), before + 1);
    // An event at no location at all is refused too.
    const nowhere = structuredClone(doc);
    for (const e of nowhere.epcisBody.eventList) {
      delete e.readPoint;
      delete e.bizLocation;
      delete e.eventID;
    }
    const none = await finished(
      t,
      tokens.factory1 as string,
      (await capture(t, tokens.factory1 as string, JSON.stringify(nowhere))).body.captureID,
    );
    assert.deepEqual(
      none.errors.map((e: { code: string }) => e.code),
      ['LOCATION_NOT_OWNED', 'LOCATION_NOT_OWNED'],
    );
  });

  test('error declarations: of an unknown event refused; of a stored one kept beside it, the original marked', async () => {
    const doc = JSON.parse(await gs1Example('ErrorDeclarationAndCorrectiveEvent.jsonld')) as Doc;
    const unknown = await finished(
      t,
      tokens.factory1 as string,
      (await capture(t, tokens.factory1 as string, JSON.stringify(doc))).body.captureID,
    );
    assert.deepEqual(
      unknown.errors.map((e: { code: string; index: number }) => [e.index, e.code]),
      [[0, 'ERROR_DECLARATION_UNKNOWN_EVENT']],
    );
    // The original as first captured, then GS1's declaration document.
    const original = structuredClone(doc);
    delete original.epcisBody.eventList[0]?.errorDeclaration;
    original.epcisBody.eventList.splice(1);
    const first = await finished(
      t,
      tokens.factory1 as string,
      (await capture(t, tokens.factory1 as string, JSON.stringify(original))).body.captureID,
    );
    assert.equal(first.status, 'succeeded');
    // Another org may not declare factory1's event an error, even at a location of its own.
    const foreign = structuredClone(doc);
    foreign.epcisBody.eventList.splice(1);
    (foreign.epcisBody.eventList[0] as Record<string, unknown>).readPoint = { id: 'urn:epc:id:sgln:0614141.99999.1' };
    const refused = await finished(
      t,
      tokens.factory2 as string,
      (await capture(t, tokens.factory2 as string, JSON.stringify(foreign))).body.captureID,
    );
    assert.deepEqual(
      refused.errors.map((e: { code: string }) => e.code),
      ['ERROR_DECLARATION_NOT_OWNED'],
    );
    const declared = await finished(
      t,
      tokens.factory1 as string,
      (await capture(t, tokens.factory1 as string, JSON.stringify(doc))).body.captureID,
    );
    assert.equal(declared.status, 'succeeded', JSON.stringify(declared.errors));
    const { rows } = await t.platform.pool.query(
      `SELECT id, error_declaration, error_declared_by FROM epcis_events WHERE event_id = $1 ORDER BY id`,
      ['urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8'],
    );
    assert.equal(rows.length, 2);
    assert.equal(rows[0].error_declaration, null);
    assert.equal(Number(rows[0].error_declared_by), Number(rows[1].id));
    assert.equal(rows[1].error_declaration.reason, 'incorrect_data');
    assert.equal(rows[1].error_declaration['example:vendorExtension'], 'Test1');
  });

  test('a schema error answers 400 with the schema path and stores nothing', async () => {
    const doc = JSON.parse(await gs1Example('Example_9.6.1-ObjectEvent.jsonld')) as Doc;
    (doc.epcisBody.eventList[1] as Record<string, unknown>).eventTime = 'yesterday';
    const before = await count(t, 'epcis_capture_jobs');
    const res = await capture(t, tokens.factory1 as string, JSON.stringify(doc));
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'EPCIS_SCHEMA_INVALID');
    assert.ok(
      res.body.errors.some((e: { path: string }) => e.path.startsWith('/epcisBody/eventList/1/eventTime')),
      JSON.stringify(res.body),
    );
    const bad = await capture(t, tokens.factory1 as string, '{"type": "EPCISDocument"');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'MALFORMED_JSON');
    assert.equal(await count(t, 'epcis_capture_jobs'), before);
  });

  test('arbitrary JSON never crashes the route, and what is refused stores nothing', async () => {
    const before = await count(t, 'epcis_capture_jobs');
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc
            .record({
              type: fc.constantFrom('EPCISDocument', 'x'),
              schemaVersion: fc.oneof(fc.constant('2.0'), fc.integer()),
              creationDate: fc.oneof(fc.constant('2026-01-01T00:00:00Z'), fc.anything()),
              epcisBody: fc.oneof(fc.anything(), fc.record({ eventList: fc.array(fc.anything(), { maxLength: 4 }) })),
            })
            .map((d) => JSON.stringify(d)),
        ),
        async (body) => {
          const res = await capture(t, tokens.brand as string, body);
          assert.ok([202, 400, 413].includes(res.status), `${res.status} for ${body.slice(0, 200)}`);
          if (res.status === 202) accepted++;
        },
      ),
      { numRuns: 120 },
    );
    assert.equal(await count(t, 'epcis_capture_jobs'), before + accepted);
  });

  test('who may capture: brand and factory managers; others 403; another org cannot read a job', async () => {
    const body = await gs1Example('Example_9.6.1-ObjectEvent.jsonld');
    for (const who of ['financier', 'certifier']) {
      assert.equal((await capture(t, tokens[who] as string, body)).status, 403, who);
    }
    const res = await capture(t, tokens.factory1 as string, body);
    await request(t.app.server)
      .get(`/api/epcis/capture/${res.body.captureID}`)
      .set('authorization', `Bearer ${tokens.factory2}`)
      .expect(404);
    const mine = await request(t.app.server)
      .get('/api/epcis/capture')
      .set('authorization', `Bearer ${tokens.factory1}`)
      .expect(200);
    assert.ok(mine.body.captureJobs.some((j: { captureID: string }) => j.captureID === res.body.captureID));
    const theirs = await request(t.app.server)
      .get('/api/epcis/capture')
      .set('authorization', `Bearer ${tokens.factory2}`)
      .expect(200);
    assert.ok(theirs.body.captureJobs.every((j: { ownerMspId: string }) => j.ownerMspId === Orgs.factory2));
  });

  test('a job accepted but never queued (a crash between commit and queueing) is found and finished', async () => {
    const body = await gs1Example('Example_9.6.3-AggregationEvent.jsonld');
    const doc = JSON.parse(body) as Doc;
    delete doc.epcisBody.eventList[0]?.eventID;
    (doc.epcisBody.eventList[0] as Record<string, unknown>).eventTime = '2026-12-01T08:00:00Z';
    const text = JSON.stringify(doc);
    await t.platform.pool.query(
      `INSERT INTO epcis_capture_jobs (id, owner_msp, captured_by, document, document_sha256, event_count)
       VALUES ('lost-1', $1, 'factory1', $2, $3, 1)`,
      [Orgs.factory1, text, createHash('sha256').update(text).digest('hex')],
    );
    const job = await finished(t, tokens.factory1 as string, 'lost-1');
    assert.equal(job.status, 'succeeded');
    assert.equal(job.capturedCount, 1);
  });

  test('events are linked to the brand of their GTIN and the work order whose lot range holds them', async () => {
    // Dispatch offers work only to factories with a certified line.
    await certifiedDevicePerFactory(t, 'epcis-link');
    const { workOrderId, factoryUser } = await acceptedWorkOrder(t, 'EPCIS sock', 200);
    const mspId = factoryUser === 'factory1' ? Orgs.factory1 : Orgs.factory2;
    const gtin = '06141410000014';
    await t.platform.pool.query(
      `INSERT INTO gs1_products (gtin, brand_msp, sku, name) VALUES ($1, $2, 'LINK-1', 'link') ON CONFLICT DO NOTHING`,
      [gtin, Orgs.brand],
    );
    await t.platform.pool.query(
      `INSERT INTO work_order_lots (work_order_id, gtin, lot, quantity, serial_from, serial_to, next_serial)
       VALUES ($1, $2, 'L7', 100, 1000, 1099, 1000)`,
      [workOrderId, gtin],
    );
    await ownLocations(t, mspId, ['urn:epc:id:sgln:0614141.55555.0']);
    const doc = {
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: '2026-12-01T00:00:00Z',
      epcisBody: {
        eventList: [
          {
            type: 'ObjectEvent',
            eventTime: '2026-12-01T09:00:00Z',
            eventTimeZoneOffset: '+08:00',
            epcList: [`https://id.gs1.org/01/${gtin}/21/1042`],
            action: 'ADD',
            bizStep: 'commissioning',
            readPoint: { id: 'urn:epc:id:sgln:0614141.55555.3' },
          },
          {
            type: 'ObjectEvent',
            eventTime: '2026-12-01T09:00:00Z',
            eventTimeZoneOffset: '+08:00',
            epcList: [`https://id.gs1.org/01/${gtin}/21/5000`],
            action: 'ADD',
            bizStep: 'commissioning',
            readPoint: { id: 'urn:epc:id:sgln:0614141.55555.3' },
          },
        ],
      },
    };
    const token = (await demoTokens(t, [factoryUser]))[factoryUser] as string;
    const job = await finished(t, token, (await capture(t, token, JSON.stringify(doc))).body.captureID);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
    const { rows } = await t.platform.pool.query(
      'SELECT work_order_id, brand_msp FROM epcis_events WHERE capture_id = $1 ORDER BY id',
      [job.captureID],
    );
    assert.deepEqual(rows, [
      { work_order_id: workOrderId, brand_msp: Orgs.brand },
      { work_order_id: null, brand_msp: Orgs.brand },
    ]);
  });
});
