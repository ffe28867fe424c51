import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './helpers.js';

// Login throttling against real Redis: a lockout per username with a growing window (auth/login-throttle.ts)
// and a limit per client IP (@fastify/rate-limit, plugins/route-limits.ts).
describe('login throttling', () => {
  let t: TestPlatform;
  const login = (username: string, password: string) =>
    request(t.app.server).post('/api/auth/login').send({ username, password });

  before(async () => {
    t = await startTestPlatform({
      loginLockout: { threshold: 3, baseMs: 1500, maxMs: 4000 },
      loginRatePerMinute: 150,
    });
  });
  after(async () => t?.close());

  test('after repeated failures even the right password gets 429 with Retry-After, until the lock ends', async () => {
    for (let i = 0; i < 3; i++) await login('factory2', `wrong-${i}`).expect(401);
    const locked = await login('factory2', 'demo').expect(429);
    assert.equal(locked.body.code, 'RATE_LIMITED');
    const retryAfter = Number(locked.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${locked.headers['retry-after']}`);
    await sleep(1600);
    // The lock has run out: one more attempt is let through; the right password succeeds and clears the streak.
    await login('factory2', 'demo').expect(200);
    await login('factory2', 'wrong-again').expect(401);
    await login('factory2', 'demo').expect(200);
  });

  test('each further failure after a lock doubles it, up to the maximum', async () => {
    for (let i = 0; i < 3; i++) await login('certifier', `wrong-${i}`).expect(401);
    await sleep(1600);
    await login('certifier', 'still-wrong').expect(401); // let through after the first lock; locks for 3 s
    const res = await login('certifier', 'demo').expect(429);
    assert.ok(Number(res.headers['retry-after']) >= 2, `Retry-After ${res.headers['retry-after']}`);
    await sleep(3100);
    await login('certifier', 'demo').expect(200);
  });

  test('unknown usernames are locked exactly like known ones (no enumeration through 429s)', async () => {
    for (let i = 0; i < 3; i++) await login('no-such-user', `x-${i}`).expect(401);
    const res = await login('no-such-user', 'x').expect(429);
    assert.ok(Number(res.headers['retry-after']) >= 1);
  });

  test('concurrent guesses cannot slip past the lock: at most the threshold reach the password check', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => login('financier', `guess-${i}`)));
    const counts: Record<number, number> = {};
    for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
    assert.deepEqual(counts, { 401: 3, 429: 37 }, JSON.stringify(counts));
    await login('financier', 'demo').expect(429);
  });

  test('one client IP gets 429 past the per-minute limit, whatever the body', async () => {
    let limited: request.Response | undefined;
    for (let i = 0; i < 200 && !limited; i++) {
      const res = await request(t.app.server).post('/api/auth/login').send({});
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 400);
    }
    assert.ok(limited, 'no 429 within 200 requests');
    assert.equal(limited.body.code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    // Signed-in calls are not limited this way.
    await request(t.app.server).get('/health').expect(200);
  });
});
