import { randomBytes } from 'node:crypto';
import { ErrorCodes } from '@c2m/shared';
import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '../db/database.js';
import type { DeviceRow } from '../epcis/from-device.js';
import type { SchedulerKeeper } from '../job-schedulers.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { QueueNames } from '../queues.js';
import { buildTree } from './merkle.js';

type BatchTotals = { events: number; units: number; qcPass: number; qcFail: number };

/**
 * Per-work-order totals of the events being cut into a batch, as the milestones count them: units of
 * production counts, passing and failing quality measurements. Committed in the anchor, so a work order's
 * production is proven from its batches' anchors without shipping every event.
 */
async function batchTotals(client: pg.PoolClient, ids: readonly unknown[]): Promise<Record<string, BatchTotals>> {
  const { rows } = await client.query(
    `SELECT work_order_id, COUNT(*)::int AS events,
       COALESCE(SUM((data->>'units')::bigint) FILTER (
         WHERE type = 'production.count' AND data->>'units' ~ '^[0-9]{1,15}$'), 0)::bigint AS units,
       COUNT(*) FILTER (WHERE type = 'quality.measurement' AND data->>'pass' = 'true')::int AS qc_pass,
       COUNT(*) FILTER (WHERE type = 'quality.measurement' AND data->>'pass' = 'false')::int AS qc_fail
     FROM device_events e WHERE e.id = ANY($1)
       -- Only the factory's own work orders: the chaincode refuses totals for another factory's.
       AND EXISTS (SELECT 1 FROM work_orders w WHERE w.id = e.work_order_id AND w.factory_msp = e.factory_msp)
     GROUP BY work_order_id`,
    [ids],
  );
  return Object.fromEntries(
    rows.map((r) => [
      r.work_order_id as string,
      { events: r.events as number, units: Number(r.units), qcPass: r.qc_pass as number, qcFail: r.qc_fail as number },
    ]),
  );
}

/**
 * The leaves of one batch in tree order: its device messages by id, then its EPCIS events by id. The anchorer
 * cuts batches in this order and proofs rebuild the tree the same way.
 */
export async function batchLeaves(
  db: pg.Pool | pg.PoolClient,
  batchId: string,
): Promise<{ device: Map<number, number>; epcis: Map<number, number>; leaves: string[] }> {
  const [d, e] = await Promise.all([
    db.query('SELECT id, leaf_hash FROM device_events WHERE batch_id = $1 ORDER BY id', [batchId]),
    db.query('SELECT id, leaf_hash FROM epcis_events WHERE batch_id = $1 ORDER BY id', [batchId]),
  ]);
  const leaves = [...d.rows, ...e.rows].map((r) => r.leaf_hash as string);
  return {
    device: new Map(d.rows.map((r, i) => [Number(r.id), i])),
    epcis: new Map(e.rows.map((r, i) => [Number(r.id), d.rows.length + i])),
    leaves,
  };
}

export interface AnchorerDeps {
  readonly pool: pg.Pool;
  readonly ledger: LedgerAccess;
  /** The platform's service user that submits anchors. */
  readonly anchorUser: string;
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly logger: Logger;
  readonly batchSize: number;
  readonly intervalMs: number;
  /** Keeps the anchoring tick's job scheduler in Redis, re-created if Redis loses it. */
  readonly schedulers: SchedulerKeeper;
  /** Work that follows anchoring on the same tick (the EPCIS logistics follower); failures are logged. */
  readonly afterTick?: readonly (() => Promise<unknown>)[];
  /**
   * Derives the EPCIS events of the device messages being cut into a batch, in the cut's transaction
   * (epcis/from-device.ts): each message is derived exactly once, and its events join this batch when there is
   * room, else the org's next one.
   */
  readonly derive?: (client: pg.PoolClient, rows: readonly DeviceRow[]) => Promise<unknown>;
}

