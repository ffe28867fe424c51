import { createRequire } from 'node:module';
import path from 'node:path';
import { loadAugurs } from './augurs.js';
import { applySeason, isSeasonal, seasonalIndices } from './decompose.js';
import { intermittent } from './intermittent.js';
import { type Forecast, type ModelInput, normalBands } from './model-base.js';
import { prophet } from './prophet-model.js';

export type { Forecast, HolidayInput, ModelInput } from './model-base.js';
export { normalBands, sd, Z80, Z95 } from './model-base.js';

export const ModelNames = {
  seasonalNaive: 'seasonal_naive',
  ets: 'ets',
  mstlEts: 'mstl_ets',
  arima: 'arima',
  /** The airline model, SARIMA(0,1,1)(0,1,1)m: Box and Jenkins' default for monthly and quarterly data. */
  sarima: 'sarima',
  theta: 'theta',
  prophet: 'prophet',
  croston: 'croston',
  tsb: 'tsb',
  /** The median of the best few models' forecasts (see model-selection.ts). */
  combination: 'combination',
} as const;
export type ModelName = (typeof ModelNames)[keyof typeof ModelNames];
/** The models that fit a series themselves (the combination is built from them). */
export type SingleModelName = Exclude<ModelName, 'combination'>;

const mainPeriod = (input: ModelInput) => input.periods?.[0] ?? 1;

/**
 * Seasonal naive: each future period repeats the same period of the last
 * season. Intervals as R's forecast::snaive (FPP3 5.5): the root mean square
 * of the seasonal differences (not their sd: a trend shows in their mean and
 * belongs in the error), growing with the square root of whole seasons ahead.
 */
export function seasonalNaive(input: ModelInput, m = mainPeriod(input)): Forecast {
  const { y, horizon } = input;
  const n = y.length;
  const lag = n > m ? m : 1;
  const point = Array.from({ length: horizon }, (_, h) => y[n - lag + (h % lag)] ?? 0);
  let ss = 0;
  for (let t = lag; t < n; t++) ss += (y[t] - y[t - lag]) ** 2;
  const s = n > lag ? Math.sqrt(ss / (n - lag)) : 0;
  return normalBands(point, (h) => s * Math.sqrt(Math.floor(h / lag) + 1));
}

type Season = ReturnType<typeof seasonalIndices>;

/** Classical seasonal indices when the series is seasonal at its main period, else undefined. */
function classicalSeason(input: ModelInput): Season | undefined {
  const m = mainPeriod(input);
  return isSeasonal(input.y, m) ? seasonalIndices(input.y, m) : undefined;
}

function reseason(f: Forecast, season: Season | undefined, offset: number): Forecast {
  if (!season) return f;
  const r = (a: number[]) => applySeason(a, season, offset, true);
  return { point: r(f.point), lo80: r(f.lo80), hi80: r(f.hi80), lo95: r(f.lo95), hi95: r(f.hi95) };
}

function augursBands(
  predict: (level: number) => { point: number[]; intervals?: { lower: number[]; upper: number[] } },
): Forecast {
  const f95 = predict(0.95);
  const f80 = predict(0.8);
  const point = f95.point;
  return {
    point,
    lo80: f80.intervals?.lower ?? point,
    hi80: f80.intervals?.upper ?? point,
    lo95: f95.intervals?.lower ?? point,
    hi95: f95.intervals?.upper ?? point,
  };
}

/**
 * ETS: augurs' AutoETS (which picks error, trend and damping by AICc but has
 * no seasonal models) on the series with its classical seasonal component
 * taken out, which is then put back; the decomposition method of thetaf.
 */
export function ets(input: ModelInput): Forecast {
  const { AutoETS } = loadAugurs();
  const season = classicalSeason(input);
  const adjusted = season ? applySeason(input.y, season, 0, false) : input.y;
  const model = new AutoETS(1, 'ZZN');
  try {
    model.fit(Float64Array.from(adjusted));
    return reseason(
      augursBands((level) => model.predict(input.horizon, level)),
      season,
      input.y.length,
    );
  } finally {
    model.free();
  }
}

