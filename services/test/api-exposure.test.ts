import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Orgs } from '@c2m/shared';
import request from 'supertest';
import { demoTokens, startTestPlatform, type TestPlatform } from './helpers.js';

// What the platform shows to whom: security headers, the operators' endpoints, the API explorer, the limits
// on proof verification, and (item 6) which anchored batches each org sees.
describe('headers and exposure', () => {
  let t: TestPlatform;
  let tokens: Record<string, string>;
  const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });
  before(async () => {
    t = await startTestPlatform();
    tokens = await demoTokens(t, ['brand', 'factory1', 'factory2', 'financier', 'certifier']);
  });
  after(async () => t?.close());

  test('every response carries CSP, X-Frame-Options, X-Content-Type-Options and HSTS', async () => {
    for (const path of ['/', '/health', '/api/me', '/api/nothing-here', '/index.html']) {
      const res = await request(t.app.server).get(path);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /script-src 'self';/, `${path}: no inline or foreign script`);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.match(csp, /object-src 'none'/, path);
      assert.doesNotMatch(csp, /unsafe-eval/, path);
      assert.equal(res.headers['x-frame-options'], 'DENY', path);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
      assert.match(String(res.headers['strict-transport-security']), /max-age=\d{7,}/, path);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', path);
    }
    // The explorer has swagger-ui's own CSP (scripts from 'self' only), with nothing upgraded to https.
    const docs = await request(t.app.server).get('/docs').expect(200);
    assert.match(String(docs.headers['content-security-policy']), /script-src 'self'\s*;/);
    assert.doesNotMatch(String(docs.headers['content-security-policy']), /upgrade-insecure-requests/);
  });

  test('/metrics needs the metrics token: no token, a user token or a wrong one get 401', async () => {
    await request(t.app.server).get('/metrics').expect(401);
    await request(t.app.server).get('/metrics').set(as('certifier')).expect(401);
    for (const bad of ['x', `${t.config.metricsToken}x`, '', `bearer ${t.config.metricsToken}`]) {
      await request(t.app.server).get('/metrics').set('authorization', `Bearer ${bad}`).expect(401);
    }
    await request(t.app.server).get('/metrics').set('authorization', String(t.config.metricsToken)).expect(401);
    const ok = await request(t.app.server)
      .get('/metrics')
      .set('authorization', `Bearer ${t.config.metricsToken}`)
      .expect(200);
    assert.match(ok.text, /^c2m_ingest_received_total \d+$/m);
  });

  test('/ready says ready or not to anyone, and its details only with the metrics token', async () => {
    const anon = await request(t.app.server).get('/ready').expect(200);
    assert.equal(anon.body.status, 'ready');
    for (const c of Object.values(anon.body.checks) as { ok: boolean; detail: string }[]) {
      assert.equal(c.ok, true);
      assert.equal(c.detail, '');
    }
    const op = await request(t.app.server)
      .get('/ready')
      .set('authorization', `Bearer ${t.config.metricsToken}`)
      .expect(200);
    assert.match(op.body.checks.ledger.detail, /height \d+/);
  });

  test('/api/proofs/verify refuses a body over the limit with 413 before parsing it', async () => {
    const big = JSON.stringify({ bundle: { pad: 'x'.repeat(t.config.proofVerifyBodyLimit) } });
    const res = await request(t.app.server)
      .post('/api/proofs/verify')
      .set('content-type', 'application/json')
      .send(big)
      .expect(413);
    assert.equal(res.body.code, 'PAYLOAD_TOO_LARGE');
  });

  test('item 6: a factory sees only its own batches; a brand those of its work orders; finance and platform all', async () => {
    const q = (sql: string, params: unknown[] = []) => t.platform.pool.query(sql, params);
    const now = new Date().toISOString();
    // Two factories' batches, and one Factory1 batch holding an event of a Lanyue work order.
    await q(
      `INSERT INTO orders (id, brand_msp, created_by, product, lines, total_quantity, target_price_minor, currency,
                           due_date, ship_to, status)
       VALUES ('ORD-VIS', $1, 'brand', 'socks', '[]', 10, 100, 'CNY', '2027-01-01', 'Ningbo', 'in_production')`,
      [Orgs.brand],
    );
    await q(
      `INSERT INTO offers (id, order_id, factory_msp, quantity, lines, price_minor, due_date, status, expires_at)
       VALUES ('OFF-VIS', 'ORD-VIS', $1, 10, '[]', 100, '2027-01-01', 'accepted', now())`,
      [Orgs.factory1],
    );
    await q(
      `INSERT INTO work_orders (id, order_id, offer_id, brand_msp, factory_msp, brand_user, factory_user, product,
                                quantity, terms, terms_hash, status)
       VALUES ('WO-VIS', 'ORD-VIS', 'OFF-VIS', $1, $2, 'brand', 'factory1', 'socks', 10, '{}', 'h', 'accepted')`,
      [Orgs.brand, Orgs.factory1],
    );
    for (const [batchId, factory] of [
      ['B-F1-WO', Orgs.factory1],
      ['B-F1-OTHER', Orgs.factory1],
      ['B-F2', Orgs.factory2],
    ] as const) {
      await q(
        `INSERT INTO batches (batch_id, factory_msp, merkle_root, event_count, first_event_time, last_event_time)
         VALUES ($1, $2, $3, 1, $4, $4)`,
        [batchId, factory, '00'.repeat(32), now],
      );
    }
    await q(
      `INSERT INTO device_events (device_id, factory_msp, seq, event_time, type, work_order_id, data, message,
                                  signature, leaf_hash, batch_id)
       VALUES ('F1-VIS', $1, 1, $2, 'production', 'WO-VIS', '{}', 'm', 's', 'l', 'B-F1-WO')`,
      [Orgs.factory1, now],
    );
    const seen = async (who: string) => {
      const res = await request(t.app.server).get('/api/anchors').set(as(who)).expect(200);
      return res.body.items.map((a: { batchId: string }) => a.batchId).sort();
    };
    assert.deepEqual(await seen('factory1'), ['B-F1-OTHER', 'B-F1-WO']);
    assert.deepEqual(await seen('factory2'), ['B-F2']);
    assert.deepEqual(await seen('brand'), ['B-F1-WO']);
    assert.deepEqual(await seen('financier'), ['B-F1-OTHER', 'B-F1-WO', 'B-F2']);
    assert.deepEqual(await seen('certifier'), ['B-F1-OTHER', 'B-F1-WO', 'B-F2']);

    // The ledger's time line of a factory: not for its competitor, nor for brands.
    const window = 'from=2026-01-01T00:00:00Z&to=2030-01-01T00:00:00Z';
    const timeline = (who: string, mspId: string) =>
      request(t.app.server).get(`/api/factories/${mspId}/anchors?${window}`).set(as(who));
    await timeline('factory2', Orgs.factory1).expect(403);
    await timeline('brand', Orgs.factory1).expect(403);
    await timeline('factory1', Orgs.factory1).expect(200);
    await timeline('factory2', Orgs.factory2).expect(200);
    await timeline('financier', Orgs.factory1).expect(200);
    for (const hostile of ['..%2F..%2Fetc', "Factory1Org'--", '%00', 'factory1org']) {
      const res = await timeline('factory2', hostile);
      assert.ok([400, 403, 404].includes(res.status), `${hostile}: ${res.status}`);
    }
  });
});

