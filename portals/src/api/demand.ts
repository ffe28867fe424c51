// Wire types and calls of the demand API (services/src/routes/demand.ts, services/API.md "Demand").
import type { ApiClient } from './client';

export interface BacktestScores {
  mase: number;
  smape: number;
  coverage80: number;
  coverage95: number;
  points: number;
}

/** Planning frequencies a run can sum the signals to (services/src/demand/frequency.ts). */
export const FREQUENCIES = ['day', 'week', 'month', 'quarter'] as const;
export type Frequency = (typeof FREQUENCIES)[number];
/** Longest horizon per frequency, in its periods, as the API enforces. */
export const MAX_HORIZON: Record<Frequency, number> = { day: 730, week: 104, month: 24, quarter: 8 };
export const DEFAULT_HORIZON: Record<Frequency, number> = { day: 84, week: 13, month: 12, quarter: 8 };

export interface ForecastRun {
  id: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  trigger: string;
  frequency: Frequency;
  horizon: number;
  horizonDays: number;
  historyFrom: string | null;
  historyTo: string | null;
  seriesTotal: number;
  seriesDone: number;
  percent: number;
  scores: {
    mase: number;
    smape: number;
    coverage80: number;
    coverage95: number;
    seasonalNaiveMase: number | null;
    scoredSeries: number;
    models: Record<string, number>;
    reconciliation: string;
  } | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export type ForecastLevel = 'brand' | 'category' | 'product' | 'sku';

export interface ForecastRunDetail extends ForecastRun {
  series: { level: ForecastLevel; key: string; model: string; scores: BacktestScores | null }[];
}

export interface Selection {
  method: string;
  origins: number;
  backtestHorizon: number;
  periods: number[];
  combined: string[];
  intervalScale: { k80: number; k95: number; method: string; points: number };
}

export interface SeriesForecast {
  level: ForecastLevel;
  key: string;
  model: string;
  frequency: Frequency;
  selection: Selection | null;
  scores: BacktestScores | null;
  candidates: { model: string; scores: BacktestScores }[];
  history: { date: string; quantity: number }[];
  forecast: { date: string; point: number; lo80: number; hi80: number; lo95: number; hi95: number }[];
}

export interface DraftOrder {
  id: string;
  product: string;
  status: string;
  totalQuantity: number;
  lines: { sku: string; colour?: string; size?: string; quantity: number }[];
  /** The API types an order's spec as open JSON; a draft from a forecast carries its weekly `schedule` in it. */
  spec: Record<string, unknown>;
}

export interface ScheduleRow {
  week: string;
  sku: string;
  quantity: number;
}

/** The weekly schedule of a draft order, keeping only well-formed rows (the spec is open JSON). */
export function draftSchedule(order: DraftOrder): ScheduleRow[] {
  const rows = order.spec.schedule;
  if (!Array.isArray(rows)) return [];
  return rows.filter(
    (r): r is ScheduleRow =>
      typeof r === 'object' &&
      r !== null &&
      typeof r.week === 'string' &&
      typeof r.sku === 'string' &&
      typeof r.quantity === 'number',
  );
}

const enc = encodeURIComponent;
/** History shown beside a forecast: two years, so monthly and quarterly charts show their seasons. */
const HISTORY_DAYS = 730;

export function demandApi(api: ApiClient) {
  const { request } = api;
  return {
    listRuns: () => request<{ items: ForecastRun[] }>('GET', '/api/demand/forecasts'),
    startRun: (body: { frequency: Frequency; horizon: number } = { frequency: 'day', horizon: 84 }) =>
      request<ForecastRun>('POST', '/api/demand/forecasts', body),
    getRun: (runId: string) => request<ForecastRunDetail>('GET', `/api/demand/forecasts/${enc(runId)}`),
    series: (runId: string, level: ForecastLevel, key: string) =>
      request<SeriesForecast>(
        'GET',
        level === 'sku'
          ? `/api/demand/forecasts/${enc(runId)}/series/${enc(key)}?historyDays=${HISTORY_DAYS}`
          : `/api/demand/forecasts/${enc(runId)}/${level}/${enc(key)}?historyDays=${HISTORY_DAYS}`,
      ),
    draftOrder: (runId: string, body: { productId: string; periods: number; basis: 'point' | 'upper80' }) =>
      request<DraftOrder>('POST', `/api/demand/forecasts/${enc(runId)}/draft-order`, body),
  };
}