/**
 * MSTL decomposition with the frequency's season lengths (weekly and yearly
 * for days, yearly for weeks, months and quarters) and AutoETS on the
 * seasonally adjusted series; intervals from augurs.
 */
export function mstlEts(input: ModelInput): Forecast {
  const periods = (input.periods ?? []).filter((m) => m > 1 && input.y.length >= 2 * m);
  if (periods.length === 0) return ets(input);
  const { MSTL } = loadAugurs();
  const model = MSTL.ets(periods);
  try {
    model.fit(Float64Array.from(input.y));
    return augursBands((level) => model.predict(input.horizon, level));
  } finally {
    model.free();
  }
}

/**
 * The Theta method (Assimakopoulos & Nikolopoulos 2000, as R's
 * forecast::thetaf, which Hyndman & Billah showed is SES with drift): on the
 * seasonally adjusted series, simple exponential smoothing plus half the
 * slope of the linear trend. It won the M3 competition's monthly data.
 */
export function theta(input: ModelInput): Forecast {
  const season = classicalSeason(input);
  const x = season ? applySeason(input.y, season, 0, false) : [...input.y];
  const n = x.length;
  let best = { alpha: 0.5, sse: Number.POSITIVE_INFINITY, level: x[0] ?? 0 };
  for (let a = 1; a <= 99; a++) {
    const alpha = a / 100;
    let level = x[0] ?? 0;
    let sse = 0;
    for (let t = 1; t < n; t++) {
      sse += (x[t] - level) ** 2;
      level += alpha * (x[t] - level);
    }
    if (sse < best.sse) best = { alpha, sse, level };
  }
  const tMean = (n - 1) / 2;
  const xMean = x.reduce((s, v) => s + v, 0) / Math.max(1, n);
  let num = 0;
  let den = 0;
  for (let t = 0; t < n; t++) {
    num += (t - tMean) * (x[t] - xMean);
    den += (t - tMean) ** 2;
  }
  const drift = den > 0 ? num / den / 2 : 0;
  const { alpha } = best;
  const sigma = Math.sqrt(best.sse / Math.max(1, n - 1));
  const point = Array.from(
    { length: input.horizon },
    (_, h) => best.level + drift * (h + (1 - (1 - alpha) ** n) / alpha),
  );
  return reseason(
    normalBands(point, (h) => sigma * Math.sqrt(1 + alpha ** 2 * h)),
    season,
    n,
  );
}

interface ArimaModel {
  train(ts: number[]): ArimaModel;
  predict(length: number): [number[], number[]];
  destroy(): void;
}
type ArimaConstructor = new (options: Record<string, unknown>) => ArimaModel;
type EmscriptenFactory = (o: object) => unknown;
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const { WebAssembly: Wasm } = globalThis as unknown as { WebAssembly: WasmApi };
let arimaParts: { factory: EmscriptenFactory; load: (m: unknown) => ArimaConstructor; compiled: object } | undefined;

/**
 * A fresh instance of `arima` (ctsa compiled to WASM), loaded as its index.js
 * does but with two changes. Its C library's printf ("non-stationary AR
 * part", matrix warnings), which goes to stdout and would corrupt a log or a
 * --json bench, is sent nowhere: a model that fails is reported by its
 * exception, and selection drops it. And each fit gets its own instance
 * (the WASM compiled once): AutoARIMA's search reads memory an earlier fit
 * left behind, so on a shared instance the same series gave different
 * forecasts after other fits (issue 16's determinism test caught it).
 */
function freshArima(): ArimaConstructor {
  if (!arimaParts) {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('arima'));
    const bin = require(path.join(dir, 'wrapper', 'native.bin.js')) as Uint8Array;
    arimaParts = {
      factory: require(path.join(dir, 'wasm', 'native-sync.js')) as EmscriptenFactory,
      load: require(path.join(dir, 'load.js')) as (m: unknown) => ArimaConstructor,
      compiled: new Wasm.Module(bin),
    };
  }
  const { factory, load, compiled } = arimaParts;
  const quiet = () => {};
  return load(
    factory({
      print: quiet,
      printErr: quiet,
      instantiateWasm(imports: object, receive: (instance: object, module: object) => void) {
        const instance = new Wasm.Instance(compiled, imports);
        receive(instance, compiled);
        return instance.exports;
      },
    }),
  );
}

