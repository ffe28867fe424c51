/**
 * Classical seasonal decomposition, as the Theta method and the ETS model use
 * it (Hyndman & Athanasopoulos, FPP3 3.4; R's forecast::thetaf): a centred
 * moving average of one season gives the trend, and the mean ratio of the
 * series to it at each position in the season gives the seasonal index.
 */

/** Autocorrelation of y at lag k. */
function acf(y: readonly number[], k: number): number {
  const n = y.length;
  const mean = y.reduce((s, v) => s + v, 0) / n;
  let num = 0;
  let den = 0;
  for (let t = 0; t < n; t++) den += (y[t] - mean) ** 2;
  for (let t = k; t < n; t++) num += (y[t] - mean) * (y[t - k] - mean);
  return den === 0 ? 0 : num / den;
}

/**
 * The seasonality test of forecast::thetaf: the lag-m autocorrelation is
 * significant at 90% under Bartlett's variance of the lower lags.
 */
export function isSeasonal(y: readonly number[], m: number): boolean {
  if (m < 2 || y.length < 3 * m) return false;
  let s = 0;
  for (let k = 1; k < m; k++) s += acf(y, k) ** 2;
  return Math.abs(acf(y, m)) > 1.645 * Math.sqrt((1 + 2 * s) / y.length);
}

/**
 * Seasonal indices (one per position in the season, position 0 being y[0]'s),
 * multiplicative (mean 1) when every value is positive, else additive (mean 0).
 */
export function seasonalIndices(y: readonly number[], m: number): { indices: number[]; multiplicative: boolean } {
  const multiplicative = y.every((v) => v > 0);
  const n = y.length;
  const half = Math.floor(m / 2);
  const sums = new Array<number>(m).fill(0);
  const counts = new Array<number>(m).fill(0);
  for (let t = half; t < n - half; t++) {
    // Centred moving average; an even season length takes half weights at both ends.
    let s = 0;
    if (m % 2 === 0) {
      for (let k = -half; k <= half; k++) s += (Math.abs(k) === half ? 0.5 : 1) * y[t + k];
    } else {
      for (let k = -half; k <= half; k++) s += y[t + k];
    }
    const trend = s / m;
    if (t + half >= n || (multiplicative && trend <= 0)) continue;
    sums[t % m] += multiplicative ? y[t] / trend : y[t] - trend;
    counts[t % m]++;
  }
  const raw = sums.map((s, i) => (counts[i] ? s / counts[i] : multiplicative ? 1 : 0));
  const mean = raw.reduce((a, v) => a + v, 0) / m;
  const indices = raw.map((v) => (multiplicative ? v / (mean || 1) : v - mean));
  return { indices, multiplicative };
}

/** Removes (or with `restore`, puts back) the seasonal component at positions offset..offset+len. */
export function applySeason(
  values: readonly number[],
  season: { indices: number[]; multiplicative: boolean },
  offset: number,
  restore: boolean,
): number[] {
  const m = season.indices.length;
  return values.map((v, i) => {
    const s = season.indices[(offset + i) % m];
    if (season.multiplicative) return restore ? v * s : v / (s || 1);
    return restore ? v + s : v - s;
  });
}
