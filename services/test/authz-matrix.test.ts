import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { demoTokens, startTestPlatform, type TestPlatform } from './helpers.js';

// The authorisation matrix: every route the app registers (seen through fastify's onRoute hook) against every
// demo principal and no token. A route missing from RULES fails the test, so a new route cannot ship without
// someone deciding who may call it; a rule that no longer matches fails too.
//
// Columns, in PRINCIPALS order: no token, brand (brand-manager), factory1, factory2 (factory-manager),
// certifier (platform org), financier, platform (the platform org's admin). Cells:
//   o  passes the authorisation gates (any status but 401 and 403: the handler then answers 2xx, 400, 404, 409)
//   A  401 (no token, or not a live session)
//   F  403 (role or org refused)
// Requests carry ids that do not exist and empty bodies, so nothing is changed; ownership rules inside
// handlers that answer 404 (a factory asking for another factory's profile) are covered by the route tests.
const PRINCIPALS = ['none', 'brand', 'factory1', 'factory2', 'certifier', 'financier', 'platform'] as const;

const RULES: Record<string, string> = {
  'GET /': 'ooooooo',
  'GET /index.html': 'ooooooo',
  'GET /health': 'ooooooo',
  // Public, but says only ready/unavailable per dependency without the metrics token (api-exposure.test.ts).
  'GET /ready': 'ooooooo',
  // Only with METRICS_TOKEN, never with a user's token.
  'GET /metrics': 'AAAAAAA',
  // The API explorer: public where enabled (development, demo, API_DOCS=1).
  'GET /docs': 'ooooooo',
  'GET /docs/json': 'ooooooo',
  'GET /docs/yaml': 'ooooooo',
  'GET /docs/static/*': 'ooooooo',
  'GET /docs/static/index.html': 'ooooooo',
  'GET /docs/static/swagger-initializer.js': 'ooooooo',

  'POST /api/auth/login': 'ooooooo',
  'POST /api/auth/refresh': 'ooooooo',
  'POST /api/auth/logout': 'Aoooooo',
  'POST /api/auth/password': 'Aoooooo',
  'GET /api/me': 'Aoooooo',
  'GET /api/orgs': 'Aoooooo',

  'GET /api/users': 'AFFFFFo',
  'POST /api/users': 'AFFFFFo',
  'POST /api/users/:username/disable': 'AFFFFFo',
  'POST /api/users/:username/enable': 'AFFFFFo',
  'POST /api/users/:username/reset-password': 'AFFFFFo',

  // GS1 product identity (routes/gs1.ts): each org manages its own; only brands have SKUs, only factories start.
  'GET /api/gs1/company-prefix': 'Aoooooo',
  'PUT /api/gs1/company-prefix': 'AooooFo',
  'GET /api/gs1/products': 'AoFFFFF',
  'POST /api/gs1/products': 'AoFFFFF',
  'GET /api/gs1/locations': 'Aoooooo',
  'POST /api/gs1/locations': 'AooooFo',
  'POST /api/gs1/sscc': 'AooooFo',
  'GET /api/work-orders/:workOrderId/lots': 'Aoooooo',
  'POST /api/work-orders/:workOrderId/start': 'AFooFFF',

  'GET /api/orders': 'AoFFoFo',
  'POST /api/orders': 'AoFFFFF',
  'GET /api/orders/:orderId': 'AoFFoFo',
  'PATCH /api/orders/:orderId': 'AoFFFFF',
  'POST /api/orders/:orderId/post': 'AoFFFFF',
  'POST /api/orders/:orderId/cancel': 'AoFFFFF',
  'POST /api/orders/:orderId/close': 'AoFFFFF',
  'GET /api/orders/:orderId/versions': 'AoFFoFo',
  'GET /api/offers': 'AFooFFF',
  'POST /api/offers/:offerId/accept': 'AFooFFF',
  'POST /api/offers/:offerId/decline': 'AFooFFF',

  'GET /api/factories': 'AoFFoFo',
  'GET /api/factories/:mspId/profile': 'AooooFo',
  'PUT /api/factories/:mspId/profile': 'AFooFFF',
  // Item 6: a factory's activity over time is its own, the platform's and the financiers' business.
  'GET /api/factories/:mspId/anchors': 'AFoFooo',
  // Filtered per caller inside (api-exposure.test.ts).
  'GET /api/anchors': 'Aoooooo',

  'GET /api/work-orders': 'Aoooooo',
  'GET /api/work-orders/:workOrderId': 'Aoooooo',
  'GET /api/work-orders/:workOrderId/events': 'Aoooooo',
  'GET /api/work-orders/:workOrderId/production': 'Aoooooo',
  'GET /api/work-orders/:workOrderId/proof': 'Aoooooo',
  'GET /api/work-orders/:workOrderId/milestones': 'Aoooooo',
  'POST /api/work-orders/:workOrderId/milestones': 'AoooFFF',
  // Anyone may verify a bundle; limited in size and rate per client (api-exposure.test.ts).
  'POST /api/proofs/verify': 'ooooooo',
  // The consortium's CAs and endorsement policy, for verifiers to pin: public by design.
  'GET /api/proofs/trust': 'ooooooo',
  // Trace graph: what the caller may not see is not in it (404 for a start it may not see; trace-graph.test.ts).
  'GET /api/trace/*': 'Aoooooo',
  // Recalls: a brand opens and moves its own; readers filtered inside (recalls.test.ts).
  'POST /api/recalls': 'AoFFFFF',
  'GET /api/recalls': 'Aoooooo',
  'GET /api/recalls/:recallId': 'Aoooooo',
  'POST /api/recalls/:recallId/status': 'AoFFFFF',
  'GET /api/recalls/:recallId/scope.csv': 'Aoooooo',
  'GET /api/recalls/:recallId/epcis-query': 'Aoooooo',
  // GS1 Digital Link resolver, QR codes and the consumer page's data: public by design (resolver.test.ts).
  'GET /01/:gtin/21/:serial': 'ooooooo',
  'GET /01/:gtin/10/:lot': 'ooooooo',
  'GET /01/:gtin': 'ooooooo',
  'GET /00/:sscc': 'ooooooo',
  'GET /api/qr/*': 'ooooooo',
  'GET /api/public/products/01/:gtin/21/:serial': 'ooooooo',
  'GET /api/public/products/01/:gtin/21/:serial/proof': 'ooooooo',

  // EPCIS capture: brand and factory managers (and their org admins), each org its own jobs.
  'POST /api/epcis/capture': 'AoooFFF',
  'GET /api/epcis/capture': 'AoooFFF',
  'GET /api/epcis/capture/:captureID': 'AoooFFF',
  // An EPCIS event's proof: whoever may see the event (its owner, its brand, finance and the platform); 404 else.
  'GET /api/epcis/events/:eventID/proof': 'Aoooooo',

  'POST /api/devices': 'AFooFFF',
  'POST /api/devices/bulk': 'AFooFFF',
  'GET /api/devices/bulk/:jobId': 'AFoooFo',
  'POST /api/devices/bulk/:jobId/retry': 'AFooFFF',
  'GET /api/devices': 'AFoooFo',
  'GET /api/devices/:deviceId': 'AFoooFo',
  'POST /api/devices/:deviceId/challenges': 'AFFFoFF',
  'POST /api/devices/:deviceId/certify': 'AFFFoFF',
  'POST /api/devices/:deviceId/suspend': 'AFFFoFF',
  'POST /api/devices/:deviceId/reactivate': 'AFFFoFF',
  'POST /api/devices/:deviceId/revoke': 'AFFFoFF',
  'POST /api/devices/:deviceId/rotate-key': 'AFooFFF',
  'GET /api/devices/:deviceId/certified-at': 'Aoooooo',

  'GET /api/ledger': 'Aoooooo',
  'GET /api/ledger/projection': 'Aoooooo',

  // EPCIS query: every signed-in org may ask; each answer holds only what the caller may see (epcis-query.test.ts).
  'GET /api/epcis/events': 'Aoooooo',
  'GET /api/epcis/events/:eventID': 'Aoooooo',
  'GET /api/epcis/epcs/:epc/events': 'Aoooooo',
  'GET /api/epcis/eventTypes': 'Aoooooo',
  'GET /api/epcis/bizSteps': 'Aoooooo',
  'GET /api/epcis/dispositions': 'Aoooooo',
  'GET /api/epcis/bizLocations': 'Aoooooo',
  'GET /api/epcis/readPoints': 'Aoooooo',

  'PUT /api/demand/products': 'AoFFFFF',
  'GET /api/demand/products': 'AoFFFFF',
  'POST /api/demand/signals': 'AoFFFFF',
  'POST /api/demand/signals.csv': 'AoFFFFF',
  'GET /api/demand/series/:level/:key': 'AoFFFFF',
  'POST /api/demand/forecasts': 'AoFFFFF',
  'GET /api/demand/forecasts': 'AoFFFFF',
  'GET /api/demand/forecasts/:runId': 'AoFFFFF',
  'GET /api/demand/forecasts/:runId/series/:sku': 'AoFFFFF',
  'GET /api/demand/forecasts/:runId/:level/:key': 'AoFFFFF',
  'POST /api/demand/forecasts/:runId/draft-order': 'AoFFFFF',
};

