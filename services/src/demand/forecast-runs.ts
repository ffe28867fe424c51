import { CodedError, ErrorCodes } from '@c2m/shared';
import { type ConnectionOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import { newId } from '../ids.js';
import type { SchedulerKeeper } from '../job-schedulers.js';
import type { NewOrder, Order } from '../orders/orders-service.js';
import type { AuthUser } from '../plugins/auth.js';
import { DEMAND_KINDS, dayString } from './demand-service.js';
import type { ForecastPool } from './forecast-pool.js';
import {
  addPeriods,
  aggregate,
  DEFAULT_HORIZON,
  type Frequency,
  futurePeriods,
  MAX_HORIZON,
  periodEnd,
} from './frequency.js';
import type { BacktestScores, SeriesForecastResult } from './model-selection.js';
import type { Forecast } from './models.js';
import { sumForecasts } from './reconcile.js';

export const FORECAST_QUEUE = 'demand-forecast';
/** Periods a draft order covers unless asked: a month's worth of weeks, a quarter's months, one quarter. */
const DRAFT_PERIODS: Record<Exclude<Frequency, 'day'>, number> = { week: 4, month: 3, quarter: 1 };
export const Levels = ['sku', 'product', 'category', 'brand'] as const;
export type Level = (typeof Levels)[number];

export const RunStatuses = ['queued', 'running', 'done', 'failed'] as const;
export type RunStatus = (typeof RunStatuses)[number];

export interface ForecastRun {
  id: string;
  brandMspId: string;
  status: RunStatus;
  trigger: string;
  /** The planning frequency the signals were summed to. */
  frequency: Frequency;
  /** Periods of that frequency forecast. */
  horizon: number;
  /** Days the forecast covers. */
  horizonDays: number;
  historyFrom: string | null;
  historyTo: string | null;
  seriesTotal: number;
  seriesDone: number;
  percent: number;
  /** Over all SKUs: mean MASE and sMAPE, pooled interval coverage, and the seasonal-naive MASE for comparison. */
  scores: OverallScores | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface OverallScores {
  mase: number;
  smape: number;
  coverage80: number;
  coverage95: number;
  seasonalNaiveMase: number | null;
  scoredSeries: number;
  models: Record<string, number>;
  reconciliation: 'bottom_up';
}

export interface SeriesForecastRow {
  level: Level;
  key: string;
  model: string;
  frequency: Frequency;
  /** How the model was chosen and its intervals calibrated (null for bottom-up sums). */
  selection: Record<string, unknown> | null;
  scores: BacktestScores | null;
  candidates: { model: string; scores: BacktestScores }[];
  days: string[];
  forecast: Forecast;
}

export interface ForecastRunsDeps {
  readonly pool: pg.Pool;
  readonly forecasts: ForecastPool;
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly logger: Logger;
  readonly createOrder: (user: AuthUser, input: NewOrder, options: { draft?: boolean }) => Promise<Order>;
  /** Cron pattern of the scheduled run for every brand with signals (default nightly at 02:00); null for none. */
  readonly schedule?: string | null;
  /** Keeps the scheduled run's job scheduler in Redis, re-created if Redis loses it. */
  readonly schedulers: SchedulerKeeper;
  /** Rolling origins per series (default 2). */
  readonly origins?: number;
}

const DAY_MS = 86_400_000;
const addDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v == null ? null : String(v));
const ymd = (v: unknown) => (v == null ? null : dayString(v));

function toRun(r: Record<string, unknown>): ForecastRun {
  const total = Number(r.series_total);
  const done = Number(r.series_done);
  return {
    id: r.id as string,
    brandMspId: r.brand_msp as string,
    status: r.status as ForecastRun['status'],
    trigger: r.trigger as string,
    frequency: (r.frequency as Frequency | undefined) ?? 'day',
    horizon: Number(r.horizon ?? r.horizon_days),
    horizonDays: Number(r.horizon_days),
    historyFrom: ymd(r.history_from),
    historyTo: ymd(r.history_to),
    seriesTotal: total,
    seriesDone: done,
    percent: r.status === 'done' ? 100 : total > 0 ? Math.floor((100 * done) / total) : 0,
    scores: (r.scores as OverallScores | null) ?? null,
    error: (r.error as string | null) ?? null,
    createdAt: iso(r.created_at) as string,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

/** ISO week (Monday) of a day, YYYY-MM-DD. */
export function weekOf(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  const dow = (new Date(t).getUTCDay() + 6) % 7;
  return new Date(t - dow * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Forecast runs: a BullMQ job per run (on demand, and from a job scheduler),
 * whose series are fitted on the worker-thread pool. Progress is written per
 * series, so `GET /forecasts/:id` shows it while the run is going.
 */
export function createForecastRuns(deps: ForecastRunsDeps) {
  const { pool, logger } = deps;
  const queue = new Queue(FORECAST_QUEUE, { connection: deps.connection, prefix: deps.prefix });
  let worker: Worker | undefined;

  async function start(): Promise<void> {
    worker = new Worker(
      FORECAST_QUEUE,
      async (job) => {
        if (job.name === 'scheduled') {
          const data = job.data as { horizonDays?: number; frequency?: Frequency; horizon?: number };
          return runScheduled(data.frequency ?? 'day', data.horizon ?? data.horizonDays ?? DEFAULT_HORIZON.day);
        }
        const { runId } = job.data as { runId: string };
        await processRun(runId, (p) => job.updateProgress(p));
      },
      { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
    );
    worker.on('failed', (job, err) => logger.warn({ err, jobId: job?.id }, 'forecast job failed'));
    if (deps.schedule !== null) {
      await deps.schedulers.register({
        queue,
        id: 'nightly-forecast',
        repeat: { pattern: deps.schedule ?? '0 2 * * *' },
        template: { name: 'scheduled', data: { horizonDays: 84 } },
      });
    }
  }

  async function runScheduled(frequency: Frequency, horizon: number): Promise<void> {
    const { rows } = await pool.query('SELECT DISTINCT brand_msp FROM demand_daily');
    for (const r of rows) {
      const run = await createRun(r.brand_msp, frequency, horizon, 'schedule');
      await processRun(run.id, () => {});
    }
  }

  async function createRun(
    brandMsp: string,
    frequency: Frequency,
    horizon: number,
    trigger: string,
  ): Promise<ForecastRun> {
    const id = newId('FCR');
    // The days covered, counted from a Monday that starts a month and a quarter too.
    const anchor = '2001-01-01';
    const horizonDays = Math.round(
      (Date.parse(periodEnd(addPeriods(anchor, frequency, horizon - 1), frequency)) - Date.parse(anchor)) / DAY_MS + 1,
    );
    const { rows } = await pool.query(
      `INSERT INTO forecast_runs (id, brand_msp, status, trigger, horizon_days, frequency, horizon)
       VALUES ($1,$2,'queued',$3,$4,$5,$6) RETURNING *`,
      [id, brandMsp, trigger, horizonDays, frequency, horizon],
    );
    return toRun(rows[0]);
  }

  /**
   * Starts a forecast run for the caller's brand at a planning frequency, `horizon` periods of it ahead;
   * it runs in the background.
   */
  async function requestRun(
    user: AuthUser,
    options: { frequency?: Frequency; horizon?: number } = {},
  ): Promise<ForecastRun> {
    const frequency = options.frequency ?? 'day';
    const horizon = options.horizon ?? DEFAULT_HORIZON[frequency];
    if (!Number.isInteger(horizon) || horizon < 1 || horizon > MAX_HORIZON[frequency]) {
      throw new CodedError(
        ErrorCodes.VALIDATION_FAILED,
        `horizon must be 1-${MAX_HORIZON[frequency]} periods at ${frequency} frequency`,
        400,
      );
    }
    const skus = await pool.query('SELECT 1 FROM demand_daily WHERE brand_msp = $1 LIMIT 1', [user.mspId]);
    if (!skus.rowCount) {
      throw new CodedError(ErrorCodes.INVALID_STATE, 'no demand signals yet: nothing to forecast', 409);
    }
    const run = await createRun(user.mspId, frequency, horizon, 'api');
    await queue.add(
      'run',
      { runId: run.id },
      { jobId: run.id, attempts: 2, removeOnComplete: 1000, removeOnFail: 1000 },
    );
    return run;
  }

  async function processRun(runId: string, progress: (p: number) => unknown): Promise<void> {
    const { rows } = await pool.query('SELECT * FROM forecast_runs WHERE id = $1', [runId]);
    const run = rows[0];
    if (!run) throw new UnrecoverableError(`forecast run ${runId} not found`);
    if (run.status === 'done') return;
    const brand = run.brand_msp as string;
    const frequency = ((run.frequency as Frequency | undefined) ?? 'day') as Frequency;
    const horizon = Number(run.horizon ?? run.horizon_days);
    try {
      // A retried run starts over: its partial results go.
      await pool.query('DELETE FROM forecast_series WHERE run_id = $1', [runId]);
      const span = await pool.query(
        `SELECT to_char(MIN(day), 'YYYY-MM-DD') AS from, to_char(MAX(day), 'YYYY-MM-DD') AS to
         FROM demand_daily WHERE brand_msp = $1`,
        [brand],
      );
      const from = span.rows[0]?.from as string | undefined;
      const to = span.rows[0]?.to as string | undefined;
      const skus = await pool.query(
        `SELECT s.sku, s.product_id, p.category_id FROM demand_skus s
         JOIN demand_products p ON p.brand_msp = s.brand_msp AND p.id = s.product_id
         WHERE s.brand_msp = $1 ORDER BY s.sku`,
        [brand],
      );
      await pool.query(
        `UPDATE forecast_runs SET status = 'running', started_at = now(), series_total = $2, series_done = 0,
           history_from = $3, history_to = $4, error = NULL WHERE id = $1`,
        [runId, skus.rowCount, from ?? null, to ?? null],
      );
      if (!from || !to) throw new UnrecoverableError('no demand signals');
      const length = Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS) + 1;
      const daily = await pool.query(
        `SELECT sku, (day - $2::date) AS i, SUM(quantity)::float8 AS q FROM demand_daily
         WHERE brand_msp = $1 AND kind = ANY($3) GROUP BY sku, day`,
        [brand, from, DEMAND_KINDS],
      );
      const values = new Map<string, number[]>();
      for (const r of skus.rows) values.set(r.sku, new Array<number>(length).fill(0));
      for (const r of daily.rows) {
        const y = values.get(r.sku);
        if (y) y[Number(r.i)] = Number(r.q);
      }
      let done = 0;
      const results = new Map<string, SeriesForecastResult>();
      let firstPeriod = addDays(to, 1);
      await Promise.all(
        skus.rows.map(async (r) => {
          // Summed to the run's frequency; partial periods at either end are dropped (frequency.ts).
          const series = aggregate(values.get(r.sku) as number[], from, frequency);
          firstPeriod = futurePeriods(series.start, frequency, series.y.length, 1)[0];
          const result = await deps.forecasts.forecast({
            y: series.y,
            start: series.start,
            horizon,
            frequency,
            origins: deps.origins,
          });
          results.set(r.sku, result);
          await insertSeries(
            runId,
            'sku',
            r.sku,
            result.model,
            result.scores,
            result.candidates,
            firstPeriod,
            result.forecast,
            { ...result.selection, intervalScale: result.intervalScale },
          );
          done++;
          await pool.query('UPDATE forecast_runs SET series_done = $2 WHERE id = $1', [runId, done]);
          await progress(Math.floor((100 * done) / Math.max(1, skus.rows.length)));
        }),
      );

      // Bottom-up: product, category and brand forecasts are sums of their SKUs'.
      const groups: Record<Exclude<Level, 'sku'>, Map<string, Forecast[]>> = {
        product: new Map(),
        category: new Map(),
        brand: new Map(),
      };
      for (const r of skus.rows) {
        const f = (results.get(r.sku) as SeriesForecastResult).forecast;
        for (const [level, key] of [
          ['product', r.product_id],
          ['category', r.category_id],
          ['brand', brand],
        ] as const) {
          const list = groups[level].get(key) ?? [];
          list.push(f);
          groups[level].set(key, list);
        }
      }
      for (const level of ['product', 'category', 'brand'] as const) {
        for (const [key, children] of groups[level]) {
          await insertSeries(runId, level, key, 'bottom_up', null, [], firstPeriod, sumForecasts(children), null);
        }
      }
      await pool.query(`UPDATE forecast_runs SET status = 'done', finished_at = now(), scores = $2 WHERE id = $1`, [
        runId,
        JSON.stringify(overall([...results.values()])),
      ]);
    } catch (err) {
      await pool.query(`UPDATE forecast_runs SET status = 'failed', finished_at = now(), error = $2 WHERE id = $1`, [
        runId,
        (err as Error).message,
      ]);
      throw err;
    }
  }

  async function insertSeries(
    runId: string,
    level: Level,
    key: string,
    model: string,
    scores: BacktestScores | null,
    candidates: unknown,
    firstDay: string,
    f: Forecast,
    selection: Record<string, unknown> | null,
  ) {
    await pool.query(
      `INSERT INTO forecast_series (run_id, level, key, model, scores, candidates, first_day, point, lo80, hi80, lo95, hi95,
         selection)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
      [
        runId,
        level,
        key,
        model,
        scores && JSON.stringify(scores),
        JSON.stringify(candidates),
        firstDay,
        f.point,
        f.lo80,
        f.hi80,
        f.lo95,
        f.hi95,
        selection && JSON.stringify(selection),
      ],
    );
  }

  async function ownRun(user: AuthUser, runId: string): Promise<Record<string, unknown>> {
    const { rows } = await pool.query('SELECT * FROM forecast_runs WHERE id = $1', [runId]);
    // Another brand's run is "not found": its existence is not ours to reveal.
    if (!rows[0] || rows[0].brand_msp !== user.mspId) {
      throw new CodedError(ErrorCodes.NOT_FOUND, `forecast run ${runId} not found`, 404);
    }
    return rows[0];
  }

  async function getRun(user: AuthUser, runId: string) {
    const run = toRun(await ownRun(user, runId));
    const { rows } = await pool.query(
      `SELECT level, key, model, scores FROM forecast_series WHERE run_id = $1
       ORDER BY array_position(ARRAY['brand','category','product','sku'], level), key`,
      [runId],
    );
    return { ...run, series: rows.map((r) => ({ level: r.level, key: r.key, model: r.model, scores: r.scores })) };
  }

  async function listRuns(user: AuthUser): Promise<ForecastRun[]> {
    const { rows } = await pool.query(
      'SELECT * FROM forecast_runs WHERE brand_msp = $1 ORDER BY created_at DESC LIMIT 50',
      [user.mspId],
    );
    return rows.map(toRun);
  }

  async function getSeries(user: AuthUser, runId: string, level: Level, key: string): Promise<SeriesForecastRow> {
    const run = await ownRun(user, runId);
    const frequency = ((run.frequency as Frequency | undefined) ?? 'day') as Frequency;
    const { rows } = await pool.query('SELECT * FROM forecast_series WHERE run_id = $1 AND level = $2 AND key = $3', [
      runId,
      level,
      key,
    ]);
    const r = rows[0];
    if (!r) throw new CodedError(ErrorCodes.NOT_FOUND, `no ${level} forecast for ${key} in run ${runId}`, 404);
    const first = ymd(r.first_day) as string;
    return {
      level: r.level,
      key: r.key,
      model: r.model,
      frequency,
      selection: r.selection ?? null,
      scores: r.scores,
      candidates: r.candidates,
      days: r.point.map((_: number, i: number) => addPeriods(first, frequency, i)),
      forecast: { point: r.point, lo80: r.lo80, hi80: r.hi80, lo95: r.lo95, hi95: r.hi95 },
    };
  }

  /**
   * Turns a product's forecast into a draft custom order: one line per SKU
   * (variant) with the forecast total over the chosen periods, and the
   * per-period quantities in the order's schedule. The periods follow the
   * run's frequency: whole ISO weeks for daily and weekly runs, months and
   * quarters for monthly and quarterly ones. Quantities are the point
   * forecast, or the upper 80% bound for a brand that would rather not run out.
   */
  async function draftOrder(
    user: AuthUser,
    runId: string,
    input: {
      productId: string;
      weeks?: number;
      /** Periods of the run's frequency (weeks for a daily run); `weeks` is the older name. */
      periods?: number;
      basis?: 'point' | 'upper80';
      targetPriceMinor?: number;
      currency?: string;
      shipTo?: string;
    },
  ): Promise<Order> {
    const run = await ownRun(user, runId);
    if (run.status !== 'done')
      throw new CodedError(ErrorCodes.INVALID_STATE, `forecast run ${runId} is ${run.status}`, 409);
    const product = await pool.query('SELECT name FROM demand_products WHERE brand_msp = $1 AND id = $2', [
      user.mspId,
      input.productId,
    ]);
    if (!product.rowCount) throw new CodedError(ErrorCodes.NOT_FOUND, `product ${input.productId} not found`, 404);
    const { rows } = await pool.query(
      `SELECT f.key AS sku, s.colour, s.size, f.first_day, f.point, f.hi80 FROM forecast_series f
       JOIN demand_skus s ON s.brand_msp = $2 AND s.sku = f.key
       WHERE f.run_id = $1 AND f.level = 'sku' AND s.product_id = $3 ORDER BY f.key`,
      [runId, user.mspId, input.productId],
    );
    if (rows.length === 0) throw new CodedError(ErrorCodes.NOT_FOUND, `no SKU forecasts for ${input.productId}`, 404);
    const frequency = ((run.frequency as Frequency | undefined) ?? 'day') as Frequency;
    const first = ymd(rows[0].first_day) as string;
    // A daily run is planned in whole ISO weeks from the first Monday of the forecast, 7 values a bucket;
    // other runs in their own periods, one value a bucket.
    const bucketStart = frequency === 'day' && weekOf(first) !== first ? addDays(weekOf(first), 7) : first;
    const offset = Math.round((Date.parse(bucketStart) - Date.parse(first)) / DAY_MS);
    const width = frequency === 'day' ? 7 : 1;
    const bucket: Frequency = frequency === 'day' ? 'week' : frequency;
    const available = Math.floor((rows[0].point.length - offset) / width);
    const wanted = input.periods ?? input.weeks ?? DRAFT_PERIODS[bucket];
    const periods = Math.min(wanted, available);
    if (periods < 1) throw new CodedError(ErrorCodes.VALIDATION_FAILED, `the forecast holds no whole ${bucket}`, 400);
    // Dispatch plans factories' capacity by ISO week: a month's or quarter's quantity is due in the week its
    // period starts in (the week of the 1st), and the notes say the plan is monthly or quarterly.
    const schedule: { week: string; sku: string; quantity: number }[] = [];
    const lines: { sku: string; colour?: string; size?: string; quantity: number }[] = [];
    for (const r of rows) {
      const values: number[] = input.basis === 'upper80' ? r.hi80 : r.point;
      let total = 0;
      for (let w = 0; w < periods; w++) {
        let q = 0;
        for (let d = 0; d < width; d++) q += values[offset + w * width + d];
        const quantity = Math.round(q);
        total += quantity;
        if (quantity > 0) schedule.push({ week: weekOf(addPeriods(bucketStart, bucket, w)), sku: r.sku, quantity });
      }
      if (total > 0)
        lines.push({ sku: r.sku, colour: r.colour ?? undefined, size: r.size ?? undefined, quantity: total });
    }
    if (lines.length === 0) throw new CodedError(ErrorCodes.INVALID_STATE, 'the forecast is zero for every SKU', 409);
    return deps.createOrder(
      user,
      {
        product: product.rows[0].name,
        lines,
        spec: {
          notes: `Draft from forecast run ${runId} (${input.basis ?? 'point'} forecast, ${periods} ${bucket}s)`,
          schedule,
        },
        targetPriceMinor: input.targetPriceMinor ?? 0,
        currency: input.currency ?? 'CNY',
        // Due before the first planned period starts selling.
        dueDate: bucketStart,
        shipTo: input.shipTo ?? 'to be confirmed',
      },
      { draft: true },
    );
  }

  async function close(): Promise<void> {
    await worker?.close();
    await queue.close();
  }

  return { start, requestRun, getRun, listRuns, getSeries, draftOrder, processRun, close };
}

export type ForecastRuns = ReturnType<typeof createForecastRuns>;

function overall(results: readonly SeriesForecastResult[]): OverallScores {
  const scored = results.filter((r) => r.scores);
  const models: Record<string, number> = {};
  for (const r of results) models[r.model] = (models[r.model] ?? 0) + 1;
  let points = 0;
  let in80 = 0;
  let in95 = 0;
  let naive = 0;
  let naiveN = 0;
  for (const r of scored) {
    const s = r.scores as BacktestScores;
    points += s.points;
    in80 += s.coverage80 * s.points;
    in95 += s.coverage95 * s.points;
    const sn = r.candidates.find((c) => c.model === 'seasonal_naive');
    if (sn) {
      naive += sn.scores.mase;
      naiveN++;
    }
  }
  const mean = (f: (s: BacktestScores) => number) =>
    scored.length ? scored.reduce((a, r) => a + f(r.scores as BacktestScores), 0) / scored.length : 0;
  return {
    mase: mean((s) => s.mase),
    smape: mean((s) => s.smape),
    coverage80: points ? in80 / points : 0,
    coverage95: points ? in95 / points : 0,
    seasonalNaiveMase: naiveN ? naive / naiveN : null,
    scoredSeries: scored.length,
    models,
    reconciliation: 'bottom_up',
  };
}
