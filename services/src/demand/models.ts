import { loadAugurs } from './augurs.js';
import { prophetHolidays } from './holidays.js';

/** A point forecast with 80% and 95% prediction intervals, one value per future day. */
export interface Forecast {
  readonly point: number[];
  readonly lo80: number[];
  readonly hi80: number[];
  readonly lo95: number[];
  readonly hi95: number[];
}

export interface ModelInput {
  /** Daily values, oldest first, no gaps. */
  readonly y: readonly number[];
  /** The day of y[0], YYYY-MM-DD. */
  readonly start: string;
  readonly horizon: number;
  /** Extra holidays (e.g. a market's public holidays), each a list of single days YYYY-MM-DD. */
  readonly holidays?: readonly HolidayInput[];
  /** Include the Chinese shopping festivals and Spring Festival (default true). */
  readonly festivals?: boolean;
}

export interface HolidayInput {
  readonly name: string;
  readonly days: readonly string[];
}

export const ModelNames = {
  seasonalNaive: 'seasonal_naive',
  mstlEts: 'mstl_ets',
  prophet: 'prophet',
  croston: 'croston',
  tsb: 'tsb',
} as const;
export type ModelName = (typeof ModelNames)[keyof typeof ModelNames];

const Z80 = 1.2815515655446004;
const Z95 = 1.959963984540054;
const DAY_S = 86_400;
const WEEK = 7;

function normalBands(point: number[], sigma: (h: number) => number): Forecast {
  return {
    point,
    lo80: point.map((p, h) => p - Z80 * sigma(h)),
    hi80: point.map((p, h) => p + Z80 * sigma(h)),
    lo95: point.map((p, h) => p - Z95 * sigma(h)),
    hi95: point.map((p, h) => p + Z95 * sigma(h)),
  };
}

function sd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
}

/**
 * Seasonal naive (weekly): each future day repeats the same weekday of the last
 * week. Intervals as in Hyndman & Athanasopoulos (FPP3 5.5): residual sd
 * growing with the square root of the number of whole seasons ahead.
 */
export function seasonalNaive({ y, horizon }: ModelInput, m = WEEK): Forecast {
  const n = y.length;
  const lag = n > m ? m : 1;
  const point = Array.from({ length: horizon }, (_, h) => y[n - lag + (h % lag)] ?? 0);
  const residuals: number[] = [];
  for (let t = lag; t < n; t++) residuals.push(y[t] - y[t - lag]);
  const s = sd(residuals);
  return normalBands(point, (h) => s * Math.sqrt(Math.floor(h / lag) + 1));
}

/**
 * MSTL decomposition (weekly, and yearly once two years are there) with an
 * AutoETS model on the seasonally adjusted series; intervals from augurs.
 */
export function mstlEts({ y, horizon }: ModelInput): Forecast {
  const { MSTL } = loadAugurs();
  const periods = y.length >= 2 * 365 + 7 ? [WEEK, 365] : [WEEK];
  const model = MSTL.ets(periods);
  try {
    model.fit(Float64Array.from(y));
    const f95 = model.predict(horizon, 0.95);
    const f80 = model.predict(horizon, 0.8);
    const point = f95.point;
    return {
      point,
      lo80: f80.intervals?.lower ?? point,
      hi80: f80.intervals?.upper ?? point,
      lo95: f95.intervals?.lower ?? point,
      hi95: f95.intervals?.upper ?? point,
    };
  } finally {
    model.free();
  }
}

/**
 * Prophet (augurs' Rust port with the Stan model compiled to WASM, MAP fit):
 * piecewise-linear trend with changepoints, weekly and yearly Fourier
 * seasonality and the shopping-festival holidays (plus any market holidays
 * passed in). Prophet's own intervals need posterior sampling, which costs 3x
 * the fit; we use the in-sample residual sd instead, widened with the horizon
 * for trend uncertainty, and the backtest calibration in model-selection.ts.
 */
