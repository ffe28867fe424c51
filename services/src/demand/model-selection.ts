import { coverage, mase, smape } from './metrics.js';
import { type Forecast, type ModelName, ModelNames, runModel } from './models.js';

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
  const { y, start, horizon } = options;
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
  if (origins.length > 0) {
    for (const model of candidates) {
      const sums = { mase: 0, smape: 0, in80: 0, in95: 0, points: 0 };
      let failed = false;
      for (const origin of origins) {
        const train = y.slice(0, origin);
        const actual = y.slice(origin, origin + h);
        let f: Forecast;
        try {
          f = post(runModel(model, { y: train, start, horizon: h }));
        } catch {
          failed = true; // a model that cannot fit this series simply does not compete
          break;
        }
        sums.mase += mase(actual, f.point, train, 7);
        sums.smape += smape(actual, f.point);
        sums.in80 += coverage(actual, f.lo80, f.hi80) * actual.length;
        sums.in95 += coverage(actual, f.lo95, f.hi95) * actual.length;
        sums.points += actual.length;
      }
      if (failed) continue;
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
      const forecast = post(runModel(choice, { y, start, horizon }));
      return {
        model: choice,
        forecast,
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
