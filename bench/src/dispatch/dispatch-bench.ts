/**
 * Dispatch solver against the greedy baseline on the same generated instances:
 * N open order lines over 50 factories and 8 weeks (seeded, so every run sees
 * the same problems). Reports time, objective, the solver's gap to its proven
 * bound (how far from optimal at most) and greedy's gap to that bound.
 *
 *   node bench/dist/src/dispatch/dispatch-bench.js [--lines 100,1000,5000] [--factories 50] [--weeks 8]
 *                                                  [--seed 1] [--repeat 3] [--json]
 *
 * Each case is solved `repeat` times after one warm-up solve (JIT, WASM memory); times are the median and
 * the fastest run, because the shared machine's load moves single runs by several times.
 */
import { parseArgs } from 'node:util';
import {
  type DemandLine,
  type DispatchProblem,
  type FactorySupply,
  greedyDispatch,
  highs,
  solveDispatch,
} from '@c2m/services';

const CATEGORIES = ['socks', 'knitwear', 'tshirts', 'bearings', 'moulded-parts', 'small-appliances'] as const;
const MATERIALS = ['cotton', 'merino', 'nylon', 'polyester', 'steel', 'abs', 'pp'] as const;
const CERTS = ['ISO 9001', 'OEKO-TEX 100', 'BSCI', 'CCC'] as const;

/** Mulberry32: small, seeded, good enough for test data. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateProblem(lines: number, factories: number, weeks: number, seed: number): DispatchProblem {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const some = <T>(xs: readonly T[], p: number) => xs.filter(() => r() < p);
  const day = (offsetDays: number) =>
    new Date(Date.UTC(2027, 2, 1) + offsetDays * 86400_000).toISOString().slice(0, 10);
  const demandPerCategory = new Map<string, number>();
  const demand: DemandLine[] = Array.from({ length: lines }, (_, i) => {
    const category = pick(CATEGORIES);
    const quantity = 200 + Math.floor(r() * 30) * 100;
    demandPerCategory.set(category, (demandPerCategory.get(category) ?? 0) + quantity);
    const dueWeek = 1 + Math.floor(r() * (weeks - 1));
    return {
      id: `L${i}`,
      orderId: `O${Math.floor(i / 4)}`,
      sku: `SKU-${i}`,
      quantity,
      category,
      dueWeek,
      dueDate: day(dueWeek * 7 + 6),
      unitPriceMinor: 500 + Math.floor(r() * 3000),
      requiredCertificates: r() < 0.4 ? [pick(CERTS)] : [],
      materials: r() < 0.5 ? [pick(MATERIALS)] : [],
    };
  });
  // Total capacity about 1.3× demand: tight enough that capacity binds in busy weeks, loose enough to be feasible.
  const totalDemand = demand.reduce((s, l) => s + l.quantity, 0);
  const perFactoryWeek = Math.ceil((1.3 * totalDemand) / (factories * weeks * 0.45));
  const supply: FactorySupply[] = Array.from({ length: factories }, (_, i) => {
    const base = 400 + Math.floor(r() * 1200);
    const weekly = Math.round(perFactoryWeek * (0.5 + r()));
    const springFestival = Math.floor(r() * weeks);
    return {
      id: `F${String(i).padStart(2, '0')}`,
      categories: [pick(CATEGORIES), pick(CATEGORIES), ...some(CATEGORIES, 0.15)],
      materials: some(MATERIALS, 0.7),
      processes: [],
      certificates: some(CERTS, 0.6).map((name) => ({ name, validUntil: day(Math.floor(r() * 120)) })),
      capacity: Array.from({ length: weeks }, (_, w) => (w === springFestival && r() < 0.3 ? 0 : weekly)),
      committed: Array.from({ length: weeks }, () => (r() < 0.3 ? Math.floor(weekly * r() * 0.5) : 0)),
      minBatch: pick([0, 100, 200, 300, 500]),
      costCurve: [
        { upToShare: 0.8, unitCostMinor: base },
        { upToShare: 1, unitCostMinor: Math.round(base * 1.3) },
      ],
      qualityScore: 0.9 + r() * 0.099,
    };
  });
  return { weeks, lines: demand, factories: supply };
}

interface Row {
  lines: number;
  solverMs: number;
  solverMinMs: number;
  solverObjective: number;
  bound: number;
  solverGapPct: number;
  status: string;
  greedyMs: number;
  greedyObjective: number;
  greedyGapPct: number;
}

async function main() {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '100,1000,5000' },
      factories: { type: 'string', default: '50' },
      weeks: { type: 'string', default: '8' },
      seed: { type: 'string', default: '1' },
      repeat: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
  });
  await highs(); // WASM load is once per process, not part of a solve.
  await solveDispatch(generateProblem(200, Number(values.factories), Number(values.weeks), 99));
  const repeat = Math.max(1, Number(values.repeat));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const rows: Row[] = [];
  for (const n of values.lines.split(',').map(Number)) {
    const problem = generateProblem(n, Number(values.factories), Number(values.weeks), Number(values.seed));
    const greedyTimes: number[] = [];
    const solverTimes: number[] = [];
    let greedy = greedyDispatch(problem);
    let solved = await solveDispatch(problem, { timeLimitSeconds: 60 });
    for (let i = 0; i < repeat; i++) {
      greedy = greedyDispatch(problem);
      greedyTimes.push(greedy.millis);
      solved = await solveDispatch(problem, { timeLimitSeconds: 60 });
      solverTimes.push(solved.millis);
    }
    const gap = (v: number) => (100 * (v - solved.bound)) / Math.max(1, Math.abs(solved.bound));
    rows.push({
      lines: n,
      solverMs: Math.round(median(solverTimes)),
      solverMinMs: Math.round(Math.min(...solverTimes)),
      solverObjective: Math.round(solved.objective),
      bound: Math.round(solved.bound),
      solverGapPct: Number(gap(solved.objective).toFixed(3)),
      status: solved.status,
      greedyMs: Math.round(median(greedyTimes)),
      greedyObjective: Math.round(greedy.objective),
      greedyGapPct: Number(gap(greedy.objective).toFixed(2)),
    });
  }
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else {
    console.log(
      '| lines | solver ms (median / min) | solver objective | LP bound | solver gap % | status | greedy ms | greedy objective | greedy gap % |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      console.log(
        `| ${r.lines} | ${r.solverMs} / ${r.solverMinMs} | ${r.solverObjective} | ${r.bound} | ${r.solverGapPct} | ${r.status} | ${r.greedyMs} | ${r.greedyObjective} | ${r.greedyGapPct} |`,
      );
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
