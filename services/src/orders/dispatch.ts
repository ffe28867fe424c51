import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '../db/database.js';
import { newId } from '../ids.js';
import { QueueNames } from '../queues.js';
import type { OfferExplanation } from './explanation.js';
import { type FactoriesService, type FactoryProfile, isoDay, weeklyCapacity, weekStart } from './factories-service.js';
import { type OrderLine, OrderStatuses, type OrdersService } from './orders-service.js';
import { type Allocation, type DemandLine, type DispatchResult, type FactorySupply, solveDispatch } from './solver.js';

export interface DispatchDeps {
  readonly pool: pg.Pool;
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly logger: Logger;
  readonly offerTtlMs: number;
  /** MSP ids of the factories in the consortium. */
  readonly factories: () => readonly string[];
  readonly orders: () => OrdersService;
  readonly factoryProfiles: FactoriesService;
  readonly horizonWeeks: number;
}

type DispatchJob = { orderId: string } | { offerId: string };

/** Order statuses in which unallocated quantity is (re)dispatched. */
const DISPATCHABLE: readonly string[] = [
  OrderStatuses.posted,
  OrderStatuses.dispatching,
  OrderStatuses.offered,
  OrderStatuses.partlyAccepted,
];

const DAY_MS = 86_400_000;
export const lineKey = (l: Pick<OrderLine, 'sku' | 'colour' | 'size'>) => `${l.sku}|${l.colour ?? ''}|${l.size ?? ''}`;

export interface PlannedOffer {
  factoryMspId: string;
  quantity: number;
  lines: OrderLine[];
  schedule: { week: string; sku: string; colour?: string; size?: string; quantity: number }[];
  explanation: OfferExplanation;
}

/**
 * Dispatch as BullMQ jobs: `dispatch` splits an order's unallocated quantity
 * over factories and weeks with the solver and sends one offer per factory;
 * `offer-timeout` (delayed) expires an unanswered offer and re-dispatches the
 * remainder. Declines re-dispatch too. Capacity is reserved per factory-week in
 * the transaction that inserts the offers, under a per-factory advisory lock,
 * so concurrent dispatches (in this process or another) never double-book it.
 */