describe('exposure in a production-like configuration', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({
      docs: false,
      metricsToken: undefined,
      proofVerifyRatePerMinute: 5,
      proofVerifyBodyLimit: 64 * 1024,
    });
  });
  after(async () => t?.close());

  test('without METRICS_TOKEN /metrics is off (404), and /docs is off (404, not the portal page)', async () => {
    await request(t.app.server).get('/metrics').expect(404);
    await request(t.app.server).get('/metrics').set('authorization', 'Bearer undefined').expect(404);
    const docs = await request(t.app.server).get('/docs').expect(404);
    assert.equal(docs.body.code, 'NOT_FOUND');
    await request(t.app.server).get('/docs/json').expect(404);
    // /ready keeps answering for probes, with no details.
    const ready = await request(t.app.server).get('/ready').expect(200);
    assert.equal(ready.body.checks.postgres.detail, '');
  });

  test('/api/proofs/verify is limited per client: 413 over the body limit, 429 past the rate', async () => {
    const big = JSON.stringify({ bundle: { pad: 'x'.repeat(64 * 1024) } });
    await request(t.app.server)
      .post('/api/proofs/verify')
      .set('content-type', 'application/json')
      .send(big)
      .expect(413);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await request(t.app.server).post('/api/proofs/verify').send({ bundle: {} })).status);
    }
    // The 413 above counted too: 5 per minute in all.
    assert.deepEqual(statuses, [400, 400, 400, 400, 429, 429, 429, 429]);
    const limited = await request(t.app.server).post('/api/proofs/verify').send({ bundle: {} }).expect(429);
    assert.equal(limited.body.code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) > 0);
  });
});
