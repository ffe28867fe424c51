/**
 * Forecast accuracy, interval coverage and speed at every planning frequency,
 * on public series shipped in npm packages (datasets.ts): daily and weekly US
 * births, monthly and quarterly US unemployment by industry and CO2. For each
 * series, the last periods are held out (one or more windows); the platform's
 * forecaster (rolling-origin backtest, selection among the single models and
 * their median combination, conformal intervals, refit; on the worker-thread
 * pool) forecasts them, and every single model and seasonal naive are scored
 * on the same windows in the same run. MASE is scaled by the in-sample
 * seasonal naive error at the frequency's season (7, 52, 12, 4).
 *
 *   node bench/dist/src/forecast/forecast-bench.js [--freq day,week,month,quarter] [--threads 2]
 *                                                   [--limit N] [--json [--detail]] [--cn-festivals] [--service-only]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createForecastPool } from '@c2m/services/dist/src/demand/forecast-pool.js';
import { Frequencies, type Frequency } from '@c2m/services/dist/src/demand/frequency.js';
import { coverage, mase } from '@c2m/services/dist/src/demand/metrics.js';
import type { SeriesForecastResult } from '@c2m/services/dist/src/demand/model-selection.js';
import { type HolidayInput, type SingleModelName, seasonalNaive } from '@c2m/services/dist/src/demand/models.js';
import { loadSeries, type RawSeries } from './datasets.js';

interface Window {
  readonly name: string;
  readonly start: string;
  readonly train: number[];
  readonly test: number[];
}

/** Held-out periods, and how the windows are cut, per frequency. */
const PLAN: Record<Frequency, { holdout: number; season: number; windows: (s: RawSeries, h: number) => Window[] }> = {
  // Two years of days from every 182nd day.
  day: { holdout: 28, season: 7, windows: (s, h) => rolling(s, 730, h, 182) },
  // Three years of weeks from every 26th week.
  week: { holdout: 13, season: 52, windows: (s, h) => rolling(s, 156, h, 26) },
  // The whole history up to each of the last five years: calm years and the 2008-2009 recession alike.
  month: { holdout: 12, season: 12, windows: (s, h) => lastWindows(s, h, [0, 12, 24, 36, 48]) },
  quarter: { holdout: 8, season: 4, windows: (s, h) => lastWindows(s, h, [0, 4, 8, 12, 16]) },
};

/** Models scored as single models on top of the platform's candidates (see defaultCandidates). */
const EXTRA: Record<Frequency, SingleModelName[]> = {
  day: [],
  week: ['arima'],
  month: ['arima', 'prophet'],
  quarter: ['arima', 'prophet'],
};

function rolling(s: RawSeries, history: number, holdout: number, step: number): Window[] {
  const out: Window[] = [];
  for (let i = 0; i + history + holdout <= s.y.length; i += step) {
    out.push({
      name: `${s.name}#${i}`,
      start: shift(s, i),
      train: s.y.slice(i, i + history),
      test: s.y.slice(i + history, i + history + holdout),
    });
  }
  return out;
}

function lastWindows(s: RawSeries, holdout: number, backs: number[]): Window[] {
  return backs.map((back) => {
    const end = s.y.length - back;
    return {
      name: `${s.name}-${back}`,
      start: s.start,
      train: s.y.slice(0, end - holdout),
      test: s.y.slice(end - holdout, end),
    };
  });
}

function shift(s: RawSeries, i: number): string {
  const t = Date.parse(`${s.start}T00:00:00Z`);
  return new Date(t + i * (s.frequency === 'week' ? 7 : 1) * 86_400_000).toISOString().slice(0, 10);
}

/**
 * US federal holidays by their rules, 1990-2020: births are a US series, and
 * scheduled deliveries move around these days. A brand selling in another
 * market passes its own holidays the same way.
 */
