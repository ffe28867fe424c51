import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import request from 'supertest';
import { withTransaction } from '../src/db/database.js';
import { canonicalUri } from '../src/epcis/query-uris.js';
import { type EventRow, indexEvent, insertEvents } from '../src/epcis/store.js';
import { demoTokens, startTestPlatform, type TestPlatform } from './helpers.js';

// The EPCIS query against real PostgreSQL through the HTTP routes: parameters, paging, and who sees what.
// Orgs: BrandOrg (demo `brand`), Brand2Org (a second brand the demo consortium lacks: an account and session
// made here, with a token the app signs), Factory1Org, Factory2Org, FinanceOrg, and the platform's admin and
// certifier.

const G1 = '10614141073464'; // urn:epc:id:sgtin:0614141.107346.* (BrandOrg's product)
const G2 = '04012345111118'; // urn:epc:id:sgtin:4012345.011111.* (Brand2Org's product)
const sgtin = (gtin: string, serial: number | string) => `https://id.gs1.org/01/${gtin}/21/${serial}`;
const F1_SITE = 'https://id.gs1.org/414/0614141000005';
const F1_LINE = `${F1_SITE}/254/L1`;
const F2_LINE = 'https://id.gs1.org/414/0614141000012/254/L1';
const B1_DC = 'https://id.gs1.org/414/0614141000029';
const B2_DC = 'https://id.gs1.org/414/4012345000009';

interface Fixture {
  readonly id: string;
  readonly owner: string;
  readonly brand: string | null;
  readonly workOrder: string | null;
  readonly source: 'capture' | 'device';
  readonly event: Record<string, unknown>;
}

const base = (n: number) => ({ eventTime: `2026-11-0${n}T10:00:00.000Z`, eventTimeZoneOffset: '+08:00' });

