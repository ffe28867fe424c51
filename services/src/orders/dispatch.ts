import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '../db/database.js';
import { newId } from '../ids.js';
import { QueueNames } from '../queues.js';
import { OrderStatuses, type OrdersService } from './orders-service.js';

export interface DispatchDeps {
  readonly pool: pg.Pool;
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly logger: Logger;
  readonly offerTtlMs: number;
  /** MSP ids of the factories in the consortium. */
  readonly factories: () => readonly string[];
  readonly orders: () => OrdersService;
}

type DispatchJob = { orderId: string } | { offerId: string };

/**
 * Dispatch as BullMQ jobs: `dispatch` offers an order's unallocated quantity to
 * a factory; `offer-timeout` (delayed) expires an unanswered offer and
 * re-dispatches. The allocation rule for now: the whole remainder goes to the
 * eligible factory with the least open work (one that has not declined or let
 * an offer for this order expire). The solver-based split comes with the
 * dispatch issue; the job shapes stay.
 */
export function createDispatcher(deps: DispatchDeps) {
  const queue = new Queue<DispatchJob>(QueueNames.dispatch, {
    connection: deps.connection,
    prefix: deps.prefix,
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: 1000 },
  });
  let worker: Worker<DispatchJob> | undefined;

  async function dispatch(orderId: string): Promise<void> {
    const offer = await withTransaction(deps.pool, async (client) => {
      const { rows } = await client.query('SELECT * FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
      const order = rows[0];
      if (!order || order.status === OrderStatuses.cancelled || order.status === OrderStatuses.accepted) return null;
      const { rows: alloc } = await client.query(
        `SELECT
           COALESCE(SUM(quantity) FILTER (WHERE status IN ('open','accepted')), 0)::int AS allocated,
           COUNT(*) FILTER (WHERE status = 'open')::int AS open
         FROM offers WHERE order_id = $1`,
        [orderId],
      );
      const remaining = (order.total_quantity as number) - (alloc[0].allocated as number);
      if (remaining <= 0 || alloc[0].open > 0) return null;
      const { rows: refused } = await client.query(
        `SELECT DISTINCT factory_msp FROM offers WHERE order_id = $1 AND status IN ('declined','expired')`,
        [orderId],
      );
      const excluded = new Set(refused.map((r) => r.factory_msp as string));
      const candidates = deps.factories().filter((f) => !excluded.has(f));
      if (candidates.length === 0) {
        await client.query(`UPDATE orders SET status = 'dispatching', updated_at = now() WHERE id = $1`, [orderId]);
        await client.query(
          `INSERT INTO order_events (order_id, actor, action, data) VALUES ($1, 'platform', 'no_factory_available', $2)`,
          [orderId, JSON.stringify({ remaining })],
        );
        return null;
      }
      const { rows: load } = await client.query(
        `SELECT factory_msp, SUM(quantity)::int AS open FROM work_orders WHERE factory_msp = ANY($1) GROUP BY factory_msp`,
        [candidates],
      );
      const openLoad = new Map(load.map((r) => [r.factory_msp as string, r.open as number]));
      const factory = [...candidates].sort((a, b) => (openLoad.get(a) ?? 0) - (openLoad.get(b) ?? 0))[0] as string;
      const lines = scaleLines(order.lines, remaining, order.total_quantity);
      const id = newId('OFR');
      const expiresAt = new Date(Date.now() + deps.offerTtlMs);
      const unitPrice = Math.round(Number(order.target_price_minor));
      await client.query(
        `INSERT INTO offers (id, order_id, factory_msp, quantity, lines, price_minor, due_date, status, expires_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,'open',$8)`,
        [id, orderId, factory, remaining, JSON.stringify(lines), unitPrice, order.due_date, expiresAt],
      );
      await client.query(`UPDATE orders SET status = 'offered', updated_at = now() WHERE id = $1`, [orderId]);
      await client.query(
        `INSERT INTO order_events (order_id, actor, action, data) VALUES ($1, 'platform', 'offered', $2)`,
        [orderId, JSON.stringify({ offerId: id, factory, quantity: remaining })],
      );
      return { id, expiresAt };
    });
    if (offer) {
      await queue.add(
        'offer-timeout',
        { offerId: offer.id },
        { jobId: `offer-timeout-${offer.id}`, delay: Math.max(0, offer.expiresAt.getTime() - Date.now()) },
      );
      deps.logger.info({ orderId, offerId: offer.id }, 'offer sent');
    }
  }

  return {
    queue,
    /** Durable request to (re)dispatch an order; the job id makes repeats of the same request one job. */
    async request(orderId: string, reason: string): Promise<void> {
      await queue.add('dispatch', { orderId }, { jobId: `dispatch-${orderId}-${reason.replaceAll(':', '-')}` });
    },
    start(): void {
      worker = new Worker<DispatchJob>(
        QueueNames.dispatch,
        async (job) => {
          if (job.name === 'dispatch' && 'orderId' in job.data) return dispatch(job.data.orderId);
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