function usHolidays(): HolidayInput[] {
  const ymd = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
  const nthWeekday = (y: number, m: number, weekday: number, n: number) => {
    const first = new Date(Date.UTC(y, m - 1, 1)).getUTCDay();
    return ymd(y, m, 1 + ((weekday - first + 7) % 7) + 7 * (n - 1));
  };
  const lastWeekday = (y: number, m: number, weekday: number) => {
    const lastDay = new Date(Date.UTC(y, m, 0));
    return ymd(y, m, lastDay.getUTCDate() - ((lastDay.getUTCDay() - weekday + 7) % 7));
  };
  const years = Array.from({ length: 31 }, (_, i) => 1990 + i);
  const rule = (name: string, f: (y: number) => string[]) => ({ name, days: years.flatMap(f) });
  return [
    rule('new_year', (y) => [ymd(y, 1, 1)]),
    rule('new_year_after', (y) => [ymd(y, 1, 2)]),
    rule('new_year_eve', (y) => [ymd(y, 12, 31)]),
    rule('mlk_day', (y) => [nthWeekday(y, 1, 1, 3)]),
    rule('presidents_day', (y) => [nthWeekday(y, 2, 1, 3)]),
    rule('memorial_day', (y) => [lastWeekday(y, 5, 1)]),
    rule('independence_day', (y) => [ymd(y, 7, 4)]),
    rule('labor_day', (y) => [nthWeekday(y, 9, 1, 1)]),
    rule('thanksgiving', (y) => [nthWeekday(y, 11, 4, 4)]),
    rule('thanksgiving_after', (y) => [addDays(nthWeekday(y, 11, 4, 4), 1)]),
    rule('christmas_eve', (y) => [ymd(y, 12, 24)]),
    rule('christmas', (y) => [ymd(y, 12, 25)]),
    rule('christmas_after', (y) => [ymd(y, 12, 26)]),
  ];
}

const addDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

