import type { Frequency } from './frequency.js';

/** A point forecast with 80% and 95% prediction intervals, one value per future period. */
export interface Forecast {
  readonly point: number[];
  readonly lo80: number[];
  readonly hi80: number[];
  readonly lo95: number[];
  readonly hi95: number[];
}

export interface ModelInput {
  /** Values per period (day, week, month or quarter), oldest first, no gaps. */
  readonly y: readonly number[];
  /** The first day of y[0]'s period, YYYY-MM-DD. */
  readonly start: string;
  /** Periods to forecast. */
  readonly horizon: number;
  /** The series' frequency (default day). */
  readonly frequency?: Frequency;
  /** Season lengths in periods, main one first (default: none); see frequency.ts seasonPeriods. */
  readonly periods?: readonly number[];
  /** Extra holidays (e.g. a market's public holidays), each a list of single days YYYY-MM-DD. */
  readonly holidays?: readonly HolidayInput[];
  /** Include the Chinese shopping festivals and Spring Festival (default true). */
  readonly festivals?: boolean;
}

export interface HolidayInput {
  readonly name: string;
  readonly days: readonly string[];
}

export const Z80 = 1.2815515655446004;
export const Z95 = 1.959963984540054;

export function normalBands(point: number[], sigma: (h: number) => number): Forecast {
  return {
    point,
    lo80: point.map((p, h) => p - Z80 * sigma(h)),
    hi80: point.map((p, h) => p + Z80 * sigma(h)),
    lo95: point.map((p, h) => p - Z95 * sigma(h)),
    hi95: point.map((p, h) => p + Z95 * sigma(h)),
  };
}

export function sd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
}
