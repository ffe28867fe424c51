import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Orgs } from '@c2m/shared';
import fc from 'fast-check';
import pino from 'pino';
import request from 'supertest';
import { createPool } from '../src/db/database.js';
import type { SimulatedDevice } from '../src/iot/simulator.js';
import { createDispatcher } from '../src/orders/dispatch.js';
import { DemoProfiles, type FactoryProfile } from '../src/orders/factories-service.js';
import {
  type DemandLine,
  type DispatchProblem,
  evaluatePlan,
  type FactorySupply,
  greedyDispatch,
  solveDispatch,
} from '../src/orders/solver.js';
import { redisConnection } from '../src/queues.js';
import { demoTokens, startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { certify, provisionDevices } from './ingest-fixtures.js';

const factory = (id: string, over: Partial<FactorySupply> = {}): FactorySupply => ({
  id,
  categories: ['socks'],
  materials: ['cotton'],
  processes: ['knitting'],
  certificates: [{ name: 'OEKO-TEX 100', validUntil: '2027-12-31' }],
  capacity: [1000, 1000, 1000, 1000],
  committed: [0, 0, 0, 0],
  minBatch: 0,
  costCurve: [{ upToShare: 1, unitCostMinor: 800 }],
  qualityScore: 0.95,
  ...over,
});
const line = (id: string, over: Partial<DemandLine> = {}): DemandLine => ({
  id,
  orderId: 'O1',
  sku: id,
  quantity: 1000,
  category: 'socks',
  dueWeek: 2,
  dueDate: '2027-01-15',
  unitPriceMinor: 1200,
  requiredCertificates: ['OEKO-TEX 100'],
  ...over,
});

/** Every constraint a plan must keep, checked from the outside. */
function assertFeasible(p: DispatchProblem, result: Awaited<ReturnType<typeof solveDispatch>>) {
  const load = new Map<string, number>();
  for (const a of result.allocations) {
    const f = p.factories.find((x) => x.id === a.factoryId) as FactorySupply;
    assert.ok(a.quantity >= f.minBatch, `batch ${a.quantity} below minimum ${f.minBatch}`);
    assert.ok(Number.isInteger(a.quantity) && a.quantity > 0);
    const excluded = result.exclusions[a.lineId]?.some((e) => e.factoryId === a.factoryId);
    assert.ok(!excluded, `${a.lineId} went to excluded ${a.factoryId}`);
    const key = `${a.factoryId}/${a.week}`;
    load.set(key, (load.get(key) ?? 0) + a.quantity);
  }
  for (const [key, q] of load) {
    const [fid, w] = key.split('/') as [string, string];
    const f = p.factories.find((x) => x.id === fid) as FactorySupply;
    const cap = (f.capacity[Number(w)] ?? 0) - (f.committed[Number(w)] ?? 0);
    assert.ok(q <= cap, `${key}: ${q} > free capacity ${cap}`);
  }
  for (const l of p.lines) {
    const given = result.allocations.filter((a) => a.lineId === l.id).reduce((s, a) => s + a.quantity, 0);
    assert.equal(given + (result.unallocated[l.id] ?? 0), l.quantity);
  }
}

describe('dispatch solver', () => {
  test('the cheaper factory takes what fits; capacity binds and the rest goes to the next', async () => {
    const p: DispatchProblem = {
      weeks: 4,
      lines: [line('A', { dueWeek: 0 })],
      factories: [
        factory('CHEAP', { capacity: [600, 600, 600, 600] }),
        factory('DEAR', { costCurve: [{ upToShare: 1, unitCostMinor: 850 }] }),
      ],
    };
    const r = await solveDispatch(p);
    assertFeasible(p, r);
    const at = (id: string) => r.allocations.filter((a) => a.factoryId === id).reduce((s, a) => s + a.quantity, 0);
    // On time matters more than the 50 fen difference: a week late costs 10% of 1,200 (120 fen) a unit.
    assert.equal(at('CHEAP'), 600);
    assert.equal(at('DEAR'), 400);
    assert.ok(r.allocations.every((a) => a.week === 0));
    assert.equal(r.status, 'optimal');
  });

  test('a certificate expiring before the due date, a missing material or a too-large minimum batch exclude a factory', async () => {
    const p: DispatchProblem = {
      weeks: 4,
      lines: [line('A', { quantity: 250, materials: ['cotton'] })],
      factories: [
        factory('EXPIRED', { certificates: [{ name: 'OEKO-TEX 100', validUntil: '2027-01-14' }] }),
        factory('NO-COTTON', { materials: ['nylon'] }),
        factory('BIG-BATCH', { minBatch: 300 }),
        factory('OK', { costCurve: [{ upToShare: 1, unitCostMinor: 2000 }] }),
      ],
    };
    const r = await solveDispatch(p);
    assertFeasible(p, r);
    assert.deepEqual(
      (r.exclusions.A ?? []).map((e) => [e.factoryId, e.reason]),
      [
        ['EXPIRED', 'certificate'],
        ['NO-COTTON', 'material'],
        ['BIG-BATCH', 'min_batch'],
      ],
    );
    assert.deepEqual(
      r.allocations.map((a) => a.factoryId),
      ['OK'],
    );
  });

  test('minimum batches hold: no run below the minimum even when the LP would split finely', async () => {
    const p: DispatchProblem = {
      weeks: 3,
      lines: [line('A', { quantity: 700, dueWeek: 0 }), line('B', { quantity: 500, dueWeek: 0 })],
      factories: [
        factory('F1', { capacity: [650, 650, 650], minBatch: 300 }),
        factory('F2', { capacity: [650, 650, 650], minBatch: 300, qualityScore: 0.9 }),
      ],
    };
    const r = await solveDispatch(p);
    assertFeasible(p, r);
    assert.equal(
      Object.values(r.unallocated).reduce((s, n) => s + n, 0),
      0,
    );
  });

  test('when capacity before the due date is short, the remainder is planned late and priced as late', async () => {
    const p: DispatchProblem = {
      weeks: 4,
      lines: [line('A', { quantity: 1500, dueWeek: 0 })],
      factories: [factory('ONLY', { capacity: [1000, 1000, 1000, 1000] })],
    };
    const r = await solveDispatch(p);
    assertFeasible(p, r);
    assert.deepEqual(r.allocations.map((a) => [a.week, a.quantity]).sort(), [
      [0, 1000],
      [1, 500],
    ]);
  });

  test('property: every plan is feasible, its bound is below it and below greedy', async () => {
    const supply = fc.record({
      cap: fc.integer({ min: 0, max: 2000 }),
      committed: fc.integer({ min: 0, max: 800 }),
      minBatch: fc.constantFrom(0, 100, 250),
      cost: fc.integer({ min: 500, max: 1500 }),
      overtime: fc.integer({ min: 0, max: 500 }),
      quality: fc.double({ min: 0.8, max: 1, noNaN: true }),
      certified: fc.boolean(),
    });
    const demand = fc.record({
      quantity: fc.integer({ min: 1, max: 3000 }),
      dueWeek: fc.integer({ min: -1, max: 3 }),
      price: fc.integer({ min: 500, max: 3000 }),
      needsCert: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(supply, { minLength: 1, maxLength: 5 }),
        fc.array(demand, { minLength: 1, maxLength: 6 }),
        async (fs, ls) => {
          const p: DispatchProblem = {
            weeks: 4,
            factories: fs.map((f, i) =>
              factory(`F${i}`, {
                capacity: [f.cap, f.cap, f.cap, f.cap],
                committed: [f.committed, 0, 0, 0],
                minBatch: f.minBatch,
                costCurve: [
                  { upToShare: 0.7, unitCostMinor: f.cost },
                  { upToShare: 1, unitCostMinor: f.cost + f.overtime },
                ],
                qualityScore: f.quality,
                certificates: f.certified ? [{ name: 'OEKO-TEX 100', validUntil: '2027-12-31' }] : [],
              }),
            ),
            lines: ls.map((l, i) =>
              line(`L${i}`, {
                quantity: l.quantity,
                dueWeek: l.dueWeek,
                unitPriceMinor: l.price,
                requiredCertificates: l.needsCert ? ['OEKO-TEX 100'] : [],
              }),
            ),
          };
          const r = await solveDispatch(p);
          assertFeasible(p, r);
          const g = greedyDispatch(p);
          assert.ok(r.bound <= r.objective + 1e-6);
          assert.ok(r.bound <= g.objective + 1e-6, 'the LP bound is a lower bound for any plan');
          assert.ok(Math.abs(evaluatePlan(p, r.allocations).objective - r.objective) < 1e-6);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('dispatch on the platform', () => {
  let t: TestPlatform;
  const tokens: Record<string, string> = {};
  const as = (user: string) => ({ Authorization: `Bearer ${tokens[user]}` });
  const due = new Date(Date.now() + 16 * 86400_000).toISOString().slice(0, 10);
  // Small, seven-day lines so a handful of orders fill them; no shutdowns inside the horizon.
  const smallProfile = (base: FactoryProfile, unitsPerDay: number): FactoryProfile => ({
    ...base,
    lines: [{ id: 'line-1', unitsPerDay, workDays: [1, 2, 3, 4, 5, 6, 7] }],
    shutdowns: [],
    minBatch: 100,
  });

  before(async () => {
    t = await startTestPlatform();
    Object.assign(tokens, await demoTokens(t, ['brand', 'factory1', 'factory2']));
  });
  after(async () => {
    await t?.close();
  });

  const postOrder = async (quantity: number, sku = 'S1') => {
    const res = await request(t.app.server)
      .post('/api/orders')
      .set(as('brand'))
      .send({
        product: 'Crew sock',
        lines: [{ sku, quantity }],
        spec: { category: 'socks', requiredCertificates: ['OEKO-TEX 100'] },
        targetPriceMinor: 1200,
        currency: 'CNY',
        dueDate: due,
        shipTo: 'Hangzhou DC',
      })
      .expect(201);
    return res.body.id as string;
  };

  test('profiles: a factory edits only its own, with If-Match; brands read them with computed quality', async () => {
    const mine = await request(t.app.server).get(`/api/factories/${Orgs.factory1}/profile`).set(as('factory1'));
    assert.equal(mine.status, 200);
    assert.equal(mine.body.quality.score, 0.95, 'no anchored QC yet: the neutral prior');
    assert.equal(mine.body.quality.firstPassYield, null);
    const profile = smallProfile(DemoProfiles[Orgs.factory1] as FactoryProfile, 100);
    await request(t.app.server)
      .put(`/api/factories/${Orgs.factory2}/profile`)
      .set(as('factory1'))
      .send(profile)
      .expect(403);
    await request(t.app.server)
      .put(`/api/factories/${Orgs.factory1}/profile`)
      .set(as('factory1'))
      .set('If-Match', '"999"')
      .send(profile)
      .expect(412);
    const put = await request(t.app.server)
      .put(`/api/factories/${Orgs.factory1}/profile`)
      .set(as('factory1'))
      .set('If-Match', `"${mine.body.version}"`)
      .send(profile)
      .expect(200);
    assert.equal(put.body.version, mine.body.version + 1);
    assert.equal(put.body.capacity[1].units, 700);
    const typedQuality = await request(t.app.server)
      .put(`/api/factories/${Orgs.factory1}/profile`)
      .set(as('factory1'))
      .send({ ...profile, qualityScore: 1 })
      .expect(400);
    assert.equal(typedQuality.body.code, 'VALIDATION_FAILED', 'quality is computed, never typed in');
    await request(t.app.server)
      .put(`/api/factories/${Orgs.factory2}/profile`)
      .set(as('factory2'))
      .send(smallProfile(DemoProfiles[Orgs.factory2] as FactoryProfile, 100))
      .expect(200);
    const list = await request(t.app.server).get('/api/factories').set(as('brand')).expect(200);
    assert.equal(list.body.items.length, 2);
  });

  test('without a certified device on a line a factory gets nothing; with one it gets an explained offer', async () => {
    // Devices as a factory registers them (CSR, ledger). Registered is not enough: only certification, with a
    // proof of possession, makes a line's production verifiable.
    const [knit] = await provisionDevices(t, ['factory1-knit-01'], { factoryUser: 'factory1', certify: false });
    const orderId = await postOrder(300);
    const { rows } = await waitFor('the order dispatched', async () => {
      const r = await t.platform.pool.query(
        `SELECT action FROM order_events WHERE order_id = $1 AND action IN ('offered','no_factory_available')`,
        [orderId],
      );
      return r.rows.length > 0 ? r : undefined;
    });
    assert.equal(rows[0].action, 'no_factory_available');

    await certify(t, knit as SimulatedDevice);
    await t.platform.dispatcher.dispatchNow(orderId);
    const order = await request(t.app.server).get(`/api/orders/${orderId}`).set(as('brand')).expect(200);
    assert.equal(order.body.offers.length, 1);
    const offer = order.body.offers[0];
    assert.equal(offer.factoryMspId, Orgs.factory1);
    assert.equal(offer.quantity, 300);
    assert.match(offer.explanation.why, /eligible/);
    assert.ok(
      offer.explanation.alternatives.some(
        (a: { factoryMspId: string; reason: string }) => a.factoryMspId === Orgs.factory2 && a.reason === 'devices',
      ),
    );
    assert.ok(offer.explanation.binding.some((b: { constraint: string }) => b.constraint === 'certificate'));
    assert.equal(
      offer.schedule.reduce((s: number, x: { quantity: number }) => s + x.quantity, 0),
      300,
    );
  });

  test('a decline re-dispatches the remainder to the other factory', async () => {
    await provisionDevices(t, ['factory2-knit-01'], { factoryUser: 'factory2' });
    const orderId = await postOrder(400, 'S2');
    const first = await waitFor('an offer', async () => {
      const r = await request(t.app.server).get(`/api/orders/${orderId}`).set(as('brand'));
      return r.body.offers?.length > 0 ? r.body.offers[0] : undefined;
    });
    const user = first.factoryMspId === Orgs.factory1 ? 'factory1' : 'factory2';
    await request(t.app.server)
      .post(`/api/offers/${first.id}/decline`)
      .set(as(user))
      .send({ reason: 'capacity' })
      .expect(200);
    const second = await waitFor('a second offer', async () => {
      const r = await request(t.app.server).get(`/api/orders/${orderId}`).set(as('brand'));
      return r.body.offers?.find((o: { status: string }) => o.status === 'open');
    });
    assert.notEqual(second.factoryMspId, first.factoryMspId);
    assert.equal(second.quantity, 400);
  });

  test('concurrent dispatches from two processes never book a factory-week beyond its capacity', async () => {
    // A second dispatcher with its own pool and queue prefix stands for another platform process.
    const otherPool = createPool(t.config.databaseUrl);
    const other = createDispatcher({
      pool: otherPool,
      connection: redisConnection(t.config.redisUrl),
      prefix: `${t.config.redisPrefix}-other`,
      logger: pino({ level: 'silent' }),
      offerTtlMs: 60_000,
      factories: () => [Orgs.factory1, Orgs.factory2],
      orders: () => t.platform.orders,
      factoryProfiles: t.platform.factories,
      horizonWeeks: t.config.dispatchHorizonWeeks,
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) ids.push(await postOrder(400 + (i % 4) * 100, `C${i}`));
      await Promise.all(
        ids.flatMap((id) => [t.platform.dispatcher.dispatchNow(id), other.dispatchNow(id), other.dispatchNow(id)]),
      );
      const { rows } = await t.platform.pool.query(
        `SELECT r.factory_msp, r.week::text AS week, SUM(r.quantity)::int AS units
         FROM capacity_reservations r JOIN offers o ON o.id = r.offer_id
         WHERE o.status IN ('open','accepted') GROUP BY 1, 2`,
      );
      assert.ok(rows.length > 0);
      for (const msp of [Orgs.factory1, Orgs.factory2]) {
        const view = await request(t.app.server).get(`/api/factories/${msp}/profile`).set(as('brand')).expect(200);
        const cap = new Map(
          view.body.capacity.map((c: { week: string; certifiedUnits: number }) => [c.week, c.certifiedUnits]),
        );
        for (const r of rows.filter((x) => x.factory_msp === msp)) {
          assert.ok(r.units <= (cap.get(r.week) as number), `${msp} week ${r.week}: ${r.units} > ${cap.get(r.week)}`);
        }
      }
      // No order is offered more than it asked for, however many dispatches raced on it.
      const { rows: over } = await t.platform.pool.query(
        `SELECT o.id FROM orders o JOIN offers f ON f.order_id = o.id AND f.status IN ('open','accepted')
         GROUP BY o.id, o.total_quantity HAVING SUM(f.quantity) > o.total_quantity`,
      );
      assert.deepEqual(over, []);
      const { rows: full } = await t.platform.pool.query(
        `SELECT COUNT(*)::int AS n FROM order_events WHERE action = 'no_factory_available'`,
      );
      assert.ok(full[0].n > 0, 'the orders outnumber the capacity, so some found no room');

      // Cancelling an order gives its capacity back, and an order that was waiting gets it. First let the
      // platform's own workers finish the dispatch jobs the postings queued, so only the cancel can explain it.
      await waitFor('the dispatch queue drained', async () => {
        const c = await t.platform.dispatcher.queue.getJobCounts('waiting', 'active', 'prioritized');
        return (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) === 0 ? true : undefined;
      });
      const waiting = async () =>
        (
          await t.platform.pool.query(
            `SELECT o.id FROM orders o WHERE o.status <> 'cancelled' AND (SELECT e.action FROM order_events e
               WHERE e.order_id = o.id AND e.action IN ('offered','no_factory_available')
               ORDER BY e.id DESC LIMIT 1) = 'no_factory_available'`,
          )
        ).rows.map((r) => r.id as string);
      const before = await waiting();
      assert.ok(before.length > 0);
      const { rows: donors } = await t.platform.pool.query(
        `SELECT order_id FROM offers WHERE status = 'open' AND quantity >= 400 AND order_id = ANY($1) LIMIT 1`,
        [ids],
      );
      const offered = async () =>
        (
          await t.platform.pool.query(
            `SELECT COALESCE(SUM(quantity), 0)::int AS n FROM offers WHERE status = 'open' AND order_id = ANY($1)`,
            [before],
          )
        ).rows[0].n as number;
      const offeredBefore = await offered();
      await request(t.app.server)
        .post(`/api/orders/${donors[0].order_id}/cancel`)
        .set(as('brand'))
        .send({})
        .expect(200);
      await waitFor('a waiting order offered', async () => ((await offered()) > offeredBefore ? true : undefined));
    } finally {
      await other.close();
      await otherPool.end();
    }
  });
});
