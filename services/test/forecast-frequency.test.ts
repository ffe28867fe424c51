import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { calibrate, FALLBACK_K, intervalRatios, MIN_CALIBRATION_POINTS } from '../src/demand/calibration.js';
import { createForecastPool } from '../src/demand/forecast-pool.js';
import { addPeriods, aggregate, type Frequency, periodStart, seasonPeriods } from '../src/demand/frequency.js';
import { backtestPlan, defaultCandidates, forecastSeries } from '../src/demand/model-selection.js';
import { type Forecast, ModelNames, runModel, type SingleModelName } from '../src/demand/models.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Sales-like: level with a trend, a yearly season of `m` periods (peak late in the year), noise. */
function seasonalSeries(n: number, m: number, seed: number, trend = 2): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) =>
    Math.round((200 + trend * i) * (1 + 0.35 * Math.sin((2 * Math.PI * (i % m)) / m - 1)) + 20 * (r() - 0.5)),
  );
}

function assertOrdered(f: Forecast) {
  for (let h = 0; h < f.point.length; h++) {
    assert.ok(f.lo95[h] <= f.lo80[h] + 1e-9 && f.lo80[h] <= f.point[h] + 1e-9, `lower bounds ordered at ${h}`);
    assert.ok(f.point[h] <= f.hi80[h] + 1e-9 && f.hi80[h] <= f.hi95[h] + 1e-9, `upper bounds ordered at ${h}`);
    assert.ok(f.lo95[h] >= 0 && [f.point[h], f.hi95[h]].every(Number.isFinite));
  }
}

describe('planning periods', () => {
  test('periods start on Monday, the 1st of the month and of the quarter, across year ends and leap days', () => {
    assert.equal(periodStart('2026-01-01', 'week'), '2025-12-29');
    assert.equal(periodStart('2024-02-29', 'month'), '2024-02-01');
    assert.equal(periodStart('2026-12-31', 'quarter'), '2026-10-01');
    assert.equal(addPeriods('2026-11-01', 'month', 3), '2027-02-01');
    assert.equal(addPeriods('2026-10-01', 'quarter', -4), '2025-10-01');
    assert.equal(addPeriods('2025-12-29', 'week', 1), '2026-01-05');
  });

  test('daily values sum to periods, and partial periods at either end are dropped', () => {
    // 2026-01-15 .. 2026-04-10: January and April are partial.
    const days = Array.from({ length: 86 }, () => 1);
    assert.deepEqual(aggregate(days, '2026-01-15', 'month'), { start: '2026-02-01', y: [28, 31] });
    assert.deepEqual(aggregate(days, '2026-01-15', 'quarter'), { start: '2026-01-01', y: [76] }, 'the longer partial');
    const weeks = aggregate(days, '2026-01-15', 'week');
    assert.equal(weeks.start, '2026-01-19');
    assert.ok(weeks.y.every((v) => v === 7));
    assert.deepEqual(aggregate([], '2026-01-15', 'month').y, []);
  });

  test("season lengths follow the frequency, and the data's own period where the calendar's cannot be fitted", () => {
    assert.deepEqual(seasonPeriods('day', 800), [7, 365]);
    assert.deepEqual(seasonPeriods('day', 300), [7]);
    assert.deepEqual(seasonPeriods('week', 120), [52]);
    assert.deepEqual(seasonPeriods('month', 36), [12]);
    assert.deepEqual(seasonPeriods('quarter', 12), [4]);
    assert.deepEqual(seasonPeriods('month', 20, [6]), [6], 'too short for a year of months: the detected period');
    assert.deepEqual(seasonPeriods('month', 20, [15]), [], 'a period the data cannot show twice is not used');
  });
});

