import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './helpers.js';
import { login } from './ingest-fixtures.js';

/**
 * Orders no factory could take are refused at once with what would make them dispatchable, instead of
 * waiting in dispatch forever: a past due date, a quantity below every minimum batch, a category nobody makes.
 */
let t: TestPlatform;
before(async () => {
  t = await startTestPlatform();
});
after(async () => {
  await t?.close();
});

const order = (over: Record<string, unknown>) => ({
  product: 'Cashmere beanie',
  lines: [{ sku: 'BEANIE-1', quantity: 500 }],
  targetPriceMinor: 2000,
  currency: 'CNY',
  dueDate: new Date(Date.now() + 40 * 86400_000).toISOString().slice(0, 10),
  shipTo: 'Hangzhou DC',
  ...over,
});

test('undispatchable orders are refused with a reason and store nothing', async () => {
  const brand = await login(t, 'brand');
  const post = (body: Record<string, unknown>) => request(t.app.server).post('/api/orders').set(brand).send(body);

  const past = await post(order({ dueDate: '2020-01-01' })).expect(400);
  assert.equal(past.body.code, 'VALIDATION_FAILED');
  assert.match(past.body.message, /2020-01-01 is in the past/);

  const small = await post(order({ lines: [{ sku: 'BEANIE-1', quantity: 5 }] })).expect(400);
  assert.match(small.body.message, /below every factory's minimum batch \(the smallest is 200\)/);

  const category = await post(order({ spec: { category: 'cashmere hats' } })).expect(400);
  assert.match(category.body.message, /no factory on the network makes category 'cashmere hats'/);
  assert.match(category.body.message, /socks/);

  const { rows } = await t.platform.pool.query('SELECT COUNT(*)::int AS n FROM orders');
  assert.equal(rows[0].n, 0);

  // The same order with a category that is made, on a date ahead, at a batch a factory takes, is accepted.
  await post(order({ spec: { category: 'socks' } })).expect(201);
});
