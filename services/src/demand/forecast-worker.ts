// Runs in a piscina worker thread: one series per task. WASM models load once per thread.
import { forecastSeries, type SeriesForecastOptions, type SeriesForecastResult } from './model-selection.js';

export default function forecastTask(task: SeriesForecastOptions): SeriesForecastResult {
  return forecastSeries(task);
}