/**
 * Turns accepted events into Merkle batches and anchors each batch's root on
 * the ledger. A batch is one org's: a factory's device messages, then the EPCIS
 * events that org owns (captured by its users, or derived from its devices'
 * messages), each part in id order; a brand's batch holds only EPCIS events. Cutting a batch (assigning events to it and storing its root) is
 * one PostgreSQL transaction; the batch row is then the outbox entry of its
 * anchor transaction, retried on every tick until the ledger has it. A retry
 * after a lost answer meets ANCHOR_EXISTS and checks the anchored root is ours.
 */
export function createAnchorer(deps: AnchorerDeps) {
  const { pool, ledger } = deps;
  const queue = new Queue(QueueNames.anchoring, { connection: deps.connection, prefix: deps.prefix });
  let worker: Worker | undefined;

  /** Cuts the batches of every org that has enough unbatched leaves (device messages and EPCIS events) or old ones. */
  async function cutBatches(): Promise<number> {
    const { rows: due } = await pool.query(
      `SELECT owner AS factory_msp, SUM(n)::int AS n, MIN(oldest) AS oldest FROM (
         SELECT factory_msp AS owner, COUNT(*) AS n, MIN(received_at) AS oldest FROM device_events
         WHERE batch_id IS NULL GROUP BY factory_msp
         UNION ALL
         SELECT owner_msp, COUNT(*), MIN(received_at) FROM epcis_events WHERE batch_id IS NULL GROUP BY owner_msp
       ) u GROUP BY owner`,
    );
    let cut = 0;
    for (const f of due) {
      const old = Date.now() - (f.oldest as Date).getTime() >= deps.intervalMs;
      // Every full batch waiting, then the partial tail if it is old: one batch per tick capped anchoring
      // below the ingest's rate.
      let remaining = f.n as number;
      while (remaining >= deps.batchSize || (old && remaining > 0)) {
        const taken = await withTransaction(pool, async (client) => {
          const { rows: deviceRows } = await client.query(
            `SELECT id, leaf_hash, event_time, device_id, factory_msp, type, work_order_id, data FROM device_events
             WHERE factory_msp = $1 AND batch_id IS NULL ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
            [f.factory_msp, deps.batchSize],
          );
          if (deps.derive && deviceRows.length > 0) await deps.derive(client, deviceRows as DeviceRow[]);
          // EPCIS events fill the rest of the batch; their time in the anchor is when the repository recorded
          // them (an event may describe something long past, but it is anchored as recorded now).
          const { rows: epcisRows } =
            deviceRows.length < deps.batchSize
              ? await client.query(
                  `SELECT id, leaf_hash, record_time AS event_time FROM epcis_events
                   WHERE owner_msp = $1 AND batch_id IS NULL ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
                  [f.factory_msp, deps.batchSize - deviceRows.length],
                )
              : { rows: [] as pg.QueryResultRow[] };
          const rows = [...deviceRows, ...epcisRows];
          if (rows.length === 0) return 0;
          const tree = buildTree(rows.map((r) => r.leaf_hash as string));
          const first = rows[0];
          const last = rows[rows.length - 1];
          // Row ids repeat across databases; a fresh platform database against a long-lived ledger must not
          // meet an earlier database's anchor (ANCHOR_EXISTS with another root), so the id carries a nonce.
          // It is stored with the batch, so a retried anchor uses the same id.
          const batchId = `B-${f.factory_msp}-${deviceRows.length > 0 ? '' : 'E'}${first.id}-${last.id}-${randomBytes(4).toString('hex')}`;
          const times = rows.map((r) => (r.event_time as Date).getTime());
          const totals = await batchTotals(
            client,
            deviceRows.map((r) => r.id),
          );
          await client.query(
            `INSERT INTO batches (batch_id, factory_msp, merkle_root, event_count, first_event_time, last_event_time, totals)
           VALUES ($1,$2,$3,$4,$5,$6,$7)`,
            [
              batchId,
              f.factory_msp,
              tree.root,
              rows.length,
              new Date(times.reduce((a, b) => Math.min(a, b))),
              new Date(times.reduce((a, b) => Math.max(a, b))),
              JSON.stringify(totals),
            ],
          );
          await client.query('UPDATE device_events SET batch_id = $1 WHERE id = ANY($2)', [
            batchId,
            deviceRows.map((r) => r.id),
          ]);
          if (epcisRows.length > 0) {
            await client.query('UPDATE epcis_events SET batch_id = $1 WHERE id = ANY($2)', [
              batchId,
              epcisRows.map((r) => r.id),
            ]);
          }
          return rows.length;
        });
        if (taken === 0) break;
        cut++;
        remaining -= taken;
      }
    }
    return cut;
  }

  async function anchorPending(): Promise<number> {
    const { rows } = await pool.query(`SELECT * FROM batches WHERE status = 'pending' ORDER BY created_at LIMIT 50`);
    let anchored = 0;
    for (const b of rows) {
      const anchor = {
        batchId: b.batch_id as string,
        factoryMspId: b.factory_msp as string,
        merkleRoot: b.merkle_root as string,
        eventCount: b.event_count as number,
        firstEventTime: (b.first_event_time as Date).toISOString(),
        lastEventTime: (b.last_event_time as Date).toISOString(),
        ...(b.totals ? { totals: b.totals as Record<string, BatchTotals> } : {}),
      };
      try {
        let tx: { txId: string; blockNumber: number };
        try {
          tx = await ledger.anchorBatch(deps.anchorUser, anchor);
        } catch (err) {
          if ((err as { code?: string }).code !== ErrorCodes.ANCHOR_EXISTS) throw err;
          const onLedger = await ledger.readAnchor(deps.anchorUser, anchor.batchId);
          if (onLedger.merkleRoot !== anchor.merkleRoot) {
            throw new Error(`batch ${anchor.batchId} is anchored with another root: ${onLedger.merkleRoot}`);
          }
          tx = {
            txId: String(onLedger.txId ?? b.tx_id ?? ''),
            blockNumber: Number(onLedger.blockNumber ?? b.block_number ?? -1),
          };
        }
        await pool.query(
          `UPDATE batches SET status = 'anchored', tx_id = $2, block_number = $3, anchored_at = now(),
             attempts = attempts + 1, last_error = NULL WHERE batch_id = $1`,
          [anchor.batchId, tx.txId, tx.blockNumber],
        );
        anchored++;
      } catch (err) {
        deps.logger.warn({ err, batchId: anchor.batchId }, 'anchor not committed yet; will retry');
        await pool.query('UPDATE batches SET attempts = attempts + 1, last_error = $2 WHERE batch_id = $1', [
          anchor.batchId,
          String((err as Error).message).slice(0, 2000),
        ]);
      }
    }
    return anchored;
  }

  async function tick(): Promise<{ cut: number; anchored: number }> {
    const cut = await cutBatches();
    const anchored = await anchorPending();
    for (const follow of deps.afterTick ?? []) {
      await follow().catch((err) => deps.logger.warn({ err }, 'work after the anchoring tick failed'));
    }
    return { cut, anchored };
  }

  return {
    tick,
    async start(): Promise<void> {
      await deps.schedulers.register({
        queue,
        id: 'anchor-tick',
        repeat: { every: Math.max(100, Math.floor(deps.intervalMs / 2)) },
        template: { name: 'tick' },
      });
      worker = new Worker(QueueNames.anchoring, async () => tick(), {
        connection: deps.connection,
        prefix: deps.prefix,
        concurrency: 1,
      });
      worker.on('failed', (job, err) => deps.logger.warn({ job: job?.id, err }, 'anchor tick failed'));
    },
    async close(): Promise<void> {
      await worker?.close();
      await queue.close();
    },
  };
}

export type Anchorer = ReturnType<typeof createAnchorer>;