export function createDispatcher(deps: DispatchDeps) {
  const queue = new Queue<DispatchJob>(QueueNames.dispatch, {
    connection: deps.connection,
    prefix: deps.prefix,
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: 1000 },
  });
  let worker: Worker<DispatchJob> | undefined;

  async function dispatch(orderId: string): Promise<{ id: string; expiresAt: Date }[]> {
    const offers = await withTransaction(deps.pool, async (client) => {
      const { rows } = await client.query('SELECT * FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
      const order = rows[0];
      if (!order || !DISPATCHABLE.includes(order.status)) return [];
      const { rows: allocated } = await client.query(
        `SELECT lines FROM offers WHERE order_id = $1 AND status IN ('open','accepted')`,
        [orderId],
      );
      const taken = new Map<string, number>();
      for (const r of allocated)
        for (const l of r.lines as OrderLine[]) taken.set(lineKey(l), (taken.get(lineKey(l)) ?? 0) + l.quantity);
      const open = (order.lines as OrderLine[])
        .map((l) => ({ ...l, quantity: l.quantity - (taken.get(lineKey(l)) ?? 0) }))
        .filter((l) => l.quantity > 0);
      if (open.length === 0) return [];
      const { rows: refused } = await client.query(
        `SELECT DISTINCT factory_msp FROM offers WHERE order_id = $1 AND status IN ('declined','expired')`,
        [orderId],
      );
      const excluded = refused.map((r) => r.factory_msp as string);
      const factories = [...deps.factories()].sort();
      // Lock order is fixed (sorted ids), so two dispatches never wait on each other in a cycle.
      for (const f of factories) {
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('c2m-capacity'), hashtext($1))`, [f]);
      }
      const plan = await planOrder(client, order, open, factories, excluded);
      const created: { id: string; expiresAt: Date }[] = [];
      const expiresAt = new Date(Date.now() + deps.offerTtlMs);
      const unitPrice = Math.round(Number(order.target_price_minor));
      for (const o of plan.offers) {
        const id = newId('OFR');
        await client.query(
          `INSERT INTO offers (id, order_id, factory_msp, quantity, lines, price_minor, due_date, status, expires_at,
             schedule, explanation)
           VALUES ($1,$2,$3,$4,$5,$6,$7,'open',$8,$9,$10)`,
          [
            id,
            orderId,
            o.factoryMspId,
            o.quantity,
            JSON.stringify(o.lines),
            unitPrice,
            order.due_date,
            expiresAt,
            JSON.stringify(o.schedule),
            JSON.stringify(o.explanation),
          ],
        );
        const perWeek = new Map<string, number>();
        for (const s of o.schedule) perWeek.set(s.week, (perWeek.get(s.week) ?? 0) + s.quantity);
        for (const [week, quantity] of perWeek) {
          await client.query(
            'INSERT INTO capacity_reservations (offer_id, factory_msp, week, quantity) VALUES ($1,$2,$3,$4)',
            [id, o.factoryMspId, week, quantity],
          );
        }
        created.push({ id, expiresAt });
      }
      const unallocated = Object.values(plan.result?.unallocated ?? {}).reduce((s, n) => s + n, 0);
      if (created.length > 0) {
        await client.query(
          `UPDATE orders SET status = CASE WHEN status = 'partly_accepted' THEN status ELSE 'offered' END,
             updated_at = now() WHERE id = $1`,
          [orderId],
        );
        await client.query(
          `INSERT INTO order_events (order_id, actor, action, data) VALUES ($1, 'platform', 'offered', $2)`,
          [
            orderId,
            JSON.stringify({
              offers: plan.offers.map((o, i) => ({
                offerId: created[i]?.id,
                factory: o.factoryMspId,
                quantity: o.quantity,
              })),
              unallocated,
            }),
          ],
        );
      }
      if (unallocated > 0 || plan.offers.length === 0) {
        if (created.length === 0) {
          await client.query(
            `UPDATE orders SET status = CASE WHEN status IN ('posted','offered') THEN 'dispatching' ELSE status END,
               updated_at = now() WHERE id = $1`,
            [orderId],
          );
        }
        await client.query(
          `INSERT INTO order_events (order_id, actor, action, data) VALUES ($1, 'platform', 'no_factory_available', $2)`,
          [orderId, JSON.stringify({ remaining: unallocated || open.reduce((s, l) => s + l.quantity, 0) })],
        );
      }
      return created;
    });
    for (const offer of offers) {
      await queue.add(
        'offer-timeout',
        { offerId: offer.id },
        { jobId: `offer-timeout-${offer.id}`, delay: Math.max(0, offer.expiresAt.getTime() - Date.now()) },
      );
    }
    if (offers.length > 0) deps.logger.info({ orderId, offers: offers.map((o) => o.id) }, 'offers sent');
    return offers;
  }

  /** Builds the solver's problem for one order's open lines and turns its answer into offers with explanations. */
  async function planOrder(
    client: pg.PoolClient,
    order: Record<string, unknown>,
    open: OrderLine[],
    factories: readonly string[],
    excluded: readonly string[],
  ): Promise<{ offers: PlannedOffer[]; result?: DispatchResult }> {
    const start = weekStart(new Date());
    const weeks = deps.horizonWeeks;
    const weekOf = (w: number) => isoDay(new Date(start.getTime() + w * 7 * DAY_MS));
    const profiles = await deps.factoryProfiles.loadProfiles(factories, client);
    const quality = await deps.factoryProfiles.qualityScores(factories, client);
    const certified = await deps.factoryProfiles.certifiedLines(factories, client);
    const { rows: committedRows } = await client.query(
      `SELECT r.factory_msp, r.week, SUM(r.quantity)::int AS quantity
       FROM capacity_reservations r JOIN offers o ON o.id = r.offer_id
       WHERE o.status IN ('open','accepted') AND r.factory_msp = ANY($1) AND r.week >= $2
       GROUP BY r.factory_msp, r.week`,
      [factories, isoDay(start)],
    );
    const alternatives: OfferExplanation['alternatives'] = [];
    const supply: FactorySupply[] = [];
    const profileOf = new Map<string, FactoryProfile>();
    for (const msp of factories) {
      const entry = profiles.get(msp);
      if (!entry) {
        alternatives.push({ factoryMspId: msp, reason: 'no_profile', detail: 'has no factory profile' });
        continue;
      }
      const profile = entry.profile;
      profileOf.set(msp, profile);
      // Only a line with a certified device counts: its production can be verified, which brands and financiers
      // rely on.
      const lines = profile.lines.filter((l) => (certified.get(msp)?.get(l.id) ?? 0) > 0).map((l) => l.id);
      if (lines.length === 0) {
        alternatives.push({ factoryMspId: msp, reason: 'devices', detail: 'no line with a certified device' });
        continue;
      }
      const committed = new Array<number>(weeks).fill(0);
      for (const r of committedRows) {
        if (r.factory_msp !== msp) continue;
        const w = Math.round((new Date(r.week).getTime() - start.getTime()) / (7 * DAY_MS));
        if (w >= 0 && w < weeks) committed[w] = (committed[w] ?? 0) + r.quantity;
      }
      supply.push({
        id: msp,
        categories: profile.capabilities.categories,
        materials: profile.capabilities.materials,
        processes: profile.capabilities.processes,
        certificates: profile.certificates,
        capacity: weeklyCapacity(profile, lines, start, weeks),
        committed,
        minBatch: profile.minBatch,
        costCurve: profile.costCurve,
        qualityScore: quality.get(msp)?.score ?? 0,
      });
    }
    const spec = (order.spec ?? {}) as {
      category?: string;
      materials?: string[];
      processes?: string[];
      requiredCertificates?: string[];
    };
    const dueDate = order.due_date instanceof Date ? isoDay(order.due_date) : String(order.due_date);
    // Work planned in week w is done by that week's Sunday: on time if the Sunday is not after the due date.
    const dueWeek = Math.floor((Date.parse(`${dueDate}T00:00:00Z`) - start.getTime() - 6 * DAY_MS) / (7 * DAY_MS));
    const demand: DemandLine[] = open.map((l) => ({
      id: lineKey(l),
      orderId: order.id as string,
      sku: l.sku,
      quantity: l.quantity,
      category: spec.category,
      dueWeek: Math.min(dueWeek, weeks - 1),
      dueDate,
      unitPriceMinor: Number(order.target_price_minor),
      requiredCertificates: spec.requiredCertificates ?? [],
      materials: spec.materials ?? [],
      processes: spec.processes ?? [],
      excludedFactories: excluded,
    }));
    if (supply.length === 0) return { offers: [] };
    const result = await solveDispatch({ weeks, lines: demand, factories: supply }, { timeLimitSeconds: 10 });
    for (const l of demand)
      for (const ex of result.exclusions[l.id] ?? []) {
        if (!alternatives.some((a) => a.factoryMspId === ex.factoryId && a.reason === ex.reason))
          alternatives.push({ factoryMspId: ex.factoryId, reason: ex.reason, detail: ex.detail });
      }

    const byFactory = new Map<string, Allocation[]>();
    for (const a of result.allocations) byFactory.set(a.factoryId, [...(byFactory.get(a.factoryId) ?? []), a]);
    const lineByKey = new Map(open.map((l) => [lineKey(l), l]));
    const price = Number(order.target_price_minor);
    const unitOf = (f: FactorySupply) => (f.costCurve[0]?.unitCostMinor ?? 0) + price * (1 - f.qualityScore);
    const eligible = supply.filter((f) => !alternatives.some((a) => a.factoryMspId === f.id));
    const offers: PlannedOffer[] = [];
    for (const [msp, allocs] of byFactory) {
      const f = supply.find((s) => s.id === msp) as FactorySupply;
      const perLine = new Map<string, number>();
      for (const a of allocs) perLine.set(a.lineId, (perLine.get(a.lineId) ?? 0) + a.quantity);
      const lines = [...perLine].map(([key, quantity]) => ({ ...(lineByKey.get(key) as OrderLine), quantity }));
      const schedule = allocs.map((a) => {
        const l = lineByKey.get(a.lineId) as OrderLine;
        return {
          week: weekOf(a.week),
          sku: l.sku,
          ...(l.colour ? { colour: l.colour } : {}),
          ...(l.size ? { size: l.size } : {}),
          quantity: a.quantity,
        };
      });
      const perWeek = new Map<number, number>();
      for (const a of allocs) perWeek.set(a.week, (perWeek.get(a.week) ?? 0) + a.quantity);
      const binding: OfferExplanation['binding'] = [];
      const load = result.load[msp] ?? [];
      for (const [w] of perWeek) {
        if ((load[w] ?? 0) >= (f.capacity[w] ?? 0))
          binding.push({
            constraint: 'capacity',
            detail: `week of ${weekOf(w)} is full: ${load[w]} of ${f.capacity[w]} units`,
          });
      }
      const cheaper = eligible.filter((g) => g.id !== msp && unitOf(g) < unitOf(f));
      for (const g of cheaper) {
        const full = [...perWeek.keys()].filter((w) => (result.load[g.id]?.[w] ?? 0) >= (g.capacity[w] ?? 0));
        if (full.length > 0)
          binding.push({
            constraint: 'capacity',
            detail: `${g.id} is cheaper but full in the week(s) of ${full.map(weekOf).join(', ')}`,
          });
      }
      if (allocs.some((a) => a.quantity === f.minBatch))
        binding.push({ constraint: 'min_batch', detail: `a batch sits at the minimum of ${f.minBatch} units` });
      if (alternatives.some((a) => a.reason === 'min_batch'))
        binding.push({ constraint: 'min_batch', detail: 'another factory’s minimum batch exceeds a line' });
      const late = allocs.filter((a) => a.week > dueWeek);
      if (late.length > 0)
        binding.push({
          constraint: 'due_date',
          detail: `${late.reduce((s, a) => s + a.quantity, 0)} units finish after the due date ${dueDate}`,
        });
      else if (dueWeek < weeks && allocs.every((a) => a.week >= dueWeek - 3))
        binding.push({ constraint: 'due_date', detail: `scheduled in the weeks up to the due date ${dueDate}` });
      if ((spec.requiredCertificates ?? []).length > 0) {
        const held = f.certificates
          .filter((c) => spec.requiredCertificates?.includes(c.name))
          .map((c) => `${c.name} valid until ${c.validUntil}`);
        const lost = alternatives
          .filter((a) => a.reason === 'certificate')
          .map((a) => `${a.factoryMspId}: ${a.detail}`);
        binding.push({
          constraint: 'certificate',
          detail: [`holds ${held.join(', ')}`, ...lost].join('; '),
        });
      }
      const cheapest = eligible.every((g) => unitOf(g) >= unitOf(f));
      const q = quality.get(msp);
      const why = cheapest
        ? `lowest cost and quality risk of ${eligible.length} eligible factor${eligible.length === 1 ? 'y' : 'ies'}`
        : `next best on cost and quality risk: ${cheaper.map((g) => g.id).join(', ')} could not take all of it`;
      offers.push({
        factoryMspId: msp,
        quantity: allocs.reduce((s, a) => s + a.quantity, 0),
        lines,
        schedule,
        explanation: {
          solver: {
            status: result.status,
            objectiveMinor: Math.round(result.objective),
            boundMinor: Math.round(result.bound),
            millis: Math.round(result.millis),
          },
          factory: {
            qualityScore: Number(f.qualityScore.toFixed(4)),
            firstPassYield: q?.firstPassYield ?? null,
            defectPpm: q?.defectPpm ?? null,
            unitCostMinor: f.costCurve[0]?.unitCostMinor ?? 0,
            minBatch: f.minBatch,
          },
          why,
          binding,
          weeks: [...perWeek]
            .sort((a, b) => a[0] - b[0])
            .map(([w, quantity]) => ({ week: weekOf(w), quantity, late: w > dueWeek })),
          alternatives: alternatives.filter((a) => a.factoryMspId !== msp),
        },
      });
    }
    return { offers, result };
  }

  return {
    queue,
    /** Runs one dispatch now, in the caller (tests and tools); workers call the same function. */
    dispatchNow: dispatch,
    /** Durable request to (re)dispatch an order; the job id makes repeats of the same request one job. */
    async request(orderId: string, reason: string): Promise<void> {
      await queue.add('dispatch', { orderId }, { jobId: `dispatch-${orderId}-${reason.replaceAll(':', '-')}` });
    },
    /**
     * Capacity appeared (a profile changed, a device was certified, an order was cancelled or
     * edited): orders still waiting for a factory are dispatched again. Dispatch is idempotent, so
     * an order that meanwhile found room is a no-op.
     */
    async retryWaiting(reason: string): Promise<number> {
      const { rows } = await deps.pool.query(
        `SELECT o.id FROM orders o
         WHERE o.status = ANY($1)
           AND (SELECT e.action FROM order_events e WHERE e.order_id = o.id
                  AND e.action IN ('offered','no_factory_available') ORDER BY e.id DESC LIMIT 1) = 'no_factory_available'
         ORDER BY o.due_date LIMIT 500`,
        [DISPATCHABLE],
      );
      const stamp = Date.now();
      for (const r of rows) {
        await queue.add('dispatch', { orderId: r.id }, { jobId: `dispatch-${r.id}-retry-${reason}-${stamp}` });
      }
      return rows.length;
    },
    start(): void {
      worker = new Worker<DispatchJob>(
        QueueNames.dispatch,
        async (job) => {
          if (job.name === 'dispatch' && 'orderId' in job.data) {
            await dispatch(job.data.orderId);
            return;
          }
          if (job.name === 'offer-timeout' && 'offerId' in job.data) {
            const orderId = await deps.orders().expireOffer(job.data.offerId);
            if (orderId) await dispatch(orderId);
          }
        },
        { connection: deps.connection, prefix: deps.prefix, concurrency: 2 },
      );
      worker.on('failed', (job, err) => deps.logger.warn({ job: job?.id, err }, 'dispatch job failed'));
    },
    async close(): Promise<void> {
      await worker?.close();
      await queue.close();
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

/** Splits `part` of an order over its lines in proportion, rounding so the parts add up exactly. */
export function scaleLines(
  lines: { sku: string; colour?: string; size?: string; quantity: number }[],
  part: number,
  total: number,
) {
  if (part === total) return lines;
  let given = 0;
  return lines.map((l, i) => {
    const q = i === lines.length - 1 ? part - given : Math.floor((l.quantity * part) / total);
    given += q;
    return { ...l, quantity: q };
  });
}
