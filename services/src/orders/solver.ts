import type { Highs } from 'highs';
import * as highsModule from 'highs';

// highs ships one .d.ts for its ESM and CommonJS builds, which NodeNext reads as CommonJS (so it
// types `default` one level too deep); at runtime Node loads the ESM build, whose default is the loader.
const loadHighs = (highsModule as unknown as { default: () => Promise<Highs> }).default;

/**
 * The dispatch model, independent of storage: order lines (demand) against
 * factories (supply) over a horizon of weeks. `solveDispatch` builds a MIP for
 * HiGHS; `greedyDispatch` is the baseline the benchmark compares it against.
 *
 * Decision x[l,f,w] = units of order line l made by factory f in week w. It is
 * semi-continuous: 0, or between the factory's minimum batch and what the line
 * and the week allow (a batch is one SKU's run, so the minimum applies per
 * line and week). u[l] = units left unallocated, penalised heavily so that it is
 * used only when nothing else is feasible. s[f,w,k] = load of factory-week f,w
 * in segment k of its cost curve (segments get dearer: overtime), so
 * Σ_l x[l,f,w] = Σ_k s[f,w,k] and the segment bounds are the capacity left
 * after what is already committed (open offers and work orders).
 *
 * Objective (minor currency units): production cost from the cost curve
 * + lateness (share of the line's price per week past its due week)
 * + risk (price × (1 − quality score) × weight: expected rework and defects)
 * + a tiny earliness term so near weeks stay free for urgent orders
 * + unallocated units × a penalty larger than any other per-unit cost.
 */

export interface DemandLine {
  readonly id: string;
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  /** Product category the factory must be capable of (any factory if absent). */
  readonly category?: string;
  /** Week index of the due date within the horizon (0 = this week); may be negative (already late). */
  readonly dueWeek: number;
  /** YYYY-MM-DD: certificates must still be valid on this day. */
  readonly dueDate: string;
  readonly unitPriceMinor: number;
  readonly requiredCertificates?: readonly string[];
  readonly materials?: readonly string[];
  readonly processes?: readonly string[];
  /** Factories that may not get this line (declined or let an offer for the order expire). */
  readonly excludedFactories?: readonly string[];
}

export interface CostSegment {
  /** Upper end of the segment as a share of the week's gross capacity (0..1], increasing. */
  readonly upToShare: number;
  readonly unitCostMinor: number;
}

export interface FactorySupply {
  readonly id: string;
  readonly categories: readonly string[];
  readonly materials: readonly string[];
  readonly processes: readonly string[];
  readonly certificates: readonly { readonly name: string; readonly validUntil: string }[];
  /** Gross units per week of lines that may take work (certified devices), per horizon week. */
  readonly capacity: readonly number[];
  /** Units already committed per week (open offers + work orders). */
  readonly committed: readonly number[];
  readonly minBatch: number;
  readonly costCurve: readonly CostSegment[];
  /** 0..1: first-pass yield × (1 − defect rate). */
  readonly qualityScore: number;
}

export interface DispatchWeights {
  /** Share of the unit price charged per unit per week late. */
  readonly latenessPerWeek: number;
  /** Multiplier of price × (1 − quality score). */
  readonly risk: number;
  /** Share of the unit price per unit left unallocated. */
  readonly unallocated: number;
  /** Share of the unit price per unit per week early (tie-breaker). */
  readonly earlinessPerWeek: number;
}

export const DefaultWeights: DispatchWeights = {
  latenessPerWeek: 0.1,
  risk: 1,
  unallocated: 10,
  earlinessPerWeek: 0.001,
};

export interface DispatchProblem {
  readonly weeks: number;
  readonly lines: readonly DemandLine[];
  readonly factories: readonly FactorySupply[];
  readonly weights?: Partial<DispatchWeights>;
}

export interface Allocation {
  readonly lineId: string;
  readonly factoryId: string;
  readonly week: number;
  readonly quantity: number;
}

export type ExclusionReason =
  | 'capability'
  | 'material'
  | 'process'
  | 'certificate'
  | 'min_batch'
  | 'capacity'
  | 'declined';