/**
 * AutoARIMA (the `arima` package: ctsa's auto.arima compiled to WASM),
 * seasonal (SARIMA, up to (2,1,2)(1,1,1)m) where two seasons are there;
 * intervals from its forecast error variances.
 */
export function arima(input: ModelInput): Forecast {
  const Arima = freshArima();
  const m = mainPeriod(input);
  // A seasonal ARIMA with a long season (52 weeks) took 3 s per fit: there the classical seasonal component is
  // taken out and put back instead, as for ETS and Theta.
  const longSeason = m > MAX_SARIMA_PERIOD;
  const seasonal = !longSeason && m > 1 && input.y.length >= 2 * m + 2;
  const season = longSeason ? classicalSeason(input) : undefined;
  const y = season ? applySeason(input.y, season, 0, false) : [...input.y];
  const options = seasonal
    ? { auto: true, p: 2, d: 1, q: 2, P: 1, D: 1, Q: 1, s: m, verbose: false }
    : { auto: true, p: 2, d: 2, q: 2, verbose: false };
  const model = new Arima(options).train(y);
  try {
    const [point, variance] = model.predict(input.horizon);
    if (!point.every(Number.isFinite)) throw new Error('arima: no finite forecast');
    return reseason(
      normalBands([...point], (h) => Math.sqrt(Math.max(0, variance[h] ?? 0))),
      season,
      input.y.length,
    );
  } finally {
    model.destroy();
  }
}

/**
 * The airline model (Box & Jenkins 1970, fitted to their airline passengers):
 * SARIMA(0,1,1)(0,1,1)m, one difference and one seasonal difference with a
 * moving-average term each, by exact maximum likelihood (the `arima`
 * package). It has no order search, which is what makes AutoARIMA slow: on
 * the monthly benchmark it fitted in about 3 ms against AutoARIMA's 80-300 ms
 * and forecast better (mean MASE 1.11 against 1.27). Without two full seasons
 * (or with a season longer than a year of months) it is ARIMA(0,1,1), simple
 * exponential smoothing, on the classically seasonally adjusted series.
 */
export function sarima(input: ModelInput): Forecast {
  const Arima = freshArima();
  const m = mainPeriod(input);
  const seasonal = m > 1 && m <= MAX_SARIMA_PERIOD && input.y.length >= 2 * m + 2;
  const season = seasonal ? undefined : classicalSeason(input);
  const y = season ? applySeason(input.y, season, 0, false) : [...input.y];
  const options = seasonal
    ? { p: 0, d: 1, q: 1, P: 0, D: 1, Q: 1, s: m, verbose: false }
    : { p: 0, d: 1, q: 1, verbose: false };
  const model = new Arima(options).train(y);
  try {
    const [point, variance] = model.predict(input.horizon);
    if (!point.every(Number.isFinite)) throw new Error('sarima: no finite forecast');
    return reseason(
      normalBands([...point], (h) => Math.sqrt(Math.max(0, variance[h] ?? 0))),
      season,
      input.y.length,
    );
  } finally {
    model.destroy();
  }
}

/** The longest season fitted as a seasonal ARIMA (monthly's 12; quarterly's 4). */
const MAX_SARIMA_PERIOD = 12;

/** Runs one model by name. */
export function runModel(name: SingleModelName, input: ModelInput): Forecast {
  switch (name) {
    case ModelNames.seasonalNaive:
      return seasonalNaive(input);
    case ModelNames.ets:
      return ets(input);
    case ModelNames.mstlEts:
      return mstlEts(input);
    case ModelNames.arima:
      return arima(input);
    case ModelNames.sarima:
      return sarima(input);
    case ModelNames.theta:
      return theta(input);
    case ModelNames.prophet:
      return prophet(input);
    case ModelNames.croston:
      return intermittent(input, 'croston');
    case ModelNames.tsb:
      return intermittent(input, 'tsb');
  }
}