const FIXTURES: Fixture[] = [
  {
    id: 'urn:uuid:00000000-0000-4000-8000-000000000001',
    owner: 'Factory1Org',
    brand: 'BrandOrg',
    workOrder: 'WO-B1F1',
    source: 'device',
    event: {
      type: 'ObjectEvent',
      ...base(1),
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      epcList: [sgtin(G1, 1), sgtin(G1, 2)],
      readPoint: { id: F1_LINE },
      bizLocation: { id: F1_LINE },
      sensorElementList: [{ sensorReport: [{ type: 'gs1:Temperature', value: 25, uom: 'CEL' }] }],
      'c2m:workOrder': 'WO-B1F1',
    },
  },
  {
    id: 'urn:uuid:00000000-0000-4000-8000-000000000002',
    owner: 'Factory1Org',
    brand: 'BrandOrg',
    workOrder: 'WO-B1F1',
    source: 'capture',
    event: {
      type: 'ObjectEvent',
      ...base(2),
      action: 'OBSERVE',
      bizStep: 'urn:epcglobal:cbv:bizstep:shipping',
      disposition: 'https://ref.gs1.org/cbv/Disp-in_transit',
      epcList: ['urn:epc:id:sgtin:0614141.107346.1'],
      readPoint: { id: F1_SITE },
      bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epc:id:gdti:0614141.00001.1618034' }],
      'c2m:workOrder': 'WO-B1F1',
      'c2m:unitPriceMinor': 1250,
      'c2m:terms': { priceMinor: 1250, currency: 'CNY' },
      'example:carrier': 'ACME',
    },
  },
  {
    id: 'urn:uuid:00000000-0000-4000-8000-000000000003',
    owner: 'Factory2Org',
    brand: 'BrandOrg',
    workOrder: 'WO-B1F2',
    source: 'device',
    event: {
      type: 'ObjectEvent',
      ...base(3),
      action: 'ADD',
      bizStep: 'commissioning',
      epcList: [sgtin(G1, 100)],
      readPoint: { id: F2_LINE },
      sensorElementList: [{ sensorReport: [{ type: 'Temperature', value: 35, uom: 'CEL' }] }],
    },
  },
  {
    id: 'urn:uuid:00000000-0000-4000-8000-000000000004',
    owner: 'Factory1Org',
    brand: 'Brand2Org',
    workOrder: 'WO-B2F1',
    source: 'device',
    event: {
      type: 'ObjectEvent',
      ...base(4),
      action: 'ADD',
      bizStep: 'commissioning',
      epcList: [sgtin(G2, 1)],
      readPoint: { id: F1_LINE },
    },
  },
  {
    id: 'urn:uuid:00000000-0000-4000-8000-000000000005',
    owner: 'Brand2Org',
    brand: 'Brand2Org',
    workOrder: null,
    source: 'capture',
    event: {
      type: 'ObjectEvent',
      ...base(5),
      action: 'OBSERVE',
      bizStep: 'receiving',
      epcList: [sgtin(G2, 1)],
      readPoint: { id: B2_DC },
      bizLocation: { id: B2_DC },
    },
  },
  {
    id: 'urn:uuid:00000000-0000-4000-8000-000000000006',
    owner: 'BrandOrg',
    brand: 'BrandOrg',
    workOrder: null,
    source: 'capture',
    event: {
      type: 'ObjectEvent',
      ...base(6),
      action: 'OBSERVE',
      bizStep: 'https://ref.gs1.org/cbv/BizStep-receiving',
      disposition: 'in_progress',
      epcList: ['urn:epc:id:sgtin:0614141.107346.2'],
      readPoint: { id: B1_DC },
      bizLocation: { id: B1_DC },
    },
  },
  {
    id: 'urn:uuid:00000000-0000-4000-8000-000000000007',
    owner: 'Factory2Org',
    brand: null,
    workOrder: null,
    source: 'capture',
    event: {
      type: 'ObjectEvent',
      ...base(7),
      action: 'OBSERVE',
      bizStep: 'inspecting',
      epcList: ['https://id.gs1.org/414/0614141000012/254/M7'],
      readPoint: { id: F2_LINE },
      sensorElementList: [{ sensorReport: [{ type: 'RelativeHumidity', value: 60, uom: 'A93' }] }],
    },
  },
  {
    id: 'urn:uuid:00000000-0000-4000-8000-000000000008',
    owner: 'Factory1Org',
    brand: 'BrandOrg',
    workOrder: 'WO-B1F1',
    source: 'capture',
    event: {
      type: 'AggregationEvent',
      ...base(8),
      action: 'ADD',
      bizStep: 'packing',
      parentID: 'urn:epc:id:sscc:0614141.1234567890',
      childEPCs: [sgtin(G1, 1), sgtin(G1, 2)],
      readPoint: { id: F1_LINE },
    },
  },
  {
    id: 'urn:uuid:00000000-0000-4000-8000-000000000009',
    owner: 'Factory2Org',
    brand: 'BrandOrg',
    workOrder: 'WO-B1F2',
    source: 'capture',
    event: {
      type: 'TransformationEvent',
      ...base(9),
      bizStep: 'https://ref.gs1.org/cbv/BizStep-commissioning',
      inputQuantityList: [{ epcClass: 'urn:epc:class:lgtin:0614141.107346.YARN1', quantity: 3, uom: 'KGM' }],
      outputEPCList: [sgtin(G1, 200)],
      readPoint: { id: F2_LINE },
    },
  },
];

const ALL = FIXTURES.map((f) => f.id);
const ids = (...n: number[]) => n.map((i) => FIXTURES[i - 1]?.id as string);
const VISIBLE: Record<string, string[]> = {
  platform: ALL,
  certifier: ids(1, 3, 4),
  brand: ids(1, 2, 3, 6, 8, 9),
  brand2: ids(4, 5),
  factory1: ids(1, 2, 4, 8),
  factory2: ids(3, 7, 9),
  financier: ids(1, 2, 3, 4, 8, 9),
};

function row(f: Fixture, eventTime?: string): EventRow {
  const event = { eventID: f.id, ...f.event, ...(eventTime ? { eventTime } : {}) };
  return {
    eventId: f.id,
    eventHash: `ni:///sha-256;${f.id.slice(-12)}?ver=CBV2.0`,
    event,
    index: indexEvent(event, canonicalUri),
    ownerMsp: f.owner,
    source: f.source,
    workOrderId: f.workOrder,
    brandMsp: f.brand,
    recordTime: new Date().toISOString(),
    message: JSON.stringify(event),
    signature: 'sig',
    signerCertificate: 'cert',
    leafHash: '00',
  };
}

