import { createRequire } from 'node:module';

// lunar-javascript ships no types; this is the one call we use.
interface LunarModule {
  Lunar: { fromYmd(y: number, m: number, d: number): { getSolar(): { toYmd(): string } } };
}
const { Lunar } = createRequire(import.meta.url)('lunar-javascript') as LunarModule;

/** Festivals that move demand in Chinese e-commerce, and the days around each that they touch. */
export const Festivals = {
  /** Spring Festival (lunar new year): shoppers stock up before it; logistics and factories stop for about a week after. */
  springFestival: { name: 'spring_festival', before: 10, after: 7 },
  /** 618 (JD's anniversary sale): pre-sales from early June, peak on 18 June. */
  s618: { name: '618', before: 3, after: 0 },
  /** Double 11 (Singles' Day), the largest sale of the year, with pre-sales the days before. */
  double11: { name: 'double_11', before: 3, after: 0 },
  /** Double 12, a smaller echo of Double 11. */
  double12: { name: 'double_12', before: 1, after: 0 },
} as const;

export interface FestivalOccurrence {
  readonly name: string;
  /** The festival day itself, YYYY-MM-DD. */
  readonly day: string;
  /** First and last day of its window (inclusive), YYYY-MM-DD. */
  readonly from: string;
  readonly to: string;
}

const DAY_MS = 86_400_000;
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const ms = (day: string) => Date.parse(`${day}T00:00:00Z`);

/** Spring Festival's Gregorian date: the first day of the first lunar month, from the lunar calendar. */
export function springFestival(year: number): string {
  return Lunar.fromYmd(year, 1, 1).getSolar().toYmd();
}

/** Every festival occurrence in the given years, with its window. */
export function festivalCalendar(fromYear: number, toYear: number): FestivalOccurrence[] {
  const out: FestivalOccurrence[] = [];
  const add = (f: { name: string; before: number; after: number }, day: string) =>
    out.push({ name: f.name, day, from: ymd(ms(day) - f.before * DAY_MS), to: ymd(ms(day) + f.after * DAY_MS) });
  for (let y = fromYear; y <= toYear; y++) {
    add(Festivals.springFestival, springFestival(y));
    add(Festivals.s618, `${y}-06-18`);
    add(Festivals.double11, `${y}-11-11`);
    add(Festivals.double12, `${y}-12-12`);
  }
  return out.sort((a, b) => a.day.localeCompare(b.day));
}

/**
 * The festivals as Prophet holidays: per festival, the day itself, the days
 * before (pre-sales, stocking up) and the days after (the Spring Festival lull)
 * are separate holidays, so the model learns a ramp and a lull rather than one
 * average lift. Finer (one holiday per day offset) costs 2x the fit time for
 * no measurable gain on the benchmark.
 */
export function prophetHolidays(
  fromYear: number,
  toYear: number,
): Map<string, { occurrences: { start: number; end: number }[]; priorScale?: number }> {
  const holidays = new Map<string, { occurrences: { start: number; end: number }[] }>();
  const add = (key: string, from: number, to: number) => {
    if (to < from) return;
    const entry = holidays.get(key) ?? { occurrences: [] };
    entry.occurrences.push({ start: from / 1000, end: (to + DAY_MS) / 1000 });
    holidays.set(key, entry);
  };
  for (const occ of festivalCalendar(fromYear, toYear)) {
    const day = ms(occ.day);
    add(`${occ.name}_before`, ms(occ.from), day - DAY_MS);
    add(occ.name, day, day);
    add(`${occ.name}_after`, day + DAY_MS, ms(occ.to));
  }
  return holidays;
}