/** The portals' built files, one route each (fastify-static without a wildcard): public, whatever their hash. */
const STATIC_FILE = /^GET \/assets\/[A-Za-z0-9._-]+$/;

const PARAMS: Record<string, string> = {
  orderId: 'ORD-NONE',
  offerId: 'OFF-NONE',
  workOrderId: 'WO-NONE',
  deviceId: 'DEV-NONE',
  jobId: '00000000-0000-4000-8000-000000000000',
  runId: '00000000-0000-4000-8000-000000000000',
  mspId: 'Factory1Org',
  level: 'sku',
  key: 'NONE',
  sku: 'NONE',
  username: 'nobody',
  recallId: 'RCL-NONE',
};

/** Query strings some routes need to get past validation to their handler (where item 6's check lives). */
const QUERIES: Record<string, string> = {
  'GET /api/factories/:mspId/anchors': 'from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z',
  'GET /api/devices/:deviceId/certified-at': 'time=2026-01-01T00:00:00Z',
};

describe('authorisation matrix: every route x every role', () => {
  let t: TestPlatform;
  const tokens: Record<string, string> = {};
  before(async () => {
    t = await startTestPlatform();
    Object.assign(tokens, await demoTokens(t, PRINCIPALS.slice(1)));
  });
  after(async () => t?.close());

  test('every registered route has a rule, and every rule a route', () => {
    const routes = new Set(t.routes.filter((r) => !STATIC_FILE.test(r)));
    const missing = [...routes].filter((r) => !(r in RULES)).sort();
    assert.deepEqual(missing, [], `routes without an authorisation rule: add them to RULES\n${missing.join('\n')}`);
    const stale = Object.keys(RULES).filter((r) => !routes.has(r));
    assert.deepEqual(stale, [], 'rules for routes that no longer exist');
    for (const [route, cells] of Object.entries(RULES)) assert.match(cells, /^[oAF]{7}$/, route);
  });

  test('each principal gets what the table says', async () => {
    const mismatches: string[] = [];
    for (const route of [...t.routes].sort()) {
      if (STATIC_FILE.test(route)) continue;
      const rule = RULES[route];
      if (!rule) continue; // reported by the test above
      const [method, url] = route.split(' ') as [string, string];
      let path = url.replace(/:(\w+)/g, (_, name: string) => PARAMS[name] ?? 'NONE').replace('*', 'x');
      if (QUERIES[route]) path += `?${QUERIES[route]}`;
      const observed: string[] = [];
      for (const who of PRINCIPALS) {
        // Logging out would end the session the next rows use: it gets a session of its own.
        const token =
          who === 'none'
            ? undefined
            : route === 'POST /api/auth/logout'
              ? (await demoTokens(t, [who]))[who]
              : tokens[who];
        let req = request(t.app.server)[method.toLowerCase() as 'get'](path);
        if (token) req = req.set('authorization', `Bearer ${token}`);
        if (method !== 'GET') req = req.send({});
        const res = await req;
        observed.push(res.status === 401 ? 'A' : res.status === 403 ? 'F' : 'o');
      }
      if (observed.join('') !== rule) mismatches.push(`${route}: expected ${rule}, got ${observed.join('')}`);
    }
    assert.deepEqual(mismatches, [], `columns: ${PRINCIPALS.join(', ')}`);
  });

  test('a forbidden caller is refused before its body is read or validated', async () => {
    // A factory posting an order: 403, not the 400 an invalid body gets from a brand.
    const body = { nonsense: 'x'.repeat(10_000) };
    await request(t.app.server)
      .post('/api/orders')
      .set('authorization', `Bearer ${tokens.factory1}`)
      .send(body)
      .expect(403);
    await request(t.app.server)
      .post('/api/orders')
      .set('authorization', `Bearer ${tokens.brand}`)
      .send(body)
      .expect(400);
  });
});