describe('forecasting at each frequency', () => {
  const cases: [Frequency, number, number, number][] = [
    ['week', 130, 52, 13],
    ['month', 72, 12, 12],
    ['quarter', 40, 4, 8],
  ];
  for (const [frequency, n, m, horizon] of cases) {
    test(`${frequency}: season ${m}, a backtest on the horizon asked for, calibrated intervals`, () => {
      // A trend steep enough that repeating last year's season falls behind.
      const y = seasonalSeries(n, m, n, 8);
      const r = forecastSeries({ y, start: '2020-01-01', horizon, frequency });
      assert.deepEqual(r.selection.periods, [m]);
      assert.equal(r.selection.backtestHorizon, horizon);
      assert.ok(r.selection.origins >= 2, `${r.selection.origins} origins`);
      assert.equal(r.forecast.point.length, horizon);
      assertOrdered(r.forecast);
      const naive = r.candidates.find((c) => c.model === ModelNames.seasonalNaive);
      assert.ok(naive && r.scores, 'seasonal naive is scored as the baseline');
      assert.ok(r.scores.mase < naive.scores.mase, `${r.model} ${r.scores.mase} beats naive ${naive.scores.mase}`);
      assert.equal(r.model, ModelNames.combination, 'the median of the best three is the choice');
      assert.equal(r.selection.combined.length, 3);
      assert.ok(!r.selection.combined.includes(ModelNames.seasonalNaive));
      const singles = r.candidates.filter((c) => c.model !== ModelNames.combination);
      assert.ok(singles.length >= 5, 'seasonal naive, MSTL-ETS, ETS, Theta and Prophet or SARIMA compete');
      assert.equal(r.intervalScale.method, r.intervalScale.points >= MIN_CALIBRATION_POINTS ? 'conformal' : 'fallback');
      assert.ok(r.intervalScale.k80 >= 1 && r.intervalScale.k95 >= 1);
      // The forecast continues the season: the peak period of next year is the peak position of the last.
      const last = y.slice(-m);
      const peak = last.indexOf(Math.max(...last));
      const next = r.forecast.point.slice(0, m);
      if (next.length === m) assert.ok(Math.abs(next.indexOf(Math.max(...next)) - peak) <= 1, 'season kept');
    });
  }

  test('short series: fewer origins and a shorter backtest, then the calibration fallback; never nothing', () => {
    assert.deepEqual(backtestPlan(40, 8, 'quarter', 4), { origins: [25, 26, 27, 28, 29, 30, 31, 32], h: 8 });
    assert.deepEqual(backtestPlan(100, 12, 'month', 12).origins, [78, 80, 82, 84, 86, 88], 'two months apart');
    assert.deepEqual(backtestPlan(30, 8, 'quarter', 4).origins, [15, 16, 17, 18, 19, 20, 21, 22]);
    assert.deepEqual(backtestPlan(20, 8, 'quarter', 4).origins, [10, 11, 12], 'as many as fit');
    assert.deepEqual(backtestPlan(14, 8, 'quarter', 4), { origins: [10], h: 4 }, 'h shortened to fit one origin');
    assert.deepEqual(backtestPlan(9, 8, 'quarter', 4).origins, [], 'too short for any backtest');
    const y = seasonalSeries(14, 4, 3);
    const r = forecastSeries({ y, start: '2022-01-01', horizon: 8, frequency: 'quarter' });
    assert.equal(r.selection.method, 'backtest');
    assert.equal(r.selection.origins, 1);
    assert.equal(r.intervalScale.method, 'fallback');
    assert.ok(r.intervalScale.points < MIN_CALIBRATION_POINTS);
    assert.equal(r.forecast.point.length, 8);
    assertOrdered(r.forecast);
    const tiny = forecastSeries({ y: [5, 9, 4], start: '2025-01-01', horizon: 4, frequency: 'quarter' });
    assert.equal(tiny.selection.method, 'information_criterion');
    assert.deepEqual([tiny.intervalScale.k80, tiny.intervalScale.k95], [FALLBACK_K.k80, FALLBACK_K.k95]);
    assertOrdered(tiny.forecast);
  });

  test('hostile series: all zeros, one huge spike, negative values, a single point', () => {
    const cases: number[][] = [
      new Array(30).fill(0),
      [...new Array(29).fill(3), 1e9],
      Array.from({ length: 30 }, (_, i) => (i % 2 ? -5 : 5)),
      [7],
    ];
    for (const y of cases) {
      const r = forecastSeries({ y, start: '2024-01-01', horizon: 6, frequency: 'month' });
      assert.equal(r.forecast.point.length, 6);
      assertOrdered(r.forecast);
    }
  });
});