async function benchFrequency(
  frequency: Frequency,
  options: { threads: number; limit?: number; cn: boolean; detail: boolean; serviceOnly: boolean },
) {
  const plan = PLAN[frequency];
  const windows = loadSeries(frequency)
    .flatMap((s) => plan.windows(s, plan.holdout))
    .slice(0, options.limit);
  const holidays = options.cn ? undefined : usHolidays();
  const pool = createForecastPool({ threads: options.threads });
  // Warm the threads (WASM compile) outside the timing, as a long-running service would be.
  await Promise.all(
    Array.from({ length: pool.threads }, () =>
      pool.forecast({
        y: windows[0].train.slice(0, 60),
        start: windows[0].start,
        horizon: 7,
        frequency,
        candidates: ['mstl_ets', 'prophet', 'arima', 'sarima'],
      }),
    ),
  );
  const t0 = performance.now();
  // CPU time of the process (the worker threads included): what the series cost whatever else the machine runs.
  const cpu0 = process.cpuUsage();
  const results: SeriesForecastResult[] = await Promise.all(
    windows.map((w) =>
      pool.forecast({
        y: w.train,
        start: w.start,
        horizon: plan.holdout,
        frequency,
        // US holidays only where the data are US births; the vega series are monthly and quarterly.
        holidays: frequency === 'day' || frequency === 'week' ? holidays : undefined,
        festivals: options.cn,
        // Every single model refitted too, to score it on the held-out data; --service-only times what a run does.
        refitAll: !options.serviceOnly,
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // Single models the platform does not fit by default at this frequency (AutoARIMA; Prophet at quarterly, and
  // at monthly without the festivals), refitted outside the timing so the best single model is still the best
  // of all of them. No backtest: zero origins.
  if (!options.serviceOnly) {
    const extra = await Promise.all(
      windows.map((w, i) =>
        Promise.all(
          EXTRA[frequency]
            .filter((model) => !(results[i].alternatives ?? []).some((a) => a.model === model))
            .map((model) =>
              pool
                .forecast({
                  y: w.train,
                  start: w.start,
                  horizon: plan.holdout,
                  frequency,
                  festivals: options.cn,
                  candidates: [model],
                  origins: 0,
                  refitAll: true,
                })
                .then((r) => (r.alternatives ?? []).filter((a) => a.model === model)),
            ),
        ),
      ),
    );
    results.forEach((r, i) => {
      results[i] = { ...r, alternatives: [...(r.alternatives ?? []), ...extra[i].flat()] };
    });
  }
  await pool.close();

  const perModel: Record<string, number[]> = {};
  const rows = windows.map((w, i) => {
    const r = results[i];
    const sn = seasonalNaive({ y: w.train, start: w.start, horizon: plan.holdout }, plan.season);
    for (const a of r.alternatives ?? []) {
      perModel[a.model] = [...(perModel[a.model] ?? []), mase(w.test, a.forecast.point, w.train, plan.season)];
    }
    return {
      series: w.name,
      model: r.model,
      mase: mase(w.test, r.forecast.point, w.train, plan.season),
      naiveMase: mase(w.test, sn.point, w.train, plan.season),
      coverage80: coverage(w.test, r.forecast.lo80, r.forecast.hi80),
      coverage95: coverage(w.test, r.forecast.lo95, r.forecast.hi95),
      calibration: r.intervalScale.method,
      ...(process.env.FC_DUMP
        ? {
            test: w.test,
            scale:
              mase(
                w.test,
                w.test.map(() => 0),
                w.train,
                plan.season,
              ) / Math.max(1e-9, w.test.reduce((a, v) => a + Math.abs(v), 0) / w.test.length),
            alts: Object.fromEntries((r.alternatives ?? []).map((a) => [a.model, a.forecast.point])),
            cands: r.candidates,
          }
        : {}),
    };
  });
  const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / Math.max(1, xs.length);
  const models: Record<string, number> = {};
  for (const r of rows) models[r.model] = (models[r.model] ?? 0) + 1;
  const singles = Object.fromEntries(
    Object.entries(perModel)
      .filter(([, v]) => v.length === rows.length)
      .map(([k, v]) => [k, Number(mean(v).toFixed(3))]),
  );
  const bestSingle = Object.entries(singles).sort((a, b) => a[1] - b[1])[0];
  // Per held-out span (monthly and quarterly: how many periods before the end it stops), to tell the
  // 2008-2009 recession from the calm years.
  const spans: Record<string, typeof rows> = {};
  for (const r of rows) {
    const back = /-(\d+)$/.exec(r.series)?.[1];
    if (back !== undefined) spans[back] = [...(spans[back] ?? []), r];
  }
  const bySpan = Object.fromEntries(
    Object.entries(spans).map(([back, rs]) => [
      `ends ${back} before the last`,
      {
        mase: Number(mean(rs.map((r) => r.mase)).toFixed(3)),
        coverage80: Number(mean(rs.map((r) => r.coverage80)).toFixed(3)),
        coverage95: Number(mean(rs.map((r) => r.coverage95)).toFixed(3)),
      },
    ]),
  );
  return {
    summary: {
      frequency,
      windows: rows.length,
      holdout: plan.holdout,
      threads: pool.threads,
      mase: Number(mean(rows.map((r) => r.mase)).toFixed(3)),
      seasonalNaiveMase: Number(mean(rows.map((r) => r.naiveMase)).toFixed(3)),
      ratioToSeasonalNaive: Number((mean(rows.map((r) => r.mase)) / mean(rows.map((r) => r.naiveMase))).toFixed(3)),
      bestSingle: bestSingle ? { model: bestSingle[0], mase: bestSingle[1] } : null,
      singles,
      coverage80: Number(mean(rows.map((r) => r.coverage80)).toFixed(3)),
      coverage95: Number(mean(rows.map((r) => r.coverage95)).toFixed(3)),
      calibratedByFallback: rows.filter((r) => r.calibration === 'fallback').length,
      bySpan,
      seconds: Number(seconds.toFixed(1)),
      seriesPerSecond: Number((rows.length / seconds).toFixed(2)),
      cpuMsPerSeries: Math.round((1000 * cpuSeconds) / rows.length),
      // With the pool's threads on otherwise idle cores: threads / CPU seconds per series.
      seriesPerSecondIdle: Number(((pool.threads * rows.length) / cpuSeconds).toFixed(2)),
      models,
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
    rows,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      freq: { type: 'string', default: Frequencies.join(',') },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      // Per window: the held-out values, every model's forecast and the backtest scores (with --json).
      detail: { type: 'boolean', default: false },
      // Only the platform's choice (no refit of every single model): the speed a forecast run sees.
      'service-only': { type: 'boolean', default: false },
      // The Chinese festivals instead of US holidays on the births: what the platform does without a market calendar.
      'cn-festivals': { type: 'boolean', default: false },
    },
  });
  const freqs = (values.freq as string).split(',') as Frequency[];
  for (const f of freqs) if (!Frequencies.includes(f)) throw new Error(`unknown frequency ${f}`);
  const out = [];
  for (const f of freqs) {
    const r = await benchFrequency(f, {
      threads: Number(values.threads),
      limit: values.limit ? Number(values.limit) : undefined,
      cn: values['cn-festivals'] as boolean,
      detail: values.detail as boolean,
      serviceOnly: values['service-only'] as boolean,
    });
    out.push(r);
    if (!values.json) console.log(JSON.stringify(r.summary));
  }
  if (values.json) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  console.log(
    '\n| frequency | windows | MASE (choice) | best single | seasonal naive | ratio to naive | 80% cover | 95% cover | series/s | CPU ms/series | series/s on idle cores |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const { summary: s } of out) {
    const best = s.bestSingle ? `${s.bestSingle.mase} (${s.bestSingle.model})` : '-';
    console.log(
      `| ${s.frequency} | ${s.windows} | ${s.mase} | ${best} | ${s.seasonalNaiveMase} | ${s.ratioToSeasonalNaive} | ${s.coverage80} | ${s.coverage95} | ${s.seriesPerSecond} | ${s.cpuMsPerSeries} | ${s.seriesPerSecondIdle} |`,
    );
  }
}

await main();
