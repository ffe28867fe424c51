import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Orgs } from '@c2m/shared';
import request from 'supertest';
import { demoTokens, startTestPlatform, type TestPlatform } from './helpers.js';

/** A JWT signed with the platform's real secret, with whatever claims and header an attacker chooses. */
function forge(secret: Uint8Array, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = enc({ alg: 'HS256', typ: 'JWT', ...header });
  const body = enc(payload);
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

describe('tokens, sessions and user administration', () => {
  let t: TestPlatform;
  const strong = 'Correct-Horse-Battery-42';
  const login = (username: string, password: string) =>
    request(t.app.server).post('/api/auth/login').send({ username, password });
  const me = (token: string) => request(t.app.server).get('/api/me').set('authorization', `Bearer ${token}`);
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  before(async () => {
    // Lockout off the way (this file is about sessions; auth-throttle.test.ts is about throttling).
    t = await startTestPlatform({
      loginLockout: { threshold: 1000, baseMs: 1000, maxMs: 1000 },
      loginRatePerMinute: 1000,
    });
  });
  after(async () => t?.close());

  test('a login gives a short-lived token with exp and a session, and a refresh token', async () => {
    const res = await login('brand', 'demo').expect(200);
    assert.equal(res.body.expiresIn, t.config.accessTokenTtlSec);
    const claims = JSON.parse(Buffer.from(res.body.token.split('.')[1], 'base64url').toString());
    assert.equal(claims.exp - claims.iat, t.config.accessTokenTtlSec);
    assert.match(claims.sid, /^[0-9a-f-]{36}$/);
    assert.match(res.body.refreshToken, /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    assert.ok(Date.parse(res.body.sessionExpiresAt) > Date.now() + 3600_000);
    await me(res.body.token).expect(200);
  });

  test('tokens without exp, for unknown users, with alg none, expired, or with a bad signature are refused', async () => {
    const secret = t.platform.identity.apiTokenSecret();
    const good = (await login('brand', 'demo').expect(200)).body;
    const claims = JSON.parse(Buffer.from(good.token.split('.')[1], 'base64url').toString());
    const now = Math.floor(Date.now() / 1000);
    const user = { username: 'brand', mspId: Orgs.brand, orgKind: 'brand', role: 'brand-manager', displayName: 'x' };
    const cases: Record<string, string> = {
      'no exp': forge(secret, { ...user, sid: claims.sid, iat: now }),
      'no sid': forge(secret, { ...user, iat: now, exp: now + 600 }),
      'unknown user': forge(secret, { ...user, username: 'ghost', sid: claims.sid, iat: now, exp: now + 600 }),
      'unknown session': forge(secret, { ...user, sid: randomUUID(), iat: now, exp: now + 600 }),
      'someone else’s session': forge(secret, { ...user, username: 'factory1', sid: claims.sid, exp: now + 600 }),
      expired: forge(secret, { ...user, sid: claims.sid, iat: now - 7200, exp: now - 3600 }),
      'alg none': `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${good.token.split('.')[1]}.`,
      'HS512 header': forge(secret, { ...claims }, { alg: 'HS512' }),
      'wrong secret': forge(Buffer.alloc(32, 7), { ...claims }),
      'sid not a uuid': forge(secret, { ...user, sid: "' OR 1=1 --", exp: now + 600 }),
      garbage: 'not.a.token',
      empty: '',
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await me(token);
      assert.equal(res.status, 401, `${name}: ${res.status} ${res.text}`);
      assert.equal(res.body.code, 'UNAUTHENTICATED', name);
    }
    // The same forged claims with the real session and exp work: the refusals above are about what was missing.
    await me(forge(secret, { ...claims })).expect(200);
  });

  test('logout ends the session: access and refresh tokens stop working', async () => {
    const s = (await login('factory1', 'demo').expect(200)).body;
    await me(s.token).expect(200);
    await request(t.app.server).post('/api/auth/logout').set(as(s.token)).expect(204);
    await me(s.token).expect(401);
    await request(t.app.server).post('/api/auth/refresh').send({ refreshToken: s.refreshToken }).expect(401);
  });

  test('refresh rotates; a spent refresh token ends the session (copied token)', async () => {
    const s = (await login('financier', 'demo').expect(200)).body;
    const r1 = (
      await request(t.app.server).post('/api/auth/refresh').send({ refreshToken: s.refreshToken }).expect(200)
    ).body;
    assert.notEqual(r1.refreshToken, s.refreshToken);
    assert.equal(r1.user.username, 'financier');
    await me(r1.token).expect(200);
    // The old refresh token again: refused, and the whole session (also r1's tokens) ends.
    await request(t.app.server).post('/api/auth/refresh').send({ refreshToken: s.refreshToken }).expect(401);
    await me(r1.token).expect(401);
    await request(t.app.server).post('/api/auth/refresh').send({ refreshToken: r1.refreshToken }).expect(401);
  });

  test('hostile refresh tokens are refused with 400 or 401, never 500', async () => {
    const hostile = [
      '',
      '.',
      'x'.repeat(201),
      `${randomUUID()}.`,
      `${randomUUID()}.${'A'.repeat(43)}`,
      "'; DROP TABLE auth_sessions; --.x",
      '00000000-0000-0000-0000-000000000000.x.y',
      '\u0000\u0001.x',
    ];
    for (const refreshToken of hostile) {
      const res = await request(t.app.server).post('/api/auth/refresh').send({ refreshToken });
      assert.ok([400, 401].includes(res.status), `${JSON.stringify(refreshToken)}: ${res.status}`);
    }
    for (const body of [{}, { refreshToken: { $ne: null } }, { refreshToken: 'x', extra: 1 }, { refreshToken: null }]) {
      await request(t.app.server).post('/api/auth/refresh').send(body).expect(400);
    }
    // The app coerces scalars and one-element arrays to strings (ajv coerceTypes 'array'): then simply wrong.
    for (const refreshToken of [42, ['x']]) {
      await request(t.app.server).post('/api/auth/refresh').send({ refreshToken }).expect(401);
    }
  });

  test('hostile logins get 400 or 401', async () => {
    const bodies = [
      {},
      { username: 'brand' },
      { username: 'brand', password: 'demo', admin: true },
      { username: 'x'.repeat(65), password: 'demo' },
      { username: 'brand', password: 'p'.repeat(257) },
      { username: ['brand', 'factory1'], password: 'demo' },
      { username: { $ne: null }, password: { $ne: null } },
    ];
    for (const body of bodies) await request(t.app.server).post('/api/auth/login').send(body).expect(400);
    for (const [u, p] of [
      ["brand' OR '1'='1", 'demo'],
      ['brand', "' OR '1'='1"],
      ['BRAND', 'demo'],
      ['brand\u0000', 'demo'],
      ['ghost', 'demo'],
      ['brand', 'demo '],
    ] as const) {
      const res = await login(u, p);
      assert.equal(res.status, 401, `${u}/${p}: ${res.status}`);
    }
    await request(t.app.server)
      .post('/api/auth/login')
      .set('content-type', 'application/json')
      .send('{"username":')
      .expect(400);
  });

  test('changing one’s password ends every session of the user; weak and wrong passwords are refused', async () => {
    const s1 = (await login('certifier', 'demo').expect(200)).body;
    const s2 = (await login('certifier', 'demo').expect(200)).body;
    const change = (token: string, currentPassword: string, newPassword: string) =>
      request(t.app.server).post('/api/auth/password').set(as(token)).send({ currentPassword, newPassword });
    await change(s1.token, 'wrong', strong).expect(403);
    for (const weak of ['demo', 'short-1', 'aaaaaaaaaaaaaaaa', 'my-certifier-password', 'Password']) {
      const res = await change(s1.token, 'demo', weak).expect(400);
      assert.match(res.body.message, /password refused/);
    }
    await change(s1.token, 'demo', strong).expect(204);
    await me(s1.token).expect(401);
    await me(s2.token).expect(401);
    await login('certifier', 'demo').expect(401);
    await login('certifier', strong).expect(200);
  });

  test('administrators create, disable, enable and reset users, each org admin only for its org', async () => {
    const { platform: admin } = await demoTokens(t, ['platform']);
    const create = (token: string, body: Record<string, unknown>) =>
      request(t.app.server).post('/api/users').set(as(token)).send(body);
    // The platform admin makes an admin for the brand org.
    const brandAdmin = { username: 'lanyue-admin', mspId: Orgs.brand, role: 'admin', displayName: 'Lanyue admin' };
    const created = await create(admin, { ...brandAdmin, password: strong }).expect(201);
    assert.equal(created.body.orgKind, 'brand');
    assert.equal(created.body.disabled, false);
    assert.ok(t.platform.identity.user('lanyue-admin'), 'its ledger identity was enrolled');
    await create(admin, { ...brandAdmin, password: strong }).expect(409);
    const ba = (await login('lanyue-admin', strong).expect(200)).body.token;

    // The brand admin manages its org, and nothing else.
    const buyer = {
      username: 'buyer1',
      mspId: Orgs.brand,
      role: 'brand-manager',
      displayName: 'Buyer',
      password: strong,
    };
    await create(ba, buyer).expect(201);
    await create(ba, { ...buyer, username: 'f1-sneaky', mspId: Orgs.factory1, role: 'factory-manager' }).expect(403);
    await create(ba, { ...buyer, username: 'buyer2', role: 'certifier' }).expect(400);
    await create(ba, { ...buyer, username: 'peer0' }).expect(400);
    await create(ba, { ...buyer, username: 'Bad Name' }).expect(400);
    await create(ba, { ...buyer, username: 'buyer3', password: 'demo' }).expect(400);
    await create(ba, { ...buyer, username: 'buyer4', mspId: 'NoSuchOrg' }).expect(403);
    await create(admin, { ...buyer, username: 'buyer4', mspId: 'NoSuchOrg' }).expect(404);
    const listed = await request(t.app.server).get('/api/users').set(as(ba)).expect(200);
    assert.deepEqual(new Set(listed.body.items.map((u: { mspId: string }) => u.mspId)), new Set([Orgs.brand]));
    await request(t.app.server).get(`/api/users?mspId=${Orgs.factory1}`).set(as(ba)).expect(403);
    await request(t.app.server).post('/api/users/factory1/disable').set(as(ba)).expect(404);
    await request(t.app.server).post('/api/users/lanyue-admin/disable').set(as(ba)).expect(409);
    // A brand manager is no administrator.
    const buyerToken = (await login('buyer1', strong).expect(200)).body.token;
    await request(t.app.server).get('/api/users').set(as(buyerToken)).expect(403);

    // Disabling ends the user's sessions at once and refuses its logins; enabling lets it back in.
    const buyerSession = (await login('buyer1', strong).expect(200)).body;
    await request(t.app.server).post('/api/users/buyer1/disable').set(as(ba)).expect(200);
    await me(buyerToken).expect(401);
    await request(t.app.server).post('/api/auth/refresh').send({ refreshToken: buyerSession.refreshToken }).expect(401);
    await login('buyer1', strong).expect(401);
    await request(t.app.server).post('/api/users/buyer1/enable').set(as(ba)).expect(200);
    await login('buyer1', strong).expect(200);

    // A reset (rotation) ends the sessions and replaces the password.
    const before = (await login('buyer1', strong).expect(200)).body.token;
    const next = 'Another-Strong-Pass-77';
    await request(t.app.server)
      .post('/api/users/buyer1/reset-password')
      .set(as(ba))
      .send({ password: next })
      .expect(204);
    await me(before).expect(401);
    await login('buyer1', strong).expect(401);
    await login('buyer1', next).expect(200);
    // The platform admin may manage any org's users.
    await request(t.app.server).post('/api/users/buyer1/disable').set(as(admin)).expect(200);
  });
});