export interface DispatchResult {
  readonly allocations: Allocation[];
  /** Units per line that no factory could take. */
  readonly unallocated: Record<string, number>;
  /** Objective of the returned plan, evaluated the same way for every method. */
  readonly objective: number;
  /** Best bound on the optimum (MIP dual bound); equals objective for a proven optimum. */
  readonly bound: number;
  readonly status: string;
  readonly millis: number;
  /** Per line, why each factory could not take it. */
  readonly exclusions: Record<string, { factoryId: string; reason: ExclusionReason; detail: string }[]>;
  /** Load per factory-week after the plan (committed + new), for explanations. */
  readonly load: Record<string, number[]>;
}

export interface SolveOptions {
  readonly timeLimitSeconds?: number;
  /** Weeks before its due week a line may be made (default 3): earlier ties up stock and near capacity. */
  readonly maxEarlyWeeks?: number;
  /** Extra HiGHS options (e.g. `{ presolve: 'off' }`), for experiments and the benchmark. */
  readonly highsOptions?: Record<string, string | number | boolean>;
  /** Dive rounds before the plan's shape is frozen (default 3); more rounds, closer to optimal, slower. */
  readonly diveRounds?: number;
}

let highsPromise: Promise<Highs> | undefined;
/** HiGHS loads its WASM once per process. */
export function highs(): Promise<Highs> {
  if (!highsPromise) highsPromise = loadHighs();
  return highsPromise;
}

const weightsOf = (p: DispatchProblem): DispatchWeights => ({ ...DefaultWeights, ...p.weights });

/** Gross capacity of factory-week split into cost segments, net of committed load (which fills the cheapest first). */
function segmentRoom(f: FactorySupply, w: number): { room: number; cost: number }[] {
  const gross = f.capacity[w] ?? 0;
  let committed = f.committed[w] ?? 0;
  let lower = 0;
  const out: { room: number; cost: number }[] = [];
  for (const seg of f.costCurve) {
    const upper = Math.floor(gross * Math.min(1, seg.upToShare));
    let size = Math.max(0, upper - lower);
    const used = Math.min(size, committed);
    committed -= used;
    size -= used;
    out.push({ room: size, cost: seg.unitCostMinor });
    lower = Math.max(lower, upper);
  }
  return out;
}

function freeCapacity(f: FactorySupply, w: number): number {
  return segmentRoom(f, w).reduce((s, r) => s + r.room, 0);
}

/** Per-unit cost of placing line l at factory f in week w, apart from the production cost curve. */
function placementCost(l: DemandLine, f: FactorySupply, w: number, weights: DispatchWeights): number {
  const late = Math.max(0, w - Math.max(l.dueWeek, 0));
  const early = Math.max(0, l.dueWeek - w);
  return (
    l.unitPriceMinor *
    (weights.latenessPerWeek * late + weights.earlinessPerWeek * early + weights.risk * (1 - f.qualityScore))
  );
}

/** Why factory f may not take line l at all, or undefined if it may. */
export function exclusion(
  l: DemandLine,
  f: FactorySupply,
  weeks: number,
): { reason: ExclusionReason; detail: string } | undefined {
  if (l.excludedFactories?.includes(f.id)) return { reason: 'declined', detail: 'declined or let an offer expire' };
  if (l.category !== undefined && !f.categories.includes(l.category))
    return { reason: 'capability', detail: `does not make ${l.category}` };
  const material = l.materials?.find((m) => !f.materials.includes(m));
  if (material) return { reason: 'material', detail: `does not work ${material}` };
  const process = l.processes?.find((p) => !f.processes.includes(p));
  if (process) return { reason: 'process', detail: `lacks process ${process}` };
  for (const name of l.requiredCertificates ?? []) {
    const cert = f.certificates.find((c) => c.name === name && c.validUntil >= l.dueDate);
    if (!cert) {
      const expired = f.certificates.find((c) => c.name === name);
      return {
        reason: 'certificate',
        detail: expired ? `${name} expires ${expired.validUntil}, before ${l.dueDate}` : `no ${name} certificate`,
      };
    }
  }
  if (l.quantity < f.minBatch)
    return { reason: 'min_batch', detail: `minimum batch ${f.minBatch} > ${l.quantity} ordered` };
  let fits = false;
  for (let w = 0; w < weeks && !fits; w++) fits = freeCapacity(f, w) >= f.minBatch;
  if (!fits) return { reason: 'capacity', detail: 'no week with room for a minimum batch' };
  return undefined;
}

