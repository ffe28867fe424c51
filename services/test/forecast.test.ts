import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { FALLBACK_K } from '../src/demand/calibration.js';
import { demoSignalsCsv } from '../src/demand/demo-demand.js';
import { createForecastPool } from '../src/demand/forecast-pool.js';
import { festivalCalendar, prophetHolidays, springFestival } from '../src/demand/holidays.js';
import { coverage, mase, smape } from '../src/demand/metrics.js';
import { defaultCandidates, forecastSeries } from '../src/demand/model-selection.js';
import { type Forecast, ModelNames, seasonalNaive } from '../src/demand/models.js';
import { sumForecasts } from '../src/demand/reconcile.js';

/** A deterministic pseudo-random stream, so the tests do not flake. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function weeklySeries(n: number, seed = 1): number[] {
  const r = rng(seed);
  const weekday = [1.3, 1.0, 0.9, 0.9, 1.0, 1.4, 1.6];
  return Array.from({ length: n }, (_, i) => Math.round((40 + 0.1 * i) * weekday[i % 7] + 6 * (r() - 0.5)));
}

function assertOrdered(f: Forecast) {
  for (let h = 0; h < f.point.length; h++) {
    assert.ok(f.lo95[h] <= f.lo80[h] + 1e-9, `lo95 <= lo80 at ${h}`);
    assert.ok(f.lo80[h] <= f.point[h] + 1e-9, `lo80 <= point at ${h}`);
    assert.ok(f.point[h] <= f.hi80[h] + 1e-9, `point <= hi80 at ${h}`);
    assert.ok(f.hi80[h] <= f.hi95[h] + 1e-9, `hi80 <= hi95 at ${h}`);
    assert.ok(f.lo95[h] >= 0, 'demand intervals never go below zero');
  }
}

describe('festival calendar', () => {
  test('Spring Festival follows the lunar calendar, not a fixed date', () => {
    assert.equal(springFestival(2024), '2024-02-10');
    assert.equal(springFestival(2025), '2025-01-29');
    assert.equal(springFestival(2026), '2026-02-17');
  });

  test('the shopping festivals are there every year, with their windows', () => {
    const days = festivalCalendar(2025, 2026).map((o) => `${o.name}@${o.day}`);
    for (const d of ['618@2025-06-18', 'double_11@2025-11-11', 'double_12@2026-12-12', 'spring_festival@2026-02-17']) {
      assert.ok(days.includes(d), d);
    }
    const sf = festivalCalendar(2026, 2026).find((o) => o.name === 'spring_festival');
    assert.deepEqual([sf?.from, sf?.to], ['2026-02-07', '2026-02-24']);
    const holidays = prophetHolidays(2025, 2026);
    assert.equal(holidays.get('double_11')?.occurrences.length, 2);
    assert.equal(holidays.get('double_11')?.occurrences[0].start, Date.parse('2025-11-11T00:00:00Z') / 1000);
  });
});

describe('accuracy measures', () => {
  test('MASE scales by the in-sample seasonal naive error', () => {
    // Seasonal naive with m = 2 on [1,3,2,4] errs by 1 each step: scale 1.
    assert.equal(mase([5, 7], [6, 6], [1, 3, 2, 4], 2), 1);
    // A flat training series falls back to a scale of 1 instead of dividing by 0.
    assert.equal(mase([2], [1], [3, 3, 3], 1), 1);
  });

  test('sMAPE counts a zero forecast of zero demand as exact; coverage counts the bounds as inside', () => {
    assert.equal(smape([0, 10], [0, 10]), 0);
    assert.equal(smape([0], [5]), 200);
    assert.equal(coverage([1, 2, 3, 4], [1, 0, 0, 5], [1, 2, 2, 9]), 0.5);
  });
});

describe('model selection by rolling-origin backtest', () => {
  test('a seasonal series with a trend gets a model that beats seasonal naive, with ordered intervals', () => {
    const y = weeklySeries(180);
    const result = forecastSeries({ y, start: '2025-01-01', horizon: 28, origins: 2, backtestHorizon: 14 });
    assert.equal(result.forecast.point.length, 28);
    assertOrdered(result.forecast);
    const naive = result.candidates.find((c) => c.model === ModelNames.seasonalNaive);
    assert.ok(naive, 'seasonal naive is always a candidate');
    assert.ok(result.scores, 'the winner has backtest scores');
    assert.ok(result.scores.mase <= naive.scores.mase, 'the winner is at least as good as the baseline');
    assert.ok(result.scores.mase < 1, `winner MASE ${result.scores.mase}`);
    assert.equal(result.scores.points, 28);
    assert.notEqual(result.model, ModelNames.seasonalNaive, 'the trend makes seasonal naive lose');
  });

  test('intermittent demand brings Croston and TSB into the race, with non-negative intervals', () => {
    const r = rng(7);
    const y = Array.from({ length: 120 }, () => (r() < 0.75 ? 0 : 1 + Math.floor(r() * 5)));
    assert.deepEqual(defaultCandidates(y).slice(-2), [ModelNames.croston, ModelNames.tsb]);
    const tsb = forecastSeries({ y, start: '2025-01-01', horizon: 14, candidates: [ModelNames.tsb] });
    const rate = y.reduce((a, b) => a + b, 0) / y.length;
    assert.ok(Math.abs(tsb.forecast.point[0] - rate) < rate, `TSB level ${tsb.forecast.point[0]} near rate ${rate}`);
    assertOrdered(tsb.forecast);
    const all = forecastSeries({ y, start: '2025-01-01', horizon: 14 });
    assert.ok(all.candidates.some((c) => c.model === ModelNames.croston));
  });

  test('a series too short to backtest still gets a forecast, by information criterion, with fallback intervals', () => {
    const y = [3, 4, 5, 3, 4, 5, 6, 3, 4];
    const result = forecastSeries({ y, start: '2025-01-01', horizon: 7 });
    assert.equal(result.scores, null);
    assert.equal(result.selection.method, 'information_criterion');
    // AutoETS picks its form by AICc; MSTL-ETS runs it on the whole series when no season can be fitted.
    assert.equal(result.model, ModelNames.mstlEts);
    assert.deepEqual(
      result.forecast.point,
      forecastSeries({ y, start: '2025-01-01', horizon: 7, candidates: ['ets'] }).forecast.point,
    );
    assert.equal(result.selection.origins, 0);
    assert.deepEqual(
      [result.intervalScale.method, result.intervalScale.k80, result.intervalScale.k95],
      ['fallback', FALLBACK_K.k80, FALLBACK_K.k95],
      'no backtest: the prior widening alone',
    );
    assertOrdered(result.forecast);
  });
});

describe('bottom-up reconciliation', () => {
  test('a parent forecast is the sum of its children, with intervals narrower than the sum of bounds', () => {
    const a = seasonalNaive({ y: weeklySeries(28, 2), start: '2025-01-01', horizon: 7 });
    const b = seasonalNaive({ y: weeklySeries(28, 3), start: '2025-01-01', horizon: 7 });
    const sum = sumForecasts([a, b]);
    for (let h = 0; h < 7; h++) {
      assert.ok(Math.abs(sum.point[h] - (a.point[h] + b.point[h])) < 1e-9);
      assert.ok(sum.hi95[h] <= a.hi95[h] + b.hi95[h] + 1e-9, 'independent errors partly cancel');
      assert.ok(sum.hi95[h] >= sum.point[h]);
    }
  });
});

describe('worker-thread pool', () => {
  const pool = createForecastPool({ threads: 2 });
  after(() => pool.close());

  test('series are forecast on worker threads with the same result as in-process', async () => {
    const ys = [weeklySeries(90, 11), weeklySeries(90, 12)];
    const remote = await Promise.all(
      ys.map((y) => pool.forecast({ y, start: '2025-03-01', horizon: 14, candidates: ['seasonal_naive', 'mstl_ets'] })),
    );
    const local = forecastSeries({
      y: ys[0],
      start: '2025-03-01',
      horizon: 14,
      candidates: ['seasonal_naive', 'mstl_ets'],
    });
    assert.equal(remote[0].model, local.model);
    assert.deepEqual(remote[0].forecast.point, local.forecast.point);
    assert.equal(remote[1].forecast.point.length, 14);
  });
});

describe('demo demand data', () => {
  test('two years of signals per SKU, with the Double 11 spike and the Spring Festival lull', () => {
    const csv = demoSignalsCsv(730, new Date('2026-11-27T00:00:00Z'));
    const sales = new Map<string, number>();
    for (const line of csv.trim().split('\n').slice(1)) {
      const [sku, kind, quantity, date] = line.split(',');
      if (sku === 'MCS-GRY-M' && kind === 'sale') sales.set(date, Number(quantity));
    }
    const day = (d: string) => sales.get(d) ?? 0;
    const weekBefore = (d: string) =>
      day(new Date(Date.parse(`${d}T00:00:00Z`) - 7 * 86_400_000).toISOString().slice(0, 10));
    assert.ok(day('2026-11-11') > 3 * weekBefore('2026-11-11'), 'Double 11 sells several times a normal day');
    assert.ok(day('2025-11-11') > 3 * weekBefore('2025-11-11'));
    // Spring Festival 2026 fell on 17 February (lunar calendar): logistics stop right after it.
    assert.ok(day('2026-02-19') < 0.6 * weekBefore('2026-02-19') + 1, 'the lull after Spring Festival');
    assert.equal(csv, demoSignalsCsv(730, new Date('2026-11-27T00:00:00Z')), 'seeded: a re-run uploads the same rows');
  });
});
