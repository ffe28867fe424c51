import { coverage, mase, smape } from './metrics.js';
import { type Forecast, type HolidayInput, type ModelName, ModelNames, runModel } from './models.js';

export interface BacktestScores {
  /** Mean absolute scaled error (scale: in-sample weekly seasonal naive), averaged over origins. */
  readonly mase: number;
  /** Symmetric MAPE in percent. */
  readonly smape: number;
  /** Share of held-out points inside the 80% and 95% intervals. */
  readonly coverage80: number;
  readonly coverage95: number;
  /** Number of held-out points scored. */
  readonly points: number;
}

export interface SeriesForecastOptions {
  readonly y: readonly number[];
  /** Day of y[0], YYYY-MM-DD. */
  readonly start: string;
  /** Days to forecast after the last observation. */
  readonly horizon: number;
  /** Rolling origins in the backtest (default 2). */
  readonly origins?: number;
  /** Days forecast from each origin (default min(horizon, 28)). */
  readonly backtestHorizon?: number;
  /** Clip forecasts and intervals at zero (demand cannot be negative; default true). */
  readonly nonNegative?: boolean;
  /** Extra holidays for Prophet (e.g. a market's public holidays). */
  readonly holidays?: readonly HolidayInput[];
  /** Include the Chinese shopping festivals and Spring Festival as holidays (default true). */
  readonly festivals?: boolean;
  /** Override the candidate models (default: chosen from the series' length and intermittency). */
  readonly candidates?: readonly ModelName[];
}

export interface SeriesForecastResult {
  /** The model that won the backtest and made the forecast. */
  readonly model: ModelName;
  readonly forecast: Forecast;
  /** The winner's backtest scores; null when the series is too short to backtest. */
  readonly scores: BacktestScores | null;
  /** Every candidate's backtest scores (the seasonal naive baseline is always among them). */
  readonly candidates: { readonly model: ModelName; readonly scores: BacktestScores }[];
  /**
   * How much the winner's own 80% and 95% intervals were widened (>1) or
   * narrowed (<1) so that they would have held 80% and 95% of its backtest
   * errors; 1 when the backtest had too few points to say.
   */
  readonly intervalScale: { readonly k80: number; readonly k95: number };
}

/** Fewer backtest points than this and the model's own intervals are kept as they are. */
const MIN_CALIBRATION_POINTS = 20;

function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 1;
  const i = (sorted.length - 1) * p;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/**
 * Split conformal prediction's finite-sample level: with n calibration errors,
 * the ceil((n + 1) p)-th smallest gives coverage of at least p on a new point;
 * the plain p-quantile of n points falls short by about 1/n.
 */
function conformalLevel(p: number, n: number): number {
  return Math.min(1, Math.ceil((n + 1) * p) / n);
}

/**
 * Split-conformal style calibration: the model's intervals are right if the
 * 80% (95%) quantile of |error| / half-width over the backtest is 1. Models
 * fitted by point error (Prophet's MAP fit here, MSTL on short series) tend to
 * intervals that are too narrow out of sample; this corrects them per series.
 */
function rescale(f: Forecast, k80: number, k95: number): Forecast {
  const side = (bound: number[], k: number) => bound.map((b, h) => f.point[h] + k * (b - f.point[h]));
  return {
    point: f.point,
    lo80: side(f.lo80, k80),
    hi80: side(f.hi80, k80),
    lo95: side(f.lo95, k95),
    hi95: side(f.hi95, k95),
  };
}

/** Share of zero days above which a series counts as intermittent and Croston/TSB compete. */
export const INTERMITTENT_ZERO_SHARE = 0.3;
const MIN_TRAIN = 28;

export function defaultCandidates(y: readonly number[]): ModelName[] {
  const zeros = y.filter((v) => v === 0).length / Math.max(1, y.length);
  const models: ModelName[] = [ModelNames.seasonalNaive, ModelNames.mstlEts, ModelNames.prophet];
  if (zeros >= INTERMITTENT_ZERO_SHARE) models.push(ModelNames.croston, ModelNames.tsb);
  return models;
}

function clip(f: Forecast): Forecast {
  const z = (a: number[]) => a.map((v) => (Number.isFinite(v) ? Math.max(0, v) : 0));
  return { point: z(f.point), lo80: z(f.lo80), hi80: z(f.hi80), lo95: z(f.lo95), hi95: z(f.hi95) };
}

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Rolling-origin backtest: for each origin, every candidate is fitted on the
 * data before it and forecasts the next `backtestHorizon` days; the candidate
 * with the lowest mean MASE wins (seasonal naive wins ties, being the simplest)
 * and is refitted on the whole series for the real forecast.
 */