function exclusionsOf(p: DispatchProblem) {
  const exclusions: DispatchResult['exclusions'] = {};
  const eligible = new Map<string, FactorySupply[]>();
  for (const l of p.lines) {
    const ok: FactorySupply[] = [];
    const why: DispatchResult['exclusions'][string] = [];
    for (const f of p.factories) {
      const ex = exclusion(l, f, p.weeks);
      if (ex) why.push({ factoryId: f.id, ...ex });
      else ok.push(f);
    }
    exclusions[l.id] = why;
    eligible.set(l.id, ok);
  }
  return { exclusions, eligible };
}

/** Objective of a plan, computed independently of how it was found (so greedy and MIP compare fairly). */
export function evaluatePlan(
  p: DispatchProblem,
  allocations: readonly Allocation[],
): { objective: number; load: Record<string, number[]>; unallocated: Record<string, number> } {
  const weights = weightsOf(p);
  const lines = new Map(p.lines.map((l) => [l.id, l]));
  const factories = new Map(p.factories.map((f) => [f.id, f]));
  const newLoad = new Map<string, number[]>();
  const given = new Map<string, number>();
  let objective = 0;
  for (const a of allocations) {
    const l = lines.get(a.lineId) as DemandLine;
    const f = factories.get(a.factoryId) as FactorySupply;
    objective += a.quantity * placementCost(l, f, a.week, weights);
    const wl = newLoad.get(f.id) ?? new Array<number>(p.weeks).fill(0);
    wl[a.week] = (wl[a.week] ?? 0) + a.quantity;
    newLoad.set(f.id, wl);
    given.set(l.id, (given.get(l.id) ?? 0) + a.quantity);
  }
  const load: Record<string, number[]> = {};
  for (const f of p.factories) {
    const wl = newLoad.get(f.id);
    load[f.id] = Array.from({ length: p.weeks }, (_, w) => (f.committed[w] ?? 0) + (wl?.[w] ?? 0));
    if (!wl) continue;
    for (let w = 0; w < p.weeks; w++) {
      // Fill the week's segments cheapest first: the cost curve is convex, so this is its cost.
      let q = wl[w] ?? 0;
      for (const seg of segmentRoom(f, w)) {
        const take = Math.min(q, seg.room);
        objective += take * seg.cost;
        q -= take;
      }
      if (q > 0) throw new Error(`plan overloads ${f.id} in week ${w} by ${q}`);
    }
  }
  const unallocated: Record<string, number> = {};
  for (const l of p.lines) {
    const left = l.quantity - (given.get(l.id) ?? 0);
    if (left < 0) throw new Error(`plan over-allocates line ${l.id}`);
    unallocated[l.id] = left;
    objective += left * l.unitPriceMinor * weights.unallocated;
  }
  return { objective, load, unallocated };
}

type XCol = { readonly l: number; readonly f: number; readonly w: number; readonly cost: number; readonly ub: number };

const debug = (what: string, data: object) => {
  if (process.env.DISPATCH_DEBUG) console.error(`dispatch solver: ${what}`, data);
};

/**
 * Solves the dispatch problem with HiGHS and keeps a proof of quality:
 *
 * 1. The LP relaxation (minimum batches relaxed to 0 ≤ x ≤ ub), by column
 *    generation: start from each line's columns at its due week, price the rest
 *    with the duals (reduced cost = cost − π_line − π_factoryweek), add the
 *    negative ones, re-solve (HiGHS keeps the basis), until none prices out.
 *    Its optimum is a lower bound on the true optimum (`bound`).
 * 2. Minimum batches by diving: every batch the LP left below the minimum is
 *    either raised to the minimum (if at least half of it, and the line and the
 *    factory-week have room) or closed, then the LP is re-solved with those
 *    bounds; repeat until no batch is too small. Closing is always feasible
 *    (unallocated units absorb it), so the dive ends with a valid plan.
 *
 * `objective − bound` is therefore a true optimality gap, reported by the benchmark.
 * Allocations are whole units and every constraint holds (`evaluatePlan` checks).
 */
