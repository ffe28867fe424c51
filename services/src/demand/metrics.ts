/** Accuracy measures for forecasts against held-out actuals. */

/** Mean absolute scaled error: MAE over the in-sample MAE of the seasonal naive forecast (period m). */
export function mase(
  actual: readonly number[],
  forecast: readonly number[],
  train: readonly number[],
  m: number,
): number {
  return mae(actual, forecast) / naiveScale(train, m);
}

/** The in-sample one-step MAE of the seasonal naive method; falls back to lag 1, then 1, so MASE stays finite. */
export function naiveScale(train: readonly number[], m: number): number {
  for (const lag of [m, 1]) {
    if (train.length <= lag) continue;
    let s = 0;
    for (let t = lag; t < train.length; t++) s += Math.abs(train[t] - train[t - lag]);
    const scale = s / (train.length - lag);
    if (scale > 0) return scale;
  }
  return 1;
}

export function mae(actual: readonly number[], forecast: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(actual[i] - forecast[i]);
  return s / actual.length;
}

/** Symmetric MAPE in percent (0-200); a point where both actual and forecast are 0 counts as exact. */
export function smape(actual: readonly number[], forecast: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]) + Math.abs(forecast[i]);
    s += d === 0 ? 0 : (200 * Math.abs(actual[i] - forecast[i])) / d;
  }
  return s / actual.length;
}

/** Share of actuals inside [lower, upper]. */
export function coverage(actual: readonly number[], lower: readonly number[], upper: readonly number[]): number {
  let inside = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] >= lower[i] && actual[i] <= upper[i]) inside++;
  return inside / actual.length;
}
