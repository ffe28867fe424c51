import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { demoTokens, startTestPlatform, type TestPlatform, waitFor } from './helpers.js';

const DAYS = 84;
const START = Date.parse('2026-06-01T00:00:00Z');
const day = (i: number) => new Date(START + i * 86_400_000).toISOString().slice(0, 10);

/**
 * Demand signals to a draft order, over HTTP against real PostgreSQL and Redis:
 * catalogue, signals (single, batch, CSV with row errors, idempotent
 * re-upload), aggregated series, a forecast run on the worker threads with
 * progress, per-SKU and reconciled forecasts, and a draft order.
 */
describe('demand signals and forecasts', () => {
  let t: TestPlatform;
  const tokens: Record<string, string> = {};
  const as = (user: string) => ({ Authorization: `Bearer ${tokens[user]}` });

  before(async () => {
    t = await startTestPlatform();
    Object.assign(tokens, await demoTokens(t, ['brand', 'factory1']));
  });
  after(async () => {
    await t?.close();
  });

  test('a brand registers products with their category and variants', async () => {
    const res = await request(t.app.server)
      .put('/api/demand/products')
      .set(as('brand'))
      .send({
        products: [
          {
            id: 'SOCK',
            name: 'Merino sock',
            category: { id: 'HOSIERY', name: 'Hosiery' },
            skus: [
              { sku: 'SOCK-GRY-M', colour: 'grey', size: 'M', material: 'merino' },
              { sku: 'SOCK-NVY-M', colour: 'navy', size: 'M', material: 'merino' },
            ],
          },
          {
            id: 'TEE',
            name: 'Cotton tee',
            category: { id: 'TOPS' },
            skus: [{ sku: 'TEE-WHT-L', colour: 'white', size: 'L' }],
          },
        ],
      })
      .expect(200);
    assert.deepEqual(
      res.body.items.map((p: { id: string; skus: unknown[] }) => [p.id, p.skus.length]),
      [
        ['SOCK', 2],
        ['TEE', 1],
      ],
    );
    await request(t.app.server).get('/api/demand/products').set(as('factory1')).expect(403);
  });

  test('single and batched signals; a re-sent signal is not counted twice; bad batches change nothing', async () => {
    const one = {
      id: 'pos-1',
      sku: 'SOCK-GRY-M',
      kind: 'sale',
      quantity: 3,
      date: day(0),
      channel: 'tmall',
      region: 'CN-ZJ',
    };
    await request(t.app.server).post('/api/demand/signals').set(as('brand')).send(one).expect(200, {
      received: 1,
      accepted: 1,
      duplicates: 0,
    });
    await request(t.app.server).post('/api/demand/signals').set(as('brand')).send(one).expect(200, {
      received: 1,
      accepted: 0,
      duplicates: 1,
    });
    const bad = await request(t.app.server)
      .post('/api/demand/signals')
      .set(as('brand'))
      .send({
        signals: [
          { sku: 'SOCK-GRY-M', kind: 'sale', quantity: 1, date: day(1) },
          { sku: 'NOT-OURS', kind: 'sale', quantity: 1, date: day(1) },
          { sku: 'SOCK-GRY-M', kind: 'sale', quantity: 1, date: '2026-02-30' },
        ],
      })
      .expect(400);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      bad.body.errors.map((e: { row: number; field: string }) => [e.row, e.field]),
      [
        [2, 'sku'],
        [3, 'date'],
      ],
    );
    await request(t.app.server)
      .post('/api/demand/signals')
      .set(as('brand'))
      .send({ ...one, kind: 'teleport' })
      .expect(400);
    await request(t.app.server).post('/api/demand/signals').set(as('factory1')).send(one).expect(403);
    const series = await request(t.app.server).get('/api/demand/series/sku/SOCK-GRY-M').set(as('brand')).expect(200);
    assert.deepEqual(series.body.points, [{ date: day(0), quantity: 3 }], 'the rejected batch stored nothing');
  });

  test('CSV upload: row-level errors, partial mode, idempotent re-upload, daily and weekly series', async () => {
    const bad =
      'sku,kind,quantity,date\nSOCK-GRY-M,sale,2,2026-06-02\nSOCK-GRY-M,sale,-1,2026-06-02\nNOPE,sale,1,2026-06-02\n';
    const rejected = await request(t.app.server)
      .post('/api/demand/signals.csv')
      .set(as('brand'))
      .set('Content-Type', 'text/csv')
      .send(bad)
      .expect(400);
    assert.deepEqual(
      rejected.body.errors.map((e: { row: number; field: string }) => [e.row, e.field]),
      [
        [3, 'quantity'],
        [4, 'sku'],
      ],
      'rows are numbered as in the file, header = row 1',
    );
    const partial = await request(t.app.server)
      .post('/api/demand/signals.csv?partial=true')
      .set(as('brand'))
      .set('Content-Type', 'text/csv')
      .send(bad)
      .expect(200);
    assert.equal(partial.body.accepted, 1);
    assert.equal(partial.body.rejected, 2);

    // Demand for the forecast: a weekly pattern with a trend; two identical rows in a file are two sales.
    const weekday = [1.3, 1, 0.9, 0.9, 1, 1.4, 1.6];
    const rows = ['sku,kind,quantity,date,channel'];
    for (let i = 1; i < DAYS; i++) {
      rows.push(`SOCK-GRY-M,sale,${Math.round((20 + i / 10) * weekday[i % 7])},${day(i)},tmall`);
      rows.push(`SOCK-NVY-M,sale,${Math.round((10 + i / 20) * weekday[i % 7])},${day(i)},jd`);
      rows.push(`TEE-WHT-L,pre_order,${i % 3 === 0 ? 2 : 0},${day(i)},douyin`);
    }
    rows.push(`SOCK-NVY-M,wishlist,50,${day(5)},tmall`, `SOCK-NVY-M,return,1,${day(6)},jd`);
    rows.push(`SOCK-NVY-M,sale,1,${day(7)},jd`, `SOCK-NVY-M,sale,1,${day(7)},jd`);
    const csv = `${rows.join('\n')}\n`;
    const first = await request(t.app.server)
      .post('/api/demand/signals.csv')
      .set(as('brand'))
      .set('Content-Type', 'text/csv')
      .send(csv)
      .expect(200);
    assert.equal(first.body.accepted, rows.length - 1);
    const again = await request(t.app.server)
      .post('/api/demand/signals.csv')
      .set(as('brand'))
      .set('Content-Type', 'text/csv')
      .send(csv)
      .expect(200);
    assert.deepEqual([again.body.accepted, again.body.duplicates], [0, rows.length - 1]);

    const navy = await request(t.app.server).get('/api/demand/series/sku/SOCK-NVY-M').set(as('brand')).expect(200);
    assert.equal(navy.body.points.length, DAYS);
    const seventh = navy.body.points.find((p: { date: string }) => p.date === day(7));
    assert.equal(
      seventh.quantity,
      Math.round((10 + 7 / 20) * weekday[0]) + 2,
      'sales only; wishlists and returns apart',
    );
    const wish = await request(t.app.server)
      .get('/api/demand/series/sku/SOCK-NVY-M?kinds=wishlist&kinds=return')
      .set(as('brand'))
      .expect(200);
    assert.equal(
      wish.body.points.reduce((s: number, p: { quantity: number }) => s + p.quantity, 0),
      51,
    );
    const weekly = await request(t.app.server)
      .get('/api/demand/series/product/SOCK?interval=week')
      .set(as('brand'))
      .expect(200);
    const dailyProduct = await request(t.app.server)
      .get('/api/demand/series/product/SOCK')
      .set(as('brand'))
      .expect(200);
    const sum = (ps: { quantity: number }[]) => ps.reduce((s, p) => s + p.quantity, 0);
    assert.equal(sum(weekly.body.points), sum(dailyProduct.body.points));
    assert.equal(weekly.body.points[0].date, '2026-06-01', 'weeks start on Monday');
  });

  let runId: string;
  test('a forecast run shows its progress and stores each SKU with its model and backtest scores', async () => {
    const res = await request(t.app.server)
      .post('/api/demand/forecasts')
      .set(as('brand'))
      .send({ horizonDays: 28 })
      .expect(202);
    runId = res.body.id;
    assert.equal(res.body.status, 'queued');
    const done = await waitFor(
      'the forecast run',
      async () => {
        const r = await request(t.app.server).get(`/api/demand/forecasts/${runId}`).set(as('brand')).expect(200);
        if (r.body.status === 'failed') throw new Error(r.body.error);
        return r.body.status === 'done' ? r.body : undefined;
      },
      60_000,
    );
    assert.deepEqual([done.percent, done.seriesDone, done.seriesTotal], [100, 3, 3]);
    assert.equal(done.scores.reconciliation, 'bottom_up');
    assert.ok(done.scores.mase > 0 && done.scores.coverage95 > 0);
    const levels = done.series.map((s: { level: string; key: string }) => `${s.level}:${s.key}`);
    assert.deepEqual(levels, [
      'brand:BrandOrg',
      'category:HOSIERY',
      'category:TOPS',
      'product:SOCK',
      'product:TEE',
      'sku:SOCK-GRY-M',
      'sku:SOCK-NVY-M',
      'sku:TEE-WHT-L',
    ]);

    const grey = await request(t.app.server)
      .get(`/api/demand/forecasts/${runId}/series/SOCK-GRY-M`)
      .set(as('brand'))
      .expect(200);
    assert.equal(grey.body.history.length, DAYS);
    assert.equal(grey.body.forecast.length, 28);
    assert.equal(grey.body.forecast[0].date, day(DAYS));
    assert.ok(grey.body.scores.mase > 0);
    assert.ok(grey.body.candidates.length >= 3);
    for (const f of grey.body.forecast)
      assert.ok(f.lo95 <= f.lo80 && f.lo80 <= f.point && f.point <= f.hi80 && f.hi80 <= f.hi95);

    const navy = await request(t.app.server)
      .get(`/api/demand/forecasts/${runId}/series/SOCK-NVY-M`)
      .set(as('brand'))
      .expect(200);
    const product = await request(t.app.server)
      .get(`/api/demand/forecasts/${runId}/product/SOCK`)
      .set(as('brand'))
      .expect(200);
    assert.equal(product.body.model, 'bottom_up');
    product.body.forecast.forEach((f: { point: number }, i: number) => {
      assert.ok(Math.abs(f.point - (grey.body.forecast[i].point + navy.body.forecast[i].point)) < 1e-6);
    });
    await request(t.app.server).get(`/api/demand/forecasts/${runId}`).set(as('factory1')).expect(403);
    await request(t.app.server).get('/api/demand/forecasts/FCR-nope').set(as('brand')).expect(404);
  });

  test("a product's forecast becomes a draft order by variant and week, which is not dispatched", async () => {
    const res = await request(t.app.server)
      .post(`/api/demand/forecasts/${runId}/draft-order`)
      .set(as('brand'))
      .send({ productId: 'SOCK', weeks: 2 })
      .expect(201);
    assert.equal(res.body.status, 'draft');
    assert.deepEqual(
      res.body.lines.map((l: { sku: string; colour: string }) => [l.sku, l.colour]),
      [
        ['SOCK-GRY-M', 'grey'],
        ['SOCK-NVY-M', 'navy'],
      ],
    );
    const schedule = res.body.spec.schedule as { week: string; sku: string; quantity: number }[];
    assert.deepEqual([...new Set(schedule.map((s) => s.week))], ['2026-08-24', '2026-08-31']);
    for (const line of res.body.lines) {
      const weeks = schedule.filter((s) => s.sku === line.sku);
      assert.equal(
        weeks.reduce((a, s) => a + s.quantity, 0),
        line.quantity,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
    const order = await request(t.app.server).get(`/api/orders/${res.body.id}`).set(as('brand')).expect(200);
    assert.equal(order.body.status, 'draft');
    assert.equal(order.body.offers.length, 0, 'a draft is not offered to factories');
  });

  const runAt = async (body: object) => {
    const res = await request(t.app.server).post('/api/demand/forecasts').set(as('brand')).send(body).expect(202);
    return waitFor(
      `the ${JSON.stringify(body)} run`,
      async () => {
        const r = await request(t.app.server).get(`/api/demand/forecasts/${res.body.id}`).set(as('brand')).expect(200);
        if (r.body.status === 'failed') throw new Error(r.body.error);
        return r.body.status === 'done' ? r.body : undefined;
      },
      60_000,
    );
  };

  test('weekly and monthly runs: signals summed to the frequency, the horizon in its periods, drafts by period', async () => {
    const weekly = await runAt({ frequency: 'week', horizon: 6 });
    assert.deepEqual([weekly.frequency, weekly.horizon, weekly.horizonDays], ['week', 6, 42]);
    const w = await request(t.app.server)
      .get(`/api/demand/forecasts/${weekly.id}/series/SOCK-GRY-M`)
      .set(as('brand'))
      .expect(200);
    assert.equal(w.body.frequency, 'week');
    assert.equal(w.body.history.length, DAYS / 7, 'twelve whole weeks of history');
    assert.deepEqual(
      w.body.forecast.map((f: { date: string }) => f.date),
      ['2026-08-24', '2026-08-31', '2026-09-07', '2026-09-14', '2026-09-21', '2026-09-28'],
    );
    assert.equal(w.body.selection.backtestHorizon <= 6, true);
    assert.ok(['conformal', 'fallback'].includes(w.body.selection.intervalScale.method));
    const wOrder = await request(t.app.server)
      .post(`/api/demand/forecasts/${weekly.id}/draft-order`)
      .set(as('brand'))
      .send({ productId: 'SOCK', periods: 3 })
      .expect(201);
    const wWeeks = new Set(wOrder.body.spec.schedule.map((s: { week: string }) => s.week));
    assert.deepEqual([...wWeeks], ['2026-08-24', '2026-08-31', '2026-09-07']);

    // 84 days from 1 June: June and July are whole months, August (23 days) is not and is forecast instead.
    const monthly = await runAt({ frequency: 'month', horizon: 3 });
    const mo = await request(t.app.server)
      .get(`/api/demand/forecasts/${monthly.id}/series/SOCK-GRY-M`)
      .set(as('brand'))
      .expect(200);
    assert.deepEqual(
      mo.body.history.map((h: { date: string }) => h.date),
      ['2026-06-01', '2026-07-01'],
    );
    assert.deepEqual(
      mo.body.forecast.map((f: { date: string }) => f.date),
      ['2026-08-01', '2026-09-01', '2026-10-01'],
    );
    assert.equal(mo.body.selection.method, 'information_criterion', 'two months cannot be backtested');
    assert.equal(mo.body.selection.intervalScale.method, 'fallback');
    const mOrder = await request(t.app.server)
      .post(`/api/demand/forecasts/${monthly.id}/draft-order`)
      .set(as('brand'))
      .send({ productId: 'SOCK', periods: 2 })
      .expect(201);
    assert.equal(mOrder.body.dueDate.slice(0, 10), '2026-08-01');
    // Dispatch plans by ISO week: each month is due in the week it starts in.
    assert.deepEqual(
      [...new Set(mOrder.body.spec.schedule.map((s: { week: string }) => s.week))],
      ['2026-07-27', '2026-08-31'],
    );
    const monthTotal = mo.body.forecast.slice(0, 2).reduce((a: number, f: { point: number }) => a + f.point, 0);
    const grey = mOrder.body.lines.find((l: { sku: string }) => l.sku === 'SOCK-GRY-M');
    assert.ok(Math.abs(grey.quantity - monthTotal) <= 2, `${grey.quantity} ~ ${monthTotal}`);
  });

  test('hostile run requests are refused with 400 before anything is queued', async () => {
    const before = await request(t.app.server).get('/api/demand/forecasts').set(as('brand')).expect(200);
    for (const body of [
      { frequency: 'month', horizon: 25 },
      { frequency: 'quarter', horizon: 9 },
      { frequency: 'week', horizon: 0 },
      { frequency: 'hour', horizon: 3 },
      { frequency: 'month', horizonDays: 28 },
      { horizon: 1.5 },
      { horizon: -1 },
      { frequency: ['month'] },
      { horizonDays: 400 },
    ]) {
      const res = await request(t.app.server).post('/api/demand/forecasts').set(as('brand')).send(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(res.body.code, 'a machine-readable code');
    }
    await request(t.app.server).get('/api/demand/series/product/SOCK?interval=fortnight').set(as('brand')).expect(400);
    const after = await request(t.app.server).get('/api/demand/forecasts').set(as('brand')).expect(200);
    assert.equal(after.body.items.length, before.body.items.length);
  });
});