export async function solveDispatch(p: DispatchProblem, options: SolveOptions = {}): Promise<DispatchResult> {
  const started = performance.now();
  const h = await highs();
  const weights = weightsOf(p);
  const { exclusions, eligible } = exclusionsOf(p);
  const fIndex = new Map(p.factories.map((f, i) => [f.id, i]));
  const room = p.factories.map((f) => Array.from({ length: p.weeks }, (_, w) => segmentRoom(f, w)));
  const free = room.map((weeks) => weeks.map((segs) => segs.reduce((s, r) => s + r.room, 0)));
  const maxEarly = options.maxEarlyWeeks ?? 3;
  const numLines = p.lines.length;
  const fwRow = (f: number, w: number) => numLines + f * p.weeks + w;

  // Candidate x columns, and the initial set: each eligible factory at the line's due week (or the nearest with room).
  const candidates: XCol[] = [];
  const initial: number[] = [];
  p.lines.forEach((l, li) => {
    for (const f of eligible.get(l.id) ?? []) {
      const fi = fIndex.get(f.id) as number;
      let best = -1;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let w = Math.max(0, l.dueWeek - maxEarly); w < p.weeks; w++) {
        const ub = Math.min(l.quantity, free[fi]?.[w] ?? 0);
        if (ub <= 0 || ub < f.minBatch) continue;
        const distance = Math.abs(w - Math.max(0, l.dueWeek));
        if (distance < bestDistance) {
          bestDistance = distance;
          best = candidates.length;
        }
        candidates.push({ l: li, f: fi, w, ub, cost: placementCost(l, f, w, weights) });
      }
      if (best >= 0) initial.push(best);
    }
  });

  // Base model: u per line, s per factory-week segment with room, then x columns appended.
  const sCols: { row: number; room: number; cost: number }[] = [];
  room.forEach((weeks, fi) => {
    weeks.forEach((segs, w) => {
      for (const seg of segs) if (seg.room > 0) sCols.push({ row: fwRow(fi, w), room: seg.room, cost: seg.cost });
    });
  });
  const numRows = numLines + p.factories.length * p.weeks;
  const base = numLines + sCols.length;
  const rowBounds = Float64Array.from({ length: numRows }, (_, r) => (r < numLines ? (p.lines[r]?.quantity ?? 0) : 0));
  const model = h.createModel({
    numCols: base,
    numRows,
    colCost: Float64Array.from([
      ...p.lines.map((l) => l.unitPriceMinor * weights.unallocated),
      ...sCols.map((c) => c.cost),
    ]),
    colLower: new Float64Array(base),
    colUpper: Float64Array.from([...p.lines.map((l) => l.quantity), ...sCols.map((c) => c.room)]),
    rowLower: rowBounds,
    rowUpper: rowBounds,
    matrix: {
      format: 'csc',
      numRows,
      numCols: base,
      starts: Int32Array.from({ length: base + 1 }, (_, j) => j),
      indices: Int32Array.from([...p.lines.map((_, li) => li), ...sCols.map((c) => c.row)]),
      values: Float64Array.from([...p.lines.map(() => 1), ...sCols.map(() => -1)]),
    },
  });
  const inModel: number[] = []; // model column base + i → candidates[inModel[i]]
  const added = new Uint8Array(candidates.length);
  const addColumns = (ids: readonly number[]) => {
    if (ids.length === 0) return;
    const count = ids.length;
    const indices = new Int32Array(2 * count);
    ids.forEach((id, i) => {
      const c = candidates[id] as XCol;
      indices[2 * i] = c.l;
      indices[2 * i + 1] = fwRow(c.f, c.w);
      added[id] = 1;
      inModel.push(id);
    });
    model.addCols({
      cost: Float64Array.from(ids, (id) => (candidates[id] as XCol).cost),
      lower: new Float64Array(count),
      upper: Float64Array.from(ids, (id) => (candidates[id] as XCol).ub),
      matrix: {
        format: 'csc',
        numRows,
        numCols: count,
        starts: Int32Array.from({ length: count + 1 }, (_, i) => 2 * i),
        indices,
        values: new Float64Array(2 * count).fill(1),
      },
    } as never);
  };
  const timeLimit = options.timeLimitSeconds ?? 30;
  const solve = () => {
    model.options.set({ time_limit: Math.max(0.1, timeLimit - (performance.now() - started) / 1000) } as never);
    model.run();
    const code = model.getModelStatus();
    if (code !== h.constants.modelStatus.optimal) {
      const status = Object.entries(h.constants.modelStatus).find(([, v]) => v === code)?.[0] ?? String(code);
      throw new Error(`dispatch LP ended with status ${status}`);
    }
    return model.getSolution();
  };

  try {
    model.options.set({ output_flag: false, ...options.highsOptions } as never);
    addColumns(initial);
    let solution = solve();
    for (let round = 0; ; round++) {
      const y = solution.rowDual;
      const entering: number[] = [];
      candidates.forEach((c, id) => {
        if (added[id]) return;
        const rc = c.cost - (y[c.l] as number) - (y[fwRow(c.f, c.w)] as number);
        if (rc < -1e-7 * Math.max(1, Math.abs(c.cost))) entering.push(id);
      });
      debug('pricing', {
        ms: Math.round(performance.now() - started),
        round,
        columns: inModel.length,
        entering: entering.length,
        objective: model.getObjectiveValue(),
      });
      if (entering.length === 0) break;
      addColumns(entering);
      solution = solve();
    }
    const bound = model.getObjectiveValue();

    // Dive on minimum batches.
    const minBatch = (id: number) => p.factories[(candidates[id] as XCol).f]?.minBatch ?? 0;
    const fixed = new Uint8Array(inModel.length);
    const lineForced = new Float64Array(numLines);
    const fwForced = free.map((weeks) => weeks.map(() => 0));
    const isSmall = (i: number, x: ArrayLike<number>) => {
      const v = x[base + i] as number;
      return v > 1e-6 && v < minBatch(inModel[i] as number) - 1e-6;
    };
    let status = 'optimal';
    for (let round = 0; ; round++) {
      const x = solution.colValue;
      const changes: { j: number; lower: number; upper: number }[] = [];
      // After a few rounds, settle every batch in use: those at or above the minimum stay open (at least a
      // minimum batch), too-small ones are raised where there is room, else closed. Only unused columns stay
      // free, each round settles at least one column, so the dive ends, usually a round or two later.
      const freeze = round >= (options.diveRounds ?? 3);
      // Open batches are settled before any too-small one is raised, so a raise sees the room they hold.
      const order = inModel.map((_, i) => i);
      if (freeze) order.sort((a, b) => Number(isSmall(a, x)) - Number(isSmall(b, x)));
      for (const i of order) {
        if (fixed[i]) continue;
        const id = inModel[i] as number;
        const v = x[base + i] as number;
        const mb = minBatch(id);
        const c = candidates[id] as XCol;
        const small = isSmall(i, x);
        if (!small && (!freeze || v <= 1e-6)) continue;
        fixed[i] = 1;
        if (!small) {
          if (mb > 0) {
            lineForced[c.l] = (lineForced[c.l] as number) + mb;
            (fwForced[c.f] as number[])[c.w] = (fwForced[c.f]?.[c.w] ?? 0) + mb;
            changes.push({ j: base + i, lower: mb, upper: c.ub });
          }
          continue;
        }
        const fwLeft = (free[c.f]?.[c.w] ?? 0) - (fwForced[c.f]?.[c.w] ?? 0);
        const lineLeft = (p.lines[c.l]?.quantity ?? 0) - (lineForced[c.l] as number);
        if ((freeze || v >= mb / 2) && fwLeft >= mb && lineLeft >= mb) {
          lineForced[c.l] = (lineForced[c.l] as number) + mb;
          (fwForced[c.f] as number[])[c.w] = (fwForced[c.f]?.[c.w] ?? 0) + mb;
          changes.push({ j: base + i, lower: mb, upper: c.ub });
        } else changes.push({ j: base + i, lower: 0, upper: 0 });
      }
      debug('dive', {
        ms: Math.round(performance.now() - started),
        round,
        changes: changes.length,
        objective: model.getObjectiveValue(),
      });
      if (changes.length === 0) break;
      status = 'within-bound'; // no longer a proven optimum: `bound` says how close
      for (const ch of changes) model.changeColBounds(ch.j, ch.lower, ch.upper);
      solution = solve();
    }
    const values = solution.colValue.subarray(base);
    const cols = inModel.map((id) => candidates[id] as XCol);
    const allocations = roundPlan(p, cols, values, free);
    const evaluated = evaluatePlan(p, allocations);
    return {
      allocations,
      unallocated: evaluated.unallocated,
      objective: evaluated.objective,
      bound: Math.min(bound, evaluated.objective),
      status,
      millis: performance.now() - started,
      exclusions,
      load: evaluated.load,
    };
  } finally {
    model.dispose();
  }
}