export function prophet({ y, start, horizon, holidays: extra, festivals }: ModelInput): Forecast {
  const { Prophet, optimizer } = loadAugurs();
  const t0 = Date.parse(`${start}T00:00:00Z`) / 1000;
  const ds = Array.from({ length: y.length }, (_, i) => t0 + i * DAY_S);
  const firstYear = new Date(t0 * 1000).getUTCFullYear();
  const lastYear = new Date((t0 + (y.length + horizon) * DAY_S) * 1000).getUTCFullYear();
  const holidays = festivals === false ? new Map() : prophetHolidays(firstYear, lastYear);
  for (const h of extra ?? []) {
    holidays.set(h.name, {
      occurrences: h.days.map((d) => {
        const t = Date.parse(`${d}T00:00:00Z`) / 1000;
        return { start: t, end: t + DAY_S };
      }),
    });
  }
  const model = new Prophet({
    optimizer,
    uncertaintySamples: 0,
    nChangepoints: 10,
    // Changepoints up to near the end, so a recent change of level is followed rather than extrapolated past.
    changepointRange: 0.95,
    // Prophet turns yearly seasonality off below two years; one year already shows it.
    yearlySeasonality: y.length >= 365 ? { type: 'fourier', order: 10 } : { type: 'manual', enabled: false },
    weeklySeasonality: y.length >= 2 * WEEK ? { type: 'fourier', order: 3 } : { type: 'manual', enabled: false },
    dailySeasonality: { type: 'manual', enabled: false },
    holidays,
    holidaysPriorScale: 5,
  });
  try {
    model.fit({ ds, y: Float64Array.from(y) });
    const inSample = model.predict().yhat.point;
    const residuals = y.map((v, i) => v - inSample[i]);
    const s = sd(residuals);
    const future = model.predict(model.makeFutureDataframe(horizon, { includeHistory: false }));
    const point = future.yhat.point;
    // Trend uncertainty grows with the horizon; the rate (twice the variance four weeks out)
    // was set on the births benchmark, then the backtest calibration widens further where needed.
    return normalBands(point, (h) => s * Math.sqrt(1 + h / 28));
  } finally {
    model.free();
  }
}

/**
 * Croston's method (with the Syntetos-Boylan bias correction) and TSB
 * (Teunter-Syntetos-Babai) for intermittent demand. No maintained npm library
 * implements them, and each is a few lines: smooth the non-zero demand size and
 * either the interval between demands (Croston) or the probability of demand
 * in a period (TSB, which also decays after a run of zeros). Smoothing
 * constants are picked from a small grid by in-sample one-step error;
 * intervals are empirical quantiles of those one-step errors, floored at zero.
 */
export function intermittent({ y, horizon }: ModelInput, method: 'croston' | 'tsb'): Forecast {
  const grid = [0.05, 0.1, 0.2, 0.3];
  let best: { sse: number; level: number; fitted: number[] } | undefined;
  for (const alpha of grid) {
    for (const beta of grid) {
      const run = method === 'tsb' ? tsbRun(y, alpha, beta) : crostonRun(y, alpha, beta);
      let sse = 0;
      for (let t = 0; t < y.length; t++) sse += (y[t] - run.fitted[t]) ** 2;
      if (!best || sse < best.sse) best = { sse, ...run };
      if (method === 'croston') break; // Croston uses one constant for both parts
    }
  }
  const { level, fitted } = best ?? { level: 0, fitted: [] };
  const errors = y.map((v, t) => v - fitted[t]).sort((a, b) => a - b);
  const q = (p: number) => (errors.length ? errors[Math.min(errors.length - 1, Math.floor(p * errors.length))] : 0);
  const point = Array.from({ length: horizon }, () => level);
  const band = (p: number) => point.map((v) => Math.max(0, v + q(p)));
  return { point, lo80: band(0.1), hi80: band(0.9), lo95: band(0.025), hi95: band(0.975) };
}

function tsbRun(y: readonly number[], alpha: number, beta: number) {
  const first = y.findIndex((v) => v > 0);
  let size = first >= 0 ? y[first] : 0;
  let prob = y.filter((v) => v > 0).length / Math.max(y.length, 1);
  const fitted: number[] = [];
  for (const v of y) {
    fitted.push(prob * size);
    if (v > 0) {
      size += alpha * (v - size);
      prob += beta * (1 - prob);
    } else {
      prob += beta * (0 - prob);
    }
  }
  return { level: prob * size, fitted };
}

function crostonRun(y: readonly number[], alpha: number, _beta: number) {
  const first = y.findIndex((v) => v > 0);
  let size = first >= 0 ? y[first] : 0;
  let interval = Math.max(1, y.length / Math.max(1, y.filter((v) => v > 0).length));
  let since = 1;
  const sba = 1 - alpha / 2; // Syntetos-Boylan approximation removes Croston's upward bias
  const fitted: number[] = [];
  for (const v of y) {
    fitted.push((sba * size) / interval);
    if (v > 0) {
      size += alpha * (v - size);
      interval += alpha * (since - interval);
      since = 1;
    } else {
      since++;
    }
  }
  return { level: (sba * size) / interval, fitted };
}

/** Runs one model by name. */
export function runModel(name: ModelName, input: ModelInput): Forecast {
  switch (name) {
    case ModelNames.seasonalNaive:
      return seasonalNaive(input);
    case ModelNames.mstlEts:
      return mstlEts(input);
    case ModelNames.prophet:
      return prophet(input);
    case ModelNames.croston:
      return intermittent(input, 'croston');
    case ModelNames.tsb:
      return intermittent(input, 'tsb');
  }
}