describe('EPCIS query', () => {
  let t: TestPlatform;
  const tokens: Record<string, string> = {};
  const get = (who: string, path: string) =>
    request(t.app.server).get(path).set('authorization', `Bearer ${tokens[who]}`);

  /** Every event id the caller gets from a query, following Link headers page by page. */
  async function all(who: string, path: string): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = path;
    for (let pages = 0; next; pages++) {
      assert.ok(pages < 500, 'too many pages');
      const res: request.Response = await get(who, next).expect(200);
      out.push(...res.body.epcisBody.queryResults.resultsBody.eventList.map((e: { eventID: string }) => e.eventID));
      next = /<([^>]+)>; rel="next"/.exec(res.headers.link ?? '')?.[1];
    }
    return out;
  }

  before(async () => {
    t = await startTestPlatform();
    Object.assign(tokens, await demoTokens(t, ['brand', 'factory1', 'factory2', 'financier', 'certifier', 'platform']));
    const { pool } = t.platform;
    // A second brand: an account and a live session, and a token the app signs for it.
    await pool.query(
      `INSERT INTO accounts (username, msp_id, role, display_name, password_hash, created_by)
       VALUES ('brand2', 'Brand2Org', 'brand-manager', 'Second brand', 'x', 'test')`,
    );
    const session = await t.platform.auth.sessions.open('brand2');
    tokens.brand2 = t.app.signAccessToken({
      username: 'brand2',
      mspId: 'Brand2Org',
      orgKind: 'brand',
      role: 'brand-manager',
      displayName: 'Second brand',
      sid: session.sid,
    });
    // Work orders (rows as dispatch leaves them; their terms hold the price that must never reach an event).
    for (const [wo, brand, factory] of [
      ['WO-B1F1', 'BrandOrg', 'Factory1Org'],
      ['WO-B1F2', 'BrandOrg', 'Factory2Org'],
      ['WO-B2F1', 'Brand2Org', 'Factory1Org'],
    ] as const) {
      await pool.query(
        `INSERT INTO orders (id, brand_msp, created_by, product, lines, total_quantity, target_price_minor, currency,
           due_date, ship_to, status) VALUES ($1, $2, 'x', 'socks', '[]', 1, 1, 'CNY', '2027-01-01', 'DC', 'closed')`,
        [`O-${wo}`, brand],
      );
      await pool.query(
        `INSERT INTO offers (id, order_id, factory_msp, quantity, lines, price_minor, due_date, status, expires_at)
         VALUES ($1, $2, $3, 1, '[]', 1250, '2027-01-01', 'accepted', now())`,
        [`OF-${wo}`, `O-${wo}`, factory],
      );
      await pool.query(
        `INSERT INTO work_orders (id, order_id, offer_id, brand_msp, factory_msp, brand_user, factory_user, product,
           quantity, terms, terms_hash, status) VALUES ($1, $2, $3, $4, $5, 'x', 'x', 'socks', 1,
           '{"priceMinor":1250}', 'h', 'accepted')`,
        [wo, `O-${wo}`, `OF-${wo}`, brand, factory],
      );
    }
    await pool.query(
      `INSERT INTO gs1_locations (uri, gln, extension, owner_msp, kind, parent_uri) VALUES
         ($1, '0614141000005', '', 'Factory1Org', 'site', NULL),
         ($2, '0614141000005', 'L1', 'Factory1Org', 'line', $1)`,
      [F1_SITE, F1_LINE],
    );
    await withTransaction(pool, (c) =>
      insertEvents(
        c,
        FIXTURES.map((f) => row(f)),
      ),
    );
  });
  after(async () => t?.close());

  test('each org sees exactly its own events, page by page', async () => {
    for (const [who, expected] of Object.entries(VISIBLE)) {
      const got = await all(who, '/api/epcis/events?perPage=2');
      assert.deepEqual(got, expected, who);
    }
  });

  test('a single event: the visible one in a query document, anyone else’s 404 (not 403)', async () => {
    const [own] = ids(2);
    const path = `/api/epcis/events/${encodeURIComponent(own as string)}`;
    const res = await get('factory1', path).expect(200);
    assert.equal(res.body.type, 'EPCISQueryDocument');
    assert.equal(res.body.epcisBody.queryResults.resultsBody.eventList[0].eventID, own);
    for (const who of ['factory2', 'brand2']) {
      const r = await get(who, path).expect(404);
      assert.equal(r.body.code, 'NOT_FOUND');
    }
    await get('factory2', '/api/epcis/events/urn%3Auuid%3A%00').expect(404);
    // Identifiers longer than the router's default parameter limit still reach the route.
    await get('factory2', `/api/epcis/events/${encodeURIComponent(`urn:uuid:${'x'.repeat(300)}`)}`).expect(404);
    const longEpc = encodeURIComponent(`https://id.gs1.org/01/${G1}/21/${'9'.repeat(20)}`);
    await get('platform', `/api/epcis/epcs/${longEpc}/events`).expect(200);
    await get('factory2', '/api/epcis/epcs/urn%3Ax%3A%00/events').expect(400);
    const missing = await get('factory2', '/api/epcis/events/urn%3Auuid%3Anone').expect(404);
    assert.equal(missing.body.message, 'no event urn:uuid:none');
  });

  test('private terms and prices under c2m: never leave; public c2m: fields and user extensions do', async () => {
    for (const who of ['brand', 'factory1', 'financier', 'platform']) {
      const res = await get(who, `/api/epcis/events/${encodeURIComponent(ids(2)[0] as string)}`).expect(200);
      const [e] = res.body.epcisBody.queryResults.resultsBody.eventList;
      assert.equal(e['c2m:workOrder'], 'WO-B1F1');
      assert.equal(e['example:carrier'], 'ACME');
      assert.equal(e['c2m:unitPriceMinor'], undefined, who);
      assert.equal(e['c2m:terms'], undefined, who);
      assert.doesNotMatch(JSON.stringify(res.body), /1250/);
    }
  });

  test('the query document and the version headers; other versions are refused with 406', async () => {
    const res = await get('platform', '/api/epcis/events?perPage=1').expect(200);
    assert.equal(res.headers['gs1-epcis-version'], '2.0.0');
    assert.equal(res.headers['gs1-cbv-version'], '2.0.0');
    assert.deepEqual(res.body['@context'], [
      'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
      { c2m: 'https://ns.c2m.network/epcis/' },
    ]);
    assert.equal(res.body.schemaVersion, '2.0');
    assert.equal(res.body.epcisBody.queryResults.queryName, 'SimpleEventQuery');
    assert.match(res.headers.link, /^<\/api\/epcis\/events\?perPage=1&nextPageToken=[^>]+>; rel="next"$/);
    await get('platform', '/api/epcis/events').set('GS1-EPCIS-Version', '2.0.0').expect(200);
    await get('platform', '/api/epcis/events').set('GS1-EPCIS-Version', '2.0').expect(200);
    await get('platform', '/api/epcis/events').set('GS1-EPCIS-Min', '1.2').set('GS1-EPCIS-Max', '2.0').expect(200);
    for (const [h, v] of [
      ['GS1-EPCIS-Version', '1.2.0'],
      ['GS1-EPCIS-Min', '2.1'],
      ['GS1-CBV-Max', '1.2.0'],
      ['GS1-CBV-Version', 'two'],
      ['GS1-EPC-Format', 'Always_EPC_URN'],
    ] as const) {
      const r = await get('platform', '/api/epcis/events').set(h, v).expect(406);
      assert.equal(r.body.code, 'NOT_ACCEPTABLE');
      assert.equal(r.body.parameter, h);
      assert.equal(r.headers['gs1-epcis-version'], '2.0.0');
    }
  });

  test('EPCs in URN or Digital Link, and class-level patterns', async () => {
    const q = async (who: string, qs: string) => (await all(who, `/api/epcis/events?${qs}`)).sort();
    const enc = encodeURIComponent;
    // Serial 1 of G1: commissioned (DL), shipped (captured as URN), packed (child).
    assert.deepEqual(await q('platform', `MATCH_epc=${enc('urn:epc:id:sgtin:0614141.107346.1')}`), ids(1, 2, 8));
    assert.deepEqual(await q('platform', `MATCH_epc=${enc(sgtin(G1, 1))}`), ids(1, 2, 8));
    assert.deepEqual(await q('platform', `MATCH_anyEPC=${enc(sgtin(G1, 200))}`), ids(9));
    assert.deepEqual(await q('platform', `MATCH_outputEPC=${enc(sgtin(G1, 200))}`), ids(9));
    assert.deepEqual(await q('platform', `MATCH_inputEPC=${enc(sgtin(G1, 200))}`), []);
    assert.deepEqual(await q('platform', `MATCH_parentID=${enc('https://id.gs1.org/00/106141412345678908')}`), ids(8));
    // Every serial of G1, as an EPC pattern and as a Digital Link class.
    assert.deepEqual(
      await q('platform', `MATCH_epc=${enc('urn:epc:idpat:sgtin:0614141.107346.*')}`),
      ids(1, 2, 3, 6, 8),
    );
    assert.deepEqual(await q('platform', `MATCH_anyEPC=${enc(`https://id.gs1.org/01/${G1}`)}`), ids(1, 2, 3, 6, 8, 9));
    // Company-prefix wide.
    assert.deepEqual(await q('platform', `MATCH_anyEPC=${enc('urn:epc:idpat:sgtin:4012345.*.*')}`), ids(4, 5));
    // Quantity elements: the lot class, and the GTIN class that holds it.
    assert.deepEqual(
      await q('platform', `MATCH_inputEPCClass=${enc('urn:epc:class:lgtin:0614141.107346.YARN1')}`),
      ids(9),
    );
    assert.deepEqual(await q('platform', `MATCH_anyEPCClass=${enc('urn:epc:idpat:sgtin:0614141.107346.*')}`), ids(9));
    assert.deepEqual(await q('platform', `MATCH_epcClass=${enc('urn:epc:idpat:sgtin:0614141.107346.*')}`), []);
    // Two values: either.
    assert.deepEqual(await q('platform', `MATCH_epc=${enc(sgtin(G1, 100))}|${enc(sgtin(G2, 1))}`), ids(3, 4, 5));
    // Access still applies.
    assert.deepEqual(await q('factory2', `MATCH_epc=${enc('urn:epc:idpat:sgtin:0614141.107346.*')}`), ids(3));
    assert.deepEqual(await q('brand2', `MATCH_epc=${enc('urn:epc:idpat:sgtin:0614141.107346.*')}`), []);
  });

  test('GET /epcs/{epc}/events: URN or Digital Link, any role, access applied', async () => {
    const path = (epc: string, qs = '') => `/api/epcis/epcs/${encodeURIComponent(epc)}/events${qs}`;
    assert.deepEqual((await all('platform', path('urn:epc:id:sgtin:0614141.107346.1'))).sort(), ids(1, 2, 8));
    assert.deepEqual((await all('platform', path(sgtin(G2, 1)))).sort(), ids(4, 5));
    assert.deepEqual((await all('brand2', path(sgtin(G1, 1)))).sort(), []);
    assert.deepEqual((await all('factory1', path(sgtin(G2, 1)))).sort(), ids(4));
    assert.deepEqual(
      (await all('platform', path('urn:epc:idpat:sgtin:0614141.107346.*', '?perPage=1'))).sort(),
      ids(1, 2, 3, 6, 8, 9),
    );
    assert.deepEqual((await all('platform', path(sgtin(G1, 1), '?eventType=AggregationEvent'))).sort(), ids(8));
    const bad = await get('platform', path('not a uri')).expect(400);
    assert.equal(bad.body.parameter, 'epc');
  });

  test('vocabulary filters: CBV names in any spelling, locations with descendants, transactions, sensors', async () => {
    const q = async (qs: string, who = 'platform') => (await all(who, `/api/epcis/events?${qs}`)).sort();
    const enc = encodeURIComponent;
    assert.deepEqual(await q('EQ_bizStep=shipping'), ids(2));
    assert.deepEqual(await q(`EQ_bizStep=${enc('https://ref.gs1.org/cbv/BizStep-shipping')}`), ids(2));
    assert.deepEqual(await q(`EQ_bizStep=${enc('urn:epcglobal:cbv:bizstep:receiving')}`), ids(5, 6));
    assert.deepEqual(await q('EQ_bizStep=commissioning'), ids(1, 3, 4, 9));
    assert.deepEqual(await q('EQ_disposition=in_transit|in_progress'), ids(2, 6));
    assert.deepEqual(await q('EQ_action=ADD&eventType=ObjectEvent'), ids(1, 3, 4));
    assert.deepEqual(await q('eventType=AggregationEvent|TransformationEvent'), ids(8, 9));
    assert.deepEqual(await q(`EQ_readPoint=${enc(F1_LINE)}`), ids(1, 4, 8));
    assert.deepEqual(await q(`EQ_readPoint=${enc('urn:epc:id:sgln:0614141.00000.L1')}`), ids(1, 4, 8));
    assert.deepEqual(await q(`EQ_readPoint=${enc(F1_SITE)}`), ids(2));
    assert.deepEqual(await q(`WD_readPoint=${enc(F1_SITE)}`), ids(1, 2, 4, 8));
    assert.deepEqual(await q(`WD_bizLocation=${enc(F1_SITE)}`), ids(1));
    assert.deepEqual(await q(`EQ_bizLocation=${enc(B1_DC)}|${enc(B2_DC)}`), ids(5, 6));
    assert.deepEqual(await q(`EQ_bizTransaction_po=${enc('urn:epc:id:gdti:0614141.00001.1618034')}`), ids(2));
    assert.deepEqual(await q(`EQ_bizTransaction_inv=${enc('urn:epc:id:gdti:0614141.00001.1618034')}`), []);
    assert.deepEqual(await q('EQ_type=Temperature'), ids(1, 3));
    assert.deepEqual(await q(`EQ_type=${enc('gs1:RelativeHumidity')}`), ids(7));
    assert.deepEqual(await q('EQ_type=Temperature&GE_value_CEL=30'), ids(3));
    assert.deepEqual(await q('LT_value_CEL=30'), ids(1));
    assert.deepEqual(await q('EQ_type=RelativeHumidity&GE_value_CEL=0'), []);
    assert.deepEqual(await q('GE_eventTime=2026-11-03T00:00:00Z&LT_eventTime=2026-11-05T10:00:00.000Z'), ids(3, 4));
    assert.deepEqual(await q('GE_recordTime=2000-01-01T00:00:00Z&EQ_eventID=' + enc(ids(7)[0] as string)), ids(7));
    assert.deepEqual(await q('EXISTS_errorDeclaration=true'), []);
    assert.deepEqual(await q('EXISTS_errorDeclaration=false'), ALL.slice().sort());
  });

  test('ordering and eventCountLimit', async () => {
    const asc = await all('platform', '/api/epcis/events?orderBy=eventTime&orderDirection=ASC&perPage=4');
    assert.deepEqual(asc, ALL);
    const desc = await all('platform', '/api/epcis/events?orderBy=eventTime&perPage=4');
    assert.deepEqual(desc, ALL.slice().reverse());
    const latest = await all('platform', '/api/epcis/events?orderBy=eventTime&eventCountLimit=3&perPage=2');
    assert.deepEqual(latest, ALL.slice().reverse().slice(0, 3));
    const recorded = await all('platform', '/api/epcis/events?orderBy=recordTime&orderDirection=ASC&perPage=3');
    assert.deepEqual(recorded.slice().sort(), ALL.slice().sort());
    const tooMany = await get('platform', '/api/epcis/events?maxEventCount=3').expect(413);
    assert.equal(tooMany.body.code, 'QUERY_TOO_LARGE');
    await get('platform', '/api/epcis/events?maxEventCount=9').expect(200);
  });

  test('vocabulary collections list only what the caller may see', async () => {
    const members = async (who: string, kind: string) => {
      const out: string[] = [];
      let next: string | undefined = `/api/epcis/${kind}?perPage=1`;
      while (next) {
        const res: request.Response = await get(who, next).expect(200);
        assert.equal(res.body.type, 'Collection');
        out.push(...res.body.member);
        next = /<([^>]+)>; rel="next"/.exec(res.headers.link ?? '')?.[1];
      }
      return out;
    };
    assert.deepEqual(await members('platform', 'bizSteps'), [
      'commissioning',
      'inspecting',
      'packing',
      'receiving',
      'shipping',
    ]);
    assert.deepEqual(await members('brand2', 'bizSteps'), ['commissioning', 'receiving']);
    assert.deepEqual(await members('factory2', 'bizSteps'), ['commissioning', 'inspecting']);
    assert.deepEqual(await members('brand', 'dispositions'), ['active', 'in_progress', 'in_transit']);
    assert.deepEqual(await members('brand2', 'dispositions'), []);
    assert.deepEqual(await members('brand2', 'bizLocations'), [B2_DC]);
    assert.deepEqual(await members('factory2', 'readPoints'), [F2_LINE]);
    assert.deepEqual(await members('financier', 'readPoints'), [F1_SITE, F1_LINE, F2_LINE].sort());
    assert.deepEqual(await members('factory2', 'eventTypes'), ['ObjectEvent', 'TransformationEvent']);
    assert.deepEqual(await members('certifier', 'eventTypes'), ['ObjectEvent']);
    const bad = await get('brand', '/api/epcis/bizSteps?EQ_bizStep=x').expect(400);
    assert.equal(bad.body.parameter, 'EQ_bizStep');
  });

  test('unknown, repeated and malformed parameters: 400 naming the parameter', async () => {
    for (const [qs, parameter] of [
      ['EQ_bizstep=shipping', 'EQ_bizstep'],
      ['EQ_action=MOVE', 'EQ_action'],
      ['GE_eventTime=yesterday', 'GE_eventTime'],
      ['GE_eventTime=2026-11-01T10:00:00', 'GE_eventTime'],
      // Shapes PostgreSQL would refuse: refused here (400), never by the database (500).
      ['GE_eventTime=0000-01-01T00:00:00Z', 'GE_eventTime'],
      ['LT_eventTime=2026-02-30T00:00:00Z', 'LT_eventTime'],
      ['GE_recordTime=2025-02-29T00:00:00Z', 'GE_recordTime'],
      ['LT_recordTime=2026-01-01T00:00:00%2B99:00', 'LT_recordTime'],
      ['EQ_eventID=a%00b', 'EQ_eventID'],
      ['MATCH_epc=urn:x:%00', 'MATCH_epc'],
      ['perPage=0', 'perPage'],
      ['perPage=1001', 'perPage'],
      ['orderBy=quantity', 'orderBy'],
      ['orderDirection=UP&orderBy=eventTime', 'orderDirection'],
      ['orderDirection=ASC', 'orderDirection'],
      ['eventCountLimit=3', 'eventCountLimit'],
      ['eventType=QuantityEvent', 'eventType'],
      ['MATCH_epc=', 'MATCH_epc'],
      ['MATCH_epc=a|b', 'MATCH_epc'],
      ['MATCH_epc=urn:epc:idpat:giai:0614141.*', 'MATCH_epc'],
      ['EQ_bizStep=shipping&EQ_bizStep=receiving', 'EQ_bizStep'],
      ['GE_value_CEL=hot', 'GE_value_CEL'],
      ['EXISTS_errorDeclaration=maybe', 'EXISTS_errorDeclaration'],
      ['EQ_quantity=3', 'EQ_quantity'],
      ['nextPageToken=abc', 'nextPageToken'],
      // A misspelt CBV name is a typo, not an extension (a custom value must be a URI).
      ['EQ_bizStep=shiping', 'EQ_bizStep'],
      ['EQ_type=Humidity', 'EQ_type'],
      ['EQ_bizTransaction_purchase=urn:x:1', 'EQ_bizTransaction_purchase'],
    ]) {
      const res = await get('brand', `/api/epcis/events?${qs}`);
      assert.equal(res.status, 400, qs);
      assert.equal(res.body.code, 'QUERY_PARAMETER_INVALID', qs);
      assert.equal(res.body.parameter, parameter, qs);
      assert.equal(res.body.type, 'epcisException:QueryParameterException', qs);
    }
  });

  test('fast-check: arbitrary query strings never answer 500', async () => {
    const names = fc.oneof(
      fc.constantFrom(
        'eventType',
        'GE_eventTime',
        'LT_recordTime',
        'EQ_action',
        'EQ_bizStep',
        'MATCH_epc',
        'MATCH_anyEPCClass',
        'WD_bizLocation',
        'EQ_bizTransaction_po',
        'EQ_type',
        'GE_value_CEL',
        'EQ_errorReason',
        'EQ_correctiveEventID',
        'EQ_persistentDisposition_set',
        'orderBy',
        'orderDirection',
        'eventCountLimit',
        'maxEventCount',
        'perPage',
        'nextPageToken',
        'EXISTS_errorDeclaration',
      ),
      fc.string({ maxLength: 30 }),
    );
    const values = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.constantFrom(
        'urn:epc:idpat:sgtin:0614141.107346.*',
        'urn:epc:idpat:sgtin:0614141.*.*',
        `https://id.gs1.org/01/${G1}`,
        'https://id.gs1.org/01/x/21/%ZZ',
        '2026-11-01T00:00:00Z',
        '9999-99-99T99:99:99Z',
        '1e400',
        '-0',
        'ASC',
        'eventTime',
        '|',
        "'; DROP TABLE epcis_events; --",
        '$.a ? (@ == 1)',
        '0000-01-01T00:00:00Z',
        '2026-02-30T00:00:00Z',
        '2024-02-29T23:59:59.999999+14:00',
        'urn:x:\u0000',
        '\u0000',
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(names, values), { maxLength: 4 }), async (pairs) => {
        const qs = new URLSearchParams(pairs).toString();
        const res = await get('brand', `/api/epcis/events?${qs}`);
        assert.ok(res.status === 200 || res.status === 400 || res.status === 413, `${res.status} for ?${qs}`);
        if (res.status === 400) assert.equal(typeof res.body.parameter, 'string');
      }),
      { numRuns: 150 },
    );
  });

  test('fast-check: a forged, altered or borrowed nextPageToken is refused', async () => {
    const first = await get('factory1', '/api/epcis/events?perPage=1').expect(200);
    const link = /<([^>]+)>; rel="next"/.exec(first.headers.link)?.[1] as string;
    const token = new URL(link, 'http://x').searchParams.get('nextPageToken') as string;
    await get('factory1', link).expect(200);
    const refused = async (who: string, qs: string) => {
      const res = await get(who, `/api/epcis/events?${qs}`);
      assert.equal(res.status, 400, qs);
      assert.equal(res.body.parameter, 'nextPageToken');
    };
    // Another caller, another query, another resource: the same token is refused.
    await refused('factory2', `perPage=1&nextPageToken=${token}`);
    await refused('factory1', `perPage=1&EQ_bizStep=packing&nextPageToken=${token}`);
    const other = await get('factory1', `/api/epcis/bizSteps?nextPageToken=${token}`);
    assert.equal(other.status, 400);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }), async (at, ch) => {
        const forged = token.slice(0, at) + ch + token.slice(at + 1);
        fc.pre(forged !== token);
        await refused('factory1', `perPage=1&nextPageToken=${encodeURIComponent(forged)}`);
      }),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 300 }), async (forged) => {
        await refused('factory1', `perPage=1&nextPageToken=${encodeURIComponent(forged)}`);
      }),
      { numRuns: 40 },
    );
  });

  test('fast-check: paging with any perPage and order yields each event exactly once, in order', async () => {
    // Forty more events of one work order, many sharing an eventTime so that the id breaks ties.
    const extra: EventRow[] = [];
    for (let i = 0; i < 40; i++) {
      const f = FIXTURES[0] as Fixture;
      extra.push(
        row({ ...f, id: `urn:uuid:${randomUUID()}` }, `2026-11-1${i % 4}T10:00:00.${String(i % 3).padStart(3, '0')}Z`),
      );
    }
    await withTransaction(t.platform.pool, (c) => insertEvents(c, extra));
    const everything = await all('factory1', '/api/epcis/events?perPage=1000');
    assert.equal(everything.length, VISIBLE.factory1!.length + 40);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 25 }),
        fc.constantFrom('', 'orderBy=eventTime&orderDirection=ASC&', 'orderBy=eventTime&', 'orderBy=recordTime&'),
        async (perPage, order) => {
          const paged = await all('factory1', `/api/epcis/events?${order}perPage=${perPage}`);
          const whole = await all('factory1', `/api/epcis/events?${order}perPage=1000`);
          assert.equal(new Set(paged).size, paged.length, 'no event twice');
          assert.deepEqual(paged, whole);
          assert.deepEqual(paged.slice().sort(), everything.slice().sort());
        },
      ),
      { numRuns: 12 },
    );
  });
});