/**
 * Whole units from the solver's values. Vertex solutions of this model are
 * integral almost always; where one is not, each value is floored and the
 * line's leftover units go to its existing allocations with free room, so
 * capacity and minimum batches still hold.
 */
function roundPlan(
  p: DispatchProblem,
  xCols: readonly XCol[],
  colValue: ArrayLike<number>,
  free: number[][],
): Allocation[] {
  const used = free.map((weeks) => weeks.map(() => 0));
  const byLine = new Map<number, { f: number; w: number; q: number; frac: number }[]>();
  xCols.forEach((c, j) => {
    const v = colValue[j] ?? 0;
    if (v < 0.5) return;
    const q = Math.floor(v + 1e-6);
    const list = byLine.get(c.l) ?? [];
    list.push({ f: c.f, w: c.w, q, frac: v - q });
    byLine.set(c.l, list);
    (used[c.f] as number[])[c.w] = (used[c.f]?.[c.w] ?? 0) + q;
  });
  const out: Allocation[] = [];
  for (const [li, list] of byLine) {
    const line = p.lines[li] as DemandLine;
    let given = list.reduce((s, a) => s + a.q, 0);
    let leftover = Math.round(list.reduce((s, a) => s + a.frac, 0));
    list.sort((a, b) => b.frac - a.frac);
    for (const a of list) {
      if (leftover <= 0 || given >= line.quantity) break;
      if ((used[a.f]?.[a.w] ?? 0) < (free[a.f]?.[a.w] ?? 0)) {
        a.q += 1;
        (used[a.f] as number[])[a.w] = (used[a.f]?.[a.w] ?? 0) + 1;
        leftover -= 1;
        given += 1;
      }
    }
    for (const a of list) {
      if (a.q <= 0) continue;
      const f = p.factories[a.f] as FactorySupply;
      out.push({ lineId: line.id, factoryId: f.id, week: a.w, quantity: a.q });
    }
  }
  return out;
}