describe('candidates, combination and calibration', () => {
  test('the candidates follow the frequency; Prophet at monthly frequency only with the festivals', () => {
    const y = seasonalSeries(60, 12, 1);
    assert.deepEqual(defaultCandidates(y, 'day'), ['seasonal_naive', 'mstl_ets', 'prophet']);
    assert.deepEqual(defaultCandidates(y, 'week'), ['seasonal_naive', 'mstl_ets', 'prophet', 'ets', 'theta']);
    assert.deepEqual(defaultCandidates(y, 'month'), [
      'seasonal_naive',
      'mstl_ets',
      'prophet',
      'ets',
      'theta',
      'sarima',
    ]);
    assert.deepEqual(defaultCandidates(y, 'month', false), ['seasonal_naive', 'mstl_ets', 'ets', 'theta', 'sarima']);
    assert.deepEqual(defaultCandidates(y, 'quarter'), ['seasonal_naive', 'mstl_ets', 'ets', 'theta', 'sarima']);
  });

  test('no combination of two: with only MSTL-ETS and Prophet beside seasonal naive, the best single model', () => {
    const days = Array.from({ length: 200 }, (_, i) => 500 + 80 * Math.sin((2 * Math.PI * i) / 7) + ((i * 7919) % 53));
    const r = forecastSeries({ y: days, start: '2025-01-01', horizon: 14, festivals: false });
    assert.equal(r.selection.origins, 3);
    assert.deepEqual(r.selection.combined, []);
    assert.notEqual(r.model, ModelNames.combination);
    const best = r.candidates.reduce((a, c) => (c.scores.mase < a.scores.mase ? c : a));
    assert.equal(r.model, best.model);
  });

  // Forecasts with unit half-widths at both levels, so |error| is the ratio itself.
  const unit = (h: number): Forecast => ({
    point: new Array(h).fill(0),
    lo80: new Array(h).fill(-1),
    hi80: new Array(h).fill(1),
    lo95: new Array(h).fill(-1),
    hi95: new Array(h).fill(1),
  });

  test('calibration counts n / sqrt(h) errors for the conformal level: wider than the plain quantile', () => {
    // 4 origins x 16 periods, errors 0.05, 0.10, ..., 3.2 spread over them.
    const actuals = Array.from({ length: 4 }, (_, o) => Array.from({ length: 16 }, (_, i) => 0.05 * (1 + o + 4 * i)));
    const ratios = intervalRatios(
      Array.from({ length: 4 }, () => unit(16)),
      actuals,
    );
    assert.equal(ratios.horizon, 16);
    assert.equal(ratios.r80.length, 64);
    const k = calibrate(ratios).scale;
    assert.equal(k.method, 'conformal');
    // 64 errors count as 16: the 80% level is ceil(17 * 0.8) / 16 = 14/16, the 95% level 1 (the largest error).
    const at = (p: number) => {
      const i = (64 - 1) * p;
      return ratios.r80[Math.floor(i)] + (ratios.r80[Math.ceil(i)] - ratios.r80[Math.floor(i)]) * (i - Math.floor(i));
    };
    assert.ok(Math.abs(k.k80 - at(14 / 16)) < 1e-9, `${k.k80}`);
    assert.ok(Math.abs(k.k95 - 3.2) < 1e-9, `${k.k95}`);
    assert.ok(k.k80 > at(0.8), 'wider than the plain 80% quantile');
  });

  test("calibration widens at least to the latest origin's own errors when they have just grown", () => {
    const calm = Array.from({ length: 5 }, () => Array.from({ length: 12 }, (_, i) => 0.05 * (i + 1)));
    const before = calibrate(
      intervalRatios(
        Array.from({ length: 5 }, () => unit(12)),
        calm,
      ),
    ).scale;
    const grown = [...calm.slice(1), Array.from({ length: 12 }, (_, i) => 2 + 0.1 * i)];
    const after = calibrate(
      intervalRatios(
        Array.from({ length: 5 }, () => unit(12)),
        grown,
      ),
    ).scale;
    assert.ok(
      before.k80 === 1 && before.k95 === 1,
      'calm errors inside the intervals: no widening, and never narrowing',
    );
    // The latest origin's errors are 2.0 .. 3.1: its 80% quantile is 2.88.
    assert.ok(after.k80 >= 2.88 - 1e-9, `${after.k80}`);
    assert.ok(after.k95 >= after.k80);
  });
});

describe('determinism', () => {
  const models: SingleModelName[] = [
    'seasonal_naive',
    'ets',
    'mstl_ets',
    'theta',
    'arima',
    'sarima',
    'prophet',
    'croston',
    'tsb',
  ];
  const y = seasonalSeries(48, 12, 5);
  const other = seasonalSeries(60, 12, 9).map((v) => v * 3 + 50);
  const input = { y, start: '2022-01-01', horizon: 12, frequency: 'month' as const, periods: [12] };

  test('every model gives the same forecast again after fitting other data in between', () => {
    for (const model of models) {
      const first = runModel(model, input);
      runModel(model, { ...input, y: other });
      runModel('prophet', { ...input, y: other });
      assert.deepEqual(runModel(model, input), first, model);
    }
  });

  test('Prophet with its many daily holidays: the same forecast whatever was fitted before', () => {
    // The case issue 16 caught: augurs keeps holidays in a HashMap whose order moved with earlier fits.
    const days = Array.from({ length: 400 }, (_, i) => 500 + 80 * Math.sin((2 * Math.PI * i) / 7) + ((i * 7919) % 53));
    const daily = { y: days, start: '2025-01-01', horizon: 14, frequency: 'day' as const, periods: [7] };
    const first = runModel('prophet', daily);
    runModel('prophet', { ...daily, y: days.map((v) => v * 2) });
    runModel('prophet', { ...daily, festivals: false });
    assert.deepEqual(runModel('prophet', daily), first);
  });

  const pool = createForecastPool({ threads: 2 });
  after(() => pool.close());
  test('the same forecast on worker threads as in this process, for every model and the selection', async () => {
    const local = forecastSeries({ y, start: '2022-01-01', horizon: 12, frequency: 'month', refitAll: true });
    // Each thread fits something else first, so a thread's history cannot hide behind a fresh one.
    await Promise.all(
      [1, 2].map(() => pool.forecast({ y: other, start: '2021-01-01', horizon: 6, frequency: 'month' })),
    );
    const remote = await Promise.all(
      [1, 2].map(() => pool.forecast({ y, start: '2022-01-01', horizon: 12, frequency: 'month', refitAll: true })),
    );
    for (const r of remote) {
      assert.equal(r.model, local.model);
      assert.deepEqual(r.forecast, local.forecast);
      assert.deepEqual(r.alternatives, local.alternatives);
      assert.ok(
        (r.alternatives ?? []).some((a) => a.model === ModelNames.prophet),
        'Prophet included',
      );
    }
  });
});