export function forecastSeries(options: SeriesForecastOptions): SeriesForecastResult {
  const { y, start, horizon, holidays, festivals } = options;
  const nonNegative = options.nonNegative ?? true;
  const h = Math.max(1, Math.min(options.backtestHorizon ?? Math.min(horizon, 28), horizon));
  const wanted = options.origins ?? 2;
  const origins: number[] = [];
  for (let i = wanted; i >= 1; i--) {
    const origin = y.length - i * h;
    if (origin >= MIN_TRAIN) origins.push(origin);
  }
  const candidates = options.candidates ?? defaultCandidates(y);
  const post = (f: Forecast) => (nonNegative ? clip(f) : f);

  const scored: { model: ModelName; scores: BacktestScores }[] = [];
  const ratios = new Map<ModelName, { r80: number[]; r95: number[] }>();
  if (origins.length > 0) {
    for (const model of candidates) {
      const sums = { mase: 0, smape: 0, in80: 0, in95: 0, points: 0 };
      let failed = false;
      const r80: number[] = [];
      const r95: number[] = [];
      for (const origin of origins) {
        const train = y.slice(0, origin);
        const actual = y.slice(origin, origin + h);
        let f: Forecast;
        try {
          f = post(runModel(model, { y: train, start, horizon: h, holidays, festivals }));
        } catch {
          failed = true; // a model that cannot fit this series simply does not compete
          break;
        }
        sums.mase += mase(actual, f.point, train, 7);
        sums.smape += smape(actual, f.point);
        sums.in80 += coverage(actual, f.lo80, f.hi80) * actual.length;
        sums.in95 += coverage(actual, f.lo95, f.hi95) * actual.length;
        sums.points += actual.length;
        actual.forEach((a, i) => {
          const e = a - f.point[i];
          // Half-width on the side the error fell: intervals may be asymmetric (floored at zero, empirical).
          const w80 = e >= 0 ? f.hi80[i] - f.point[i] : f.point[i] - f.lo80[i];
          const w95 = e >= 0 ? f.hi95[i] - f.point[i] : f.point[i] - f.lo95[i];
          if (w80 > 0) r80.push(Math.abs(e) / w80);
          if (w95 > 0) r95.push(Math.abs(e) / w95);
        });
      }
      if (failed) continue;
      ratios.set(model, { r80: r80.sort((a, b) => a - b), r95: r95.sort((a, b) => a - b) });
      scored.push({
        model,
        scores: {
          mase: sums.mase / origins.length,
          smape: sums.smape / origins.length,
          coverage80: sums.in80 / sums.points,
          coverage95: sums.in95 / sums.points,
          points: sums.points,
        },
      });
    }
  }
  const ranked = [...scored].sort(
    (a, b) =>
      a.scores.mase - b.scores.mase ||
      Number(b.model === ModelNames.seasonalNaive) - Number(a.model === ModelNames.seasonalNaive),
  );
  const fallback =
    y.filter((v) => v === 0).length / Math.max(1, y.length) >= INTERMITTENT_ZERO_SHARE
      ? ModelNames.tsb
      : ModelNames.seasonalNaive;
  for (const choice of [...ranked.map((r) => r.model), fallback]) {
    try {
      const raw = runModel(choice, { y, start, horizon, holidays, festivals });
      const r = ratios.get(choice);
      // Only ever widen: a few dozen autocorrelated backtest errors are too few to trust for narrowing.
      const clamp = (k: number) => Math.min(5, Math.max(1, k));
      const k80 =
        r && r.r80.length >= MIN_CALIBRATION_POINTS ? clamp(quantile(r.r80, conformalLevel(0.8, r.r80.length))) : 1;
      const k95 =
        r && r.r95.length >= MIN_CALIBRATION_POINTS ? clamp(quantile(r.r95, conformalLevel(0.95, r.r95.length))) : 1;
      const forecast = post(rescale(raw, k80, Math.max(k95, k80)));
      return {
        model: choice,
        forecast,
        intervalScale: { k80, k95: Math.max(k95, k80) },
        scores: scored.find((s) => s.model === choice)?.scores ?? null,
        candidates: scored,
      };
    } catch {
      // the winner failed on the full series: take the runner-up
    }
  }
  throw new Error('no model could forecast this series');
}

/** The days a forecast covers: the `horizon` days after the last observed day. */
export function forecastDays(start: string, length: number, horizon: number): string[] {
  return Array.from({ length: horizon }, (_, i) => addDays(start, length + i));
}