/**
 * The baseline: lines in due-date order, each placed at the cheapest
 * (cost + risk + lateness) factory-week with room for at least a minimum batch,
 * as much as fits, then the next cheapest, until the line is placed.
 */
export function greedyDispatch(p: DispatchProblem): DispatchResult {
  const started = performance.now();
  const weights = weightsOf(p);
  const { exclusions, eligible } = exclusionsOf(p);
  const fIndex = new Map(p.factories.map((f, i) => [f.id, i]));
  const rooms = p.factories.map((f) => Array.from({ length: p.weeks }, (_, w) => segmentRoom(f, w)));
  const allocations: Allocation[] = [];
  const order = [...p.lines].sort((a, b) => a.dueWeek - b.dueWeek || b.unitPriceMinor - a.unitPriceMinor);
  for (const l of order) {
    let left = l.quantity;
    while (left > 0) {
      let best: { f: FactorySupply; fi: number; w: number; unit: number; fits: number } | undefined;
      for (const f of eligible.get(l.id) ?? []) {
        const fi = fIndex.get(f.id) as number;
        for (let w = 0; w < p.weeks; w++) {
          const segs = rooms[fi]?.[w] ?? [];
          const fits = Math.min(
            left,
            segs.reduce((s, r) => s + r.room, 0),
          );
          if (fits < f.minBatch || fits <= 0) continue;
          const first = segs.find((s) => s.room > 0);
          const unit = (first?.cost ?? 0) + placementCost(l, f, w, weights);
          if (!best || unit < best.unit) best = { f, fi, w, unit, fits };
        }
      }
      if (!best) break;
      let q = best.fits;
      for (const seg of rooms[best.fi]?.[best.w] ?? []) {
        const take = Math.min(q, seg.room);
        seg.room -= take;
        q -= take;
      }
      allocations.push({ lineId: l.id, factoryId: best.f.id, week: best.w, quantity: best.fits });
      left -= best.fits;
    }
  }
  const evaluated = evaluatePlan(p, allocations);
  return {
    allocations,
    unallocated: evaluated.unallocated,
    objective: evaluated.objective,
    bound: Number.NaN,
    status: 'greedy',
    millis: performance.now() - started,
    exclusions,
    load: evaluated.load,
  };
}
