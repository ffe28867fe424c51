import { freshProphet, loadAugurs } from './augurs.js';
import { addPeriods, type Frequency, periodStart } from './frequency.js';
import { festivalCalendar, prophetHolidays } from './holidays.js';
import { type Forecast, type ModelInput, normalBands, sd } from './model-base.js';

const sec = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

type Holidays = Map<string, { occurrences: { start: number; end: number }[] }>;

/**
 * Holidays as they show at a frequency. Daily: every festival's ramp, day and
 * lull, plus the market's holidays. Weekly: the weeks that hold a festival or
 * a market holiday. Monthly: only Spring Festival, whose lunar date moves the
 * stocking-up and the factory stop between January and February; the
 * fixed-date festivals (618, Double 11, 12) fall in the same month every
 * year, which the yearly seasonality already learns. Quarterly: none (Spring
 * Festival is always in the first quarter).
 */
function holidaysAt(
  frequency: Frequency,
  fromYear: number,
  toYear: number,
  festivals: boolean,
  extra: ModelInput['holidays'],
): Holidays {
  const out: Holidays = new Map();
  const addPeriod = (name: string, day: string) => {
    const p = periodStart(day, frequency);
    const entry = out.get(name) ?? { occurrences: [] };
    if (!entry.occurrences.some((o) => o.start === sec(p))) {
      entry.occurrences.push({ start: sec(p), end: sec(addPeriods(p, frequency, 1)) });
    }
    out.set(name, entry);
  };
  if (frequency === 'day') {
    if (festivals) for (const [k, v] of prophetHolidays(fromYear, toYear)) out.set(k, v);
    for (const h of extra ?? []) for (const d of h.days) addPeriod(h.name, d);
  } else if (frequency === 'week') {
    if (festivals) for (const f of festivalCalendar(fromYear, toYear)) addPeriod(f.name, f.day);
    for (const h of extra ?? []) for (const d of h.days) addPeriod(h.name, d);
  } else if (frequency === 'month' && festivals) {
    for (const f of festivalCalendar(fromYear, toYear)) if (f.name === 'spring_festival') addPeriod(f.name, f.day);
  }
  return out;
}

/** Yearly Fourier order by frequency: fewer terms where a year has fewer points. */
const YEARLY_ORDER: Record<Frequency, number> = { day: 10, week: 6, month: 4, quarter: 1 };
const PER_YEAR: Record<Frequency, number> = { day: 365, week: 52, month: 12, quarter: 4 };
/** Periods over which Prophet's trend variance doubles: about four weeks at daily and weekly frequency. */
const TREND_GROWTH: Record<Frequency, number> = { day: 28, week: 4, month: 3, quarter: 2 };
/** A fixed optimizer seed: the same data give the same fit in every process and thread. */
const SEED = 20_240_101;

/**
 * Prophet (augurs' Rust port with the Stan model compiled to WASM, MAP fit):
 * piecewise-linear trend with changepoints, yearly Fourier seasonality (and
 * weekly for daily data) and the holidays that make sense at the frequency.
 * Prophet's own intervals need posterior sampling, which costs 3x the fit; we
 * use the in-sample residual sd instead, widened with the horizon for trend
 * uncertainty, and the backtest calibration in model-selection.ts.
 */
export function prophet({ y, start, horizon, frequency = 'day', holidays: extra, festivals }: ModelInput): Forecast {
  const { optimizer } = loadAugurs();
  const Prophet = freshProphet();
  const ds = Array.from({ length: y.length }, (_, i) => sec(addPeriods(start, frequency, i)));
  const firstYear = Number(start.slice(0, 4));
  const lastYear = Number(addPeriods(start, frequency, y.length + horizon).slice(0, 4));
  const holidays = holidaysAt(frequency, firstYear, lastYear, festivals !== false, extra);
  const off = { type: 'manual', enabled: false } as const;
  const model = new Prophet({
    optimizer,
    uncertaintySamples: 0,
    nChangepoints: Math.min(10, Math.max(0, Math.floor(y.length / 3))),
    // Changepoints up to near the end, so a recent change of level is followed rather than extrapolated past.
    changepointRange: frequency === 'day' ? 0.95 : 0.9,
    // Prophet turns yearly seasonality off below two years; one year already shows it.
    yearlySeasonality: y.length >= PER_YEAR[frequency] ? { type: 'fourier', order: YEARLY_ORDER[frequency] } : off,
    weeklySeasonality: frequency === 'day' && y.length >= 14 ? { type: 'fourier', order: 3 } : off,
    dailySeasonality: off,
    holidays,
    holidaysPriorScale: 5,
  });
  try {
    model.fit({ ds, y: Float64Array.from(y) }, { seed: SEED });
    const inSample = model.predict().yhat.point;
    const s = sd(y.map((v, i) => v - inSample[i]));
    const futureDs = Array.from({ length: horizon }, (_, i) => sec(addPeriods(start, frequency, y.length + i)));
    const point = model.predict({ ds: futureDs }).yhat.point;
    return normalBands(point, (h) => s * Math.sqrt(1 + h / TREND_GROWTH[frequency]));
  } finally {
    model.free();
  }
}
