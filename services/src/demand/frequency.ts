/**
 * Planning frequencies: a forecast run aggregates the daily signals to one of
 * these, and the season lengths, the horizon and the holidays follow from it.
 */
export const Frequencies = ['day', 'week', 'month', 'quarter'] as const;
export type Frequency = (typeof Frequencies)[number];

const DAY_MS = 86_400_000;
const ms = (day: string) => Date.parse(`${day}T00:00:00Z`);
const ymd = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The longest horizon a run may ask for, in periods: about two years at every frequency. */
export const MAX_HORIZON: Record<Frequency, number> = { day: 730, week: 104, month: 24, quarter: 8 };
/** The default horizon in periods: a quarter of a year ahead for daily and weekly, a year for monthly and quarterly. */
export const DEFAULT_HORIZON: Record<Frequency, number> = { day: 84, week: 13, month: 12, quarter: 8 };

/** The first day of the period (ISO week from Monday, calendar month, calendar quarter) that holds `day`. */
export function periodStart(day: string, frequency: Frequency): string {
  const t = ms(day);
  const d = new Date(t);
  switch (frequency) {
    case 'day':
      return day;
    case 'week':
      return ymd(t - ((d.getUTCDay() + 6) % 7) * DAY_MS);
    case 'month':
      return ymd(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
    case 'quarter':
      return ymd(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (d.getUTCMonth() % 3), 1));
  }
}

/** The start of the period `n` periods after the one starting on `start` (which must be a period start). */
export function addPeriods(start: string, frequency: Frequency, n: number): string {
  const d = new Date(ms(start));
  switch (frequency) {
    case 'day':
      return ymd(ms(start) + n * DAY_MS);
    case 'week':
      return ymd(ms(start) + 7 * n * DAY_MS);
    case 'month':
      return ymd(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
    case 'quarter':
      return ymd(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 3 * n, 1));
  }
}

/** The last day of the period starting on `start`. */
export function periodEnd(start: string, frequency: Frequency): string {
  return ymd(ms(addPeriods(start, frequency, 1)) - DAY_MS);
}

/**
 * Sums a gap-free daily series into periods. A period the data covers only
 * in part (the month still under way, the week the signals started in) would
 * read as a collapse in demand, so partial periods at either end are dropped.
 */
export function aggregate(
  daily: readonly number[],
  start: string,
  frequency: Frequency,
): { start: string; y: number[] } {
  if (frequency === 'day') return { start, y: [...daily] };
  const sums = new Map<string, number>();
  const days = new Map<string, number>();
  const order: string[] = [];
  for (let i = 0; i < daily.length; i++) {
    const p = periodStart(ymd(ms(start) + i * DAY_MS), frequency);
    if (!sums.has(p)) {
      order.push(p);
      sums.set(p, 0);
      days.set(p, 0);
    }
    sums.set(p, (sums.get(p) as number) + daily[i]);
    days.set(p, (days.get(p) as number) + 1);
  }
  const full = (p: string) => days.get(p) === Math.round((ms(addPeriods(p, frequency, 1)) - ms(p)) / DAY_MS);
  // Only the ends can be partial. With no full period at all, the longer of the (at most two) partial ones stays.
  const anyFull = order.some(full);
  const kept = anyFull
    ? order.filter((p, i) => full(p) || (i > 0 && i < order.length - 1))
    : [...order].sort((p, q) => (days.get(q) as number) - (days.get(p) as number)).slice(0, 1);
  return { start: kept[0] ?? periodStart(start, frequency), y: kept.map((p) => sums.get(p) as number) };
}

/** The calendar season lengths at a frequency: a week of days, a year of weeks, months or quarters. */
export const CALENDAR_PERIODS: Record<Frequency, readonly number[]> = {
  day: [7, 365],
  week: [52],
  month: [12],
  quarter: [4],
};

/**
 * The season lengths a model should use on a series of `n` periods: the
 * calendar's, where two full seasons are there to estimate them; otherwise
 * `detected` (from the data, see `detectPeriods`) or none.
 */
export function seasonPeriods(frequency: Frequency, n: number, detected: readonly number[] = []): number[] {
  const calendar = CALENDAR_PERIODS[frequency].filter((m) => n >= 2 * m + (frequency === 'day' && m > 7 ? 7 : 0));
  if (calendar.length > 0) return calendar;
  return detected.filter((m) => m >= 2 && n >= 2 * m).slice(0, 1);
}

/** Period starts of the `horizon` periods after a series of `length` periods starting on `start`. */
export function futurePeriods(start: string, frequency: Frequency, length: number, horizon: number): string[] {
  return Array.from({ length: horizon }, (_, i) => addPeriods(start, frequency, length + i));
}
