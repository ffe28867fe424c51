import os from 'node:os';
import { Piscina } from 'piscina';
import type { SeriesForecastOptions, SeriesForecastResult } from './model-selection.js';

export interface ForecastPool {
  /** Backtests the candidates on one series, picks the winner and forecasts with it, on a worker thread. */
  forecast(options: SeriesForecastOptions): Promise<SeriesForecastResult>;
  readonly threads: number;
  close(): Promise<void>;
}

/**
 * A pool of worker threads for model fitting, which is CPU-bound WASM: it
 * would block the event loop (HTTP, queues) if run on the main thread.
 * Default: one thread per core.
 */
export function createForecastPool(options: { threads?: number } = {}): ForecastPool {
  const threads = Math.max(1, options.threads ?? os.availableParallelism());
  const pool = new Piscina({
    filename: new URL('./forecast-worker.js', import.meta.url).href,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 30_000,
  });
  return {
    threads,
    forecast: (task) => pool.run(task) as Promise<SeriesForecastResult>,
    close: () => pool.destroy(),
  };
}
