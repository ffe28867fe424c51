import { ErrorCodes } from '@c2m/shared';
import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { SchedulerKeeper } from '../job-schedulers.js';
import { WorkOrderStatuses } from '../orders/orders-service.js';
import { QueueNames } from '../queues.js';
import type { LedgerAccess } from './ledger-access.js';

export interface OutboxDeps {
  readonly pool: pg.Pool;
  readonly ledger: LedgerAccess;
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly logger: Logger;
  readonly sweepEveryMs?: number;
  /** Keeps the sweep's job scheduler in Redis, re-created if Redis loses it. */
  readonly schedulers: SchedulerKeeper;
}

function codeOf(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

/**
 * The ledger outbox: rows written in the same PostgreSQL transaction as the
 * change that needs a ledger transaction, then submitted here until the ledger
 * commits them. Each kind's handler is idempotent (a retry after a commit whose
 * answer was lost sees ..._EXISTS and carries on).
 */
export function createLedgerOutbox(deps: OutboxDeps) {
  const { pool, ledger } = deps;
  const queue = new Queue(QueueNames.ledgerOutbox, { connection: deps.connection, prefix: deps.prefix });
  let worker: Worker | undefined;

  async function commitWorkOrder(workOrderId: string) {
    const { rows } = await pool.query('SELECT * FROM work_orders WHERE id = $1', [workOrderId]);
    const wo = rows[0];
    if (!wo) throw new Error(`work order ${workOrderId} vanished`);
    // The commit transaction is kept so proof bundles can carry it: it sets the record's key-level policy,
    // which is what proves the acceptance (endorsed by brand and factory only) offline.
    let committed: { txId: string } | undefined;
    try {
      committed = await ledger.commitWorkOrder(
        wo.brand_user,
        { workOrderId, orderId: wo.order_id, factoryMspId: wo.factory_msp, termsHash: wo.terms_hash },
        wo.terms,
      );
    } catch (err) {
      if (codeOf(err) !== ErrorCodes.WORK_ORDER_EXISTS) throw err;
      const record = await ledger.readWorkOrder(wo.factory_user, workOrderId);
      if (typeof record.committedTxId === 'string') committed = { txId: record.committedTxId };
    }
    if (committed) {
      await pool.query('UPDATE work_orders SET ledger_commit_tx_id = $2 WHERE id = $1', [workOrderId, committed.txId]);
    }
    let tx: { txId: string; blockNumber: number };
    try {
      tx = await ledger.acceptWorkOrder(wo.factory_user, workOrderId);
    } catch (err) {
      if (codeOf(err) !== ErrorCodes.INVALID_STATE) throw err;
      // Already accepted by an earlier attempt: take the ledger's record of it.
      const record = await ledger.readWorkOrder(wo.factory_user, workOrderId);
      if (record.status !== 'ACCEPTED' && !record.acceptedTxId) throw err;
      tx = { txId: record.acceptedTxId ?? 'unknown', blockNumber: record.acceptedBlock ?? -1 };
    }
    await pool.query(`UPDATE work_orders SET status = $4, ledger_tx_id = $2, ledger_block = $3 WHERE id = $1`, [
      workOrderId,
      tx.txId,
      tx.blockNumber,
      WorkOrderStatuses.committed,
    ]);
    return tx;
  }

  /** The lots a factory started a work order under, onto the ledger; a retry finds them there already. */
  async function startProduction(
    workOrderId: string,
    payload: {
      username: string;
      lots: { gtin: string; lot: string; quantity: number; serialFrom: number; serialTo: number }[];
    },
  ) {
    try {
      return await ledger.startProduction(payload.username, workOrderId, payload.lots);
    } catch (err) {
      if (codeOf(err) !== ErrorCodes.INVALID_STATE) throw err;
      const record = await ledger.readWorkOrder(payload.username, workOrderId);
      const onLedger = (record.lots ?? []) as { gtin: string; lot: string }[];
      const ours = payload.lots.map((l) => `${l.gtin}|${l.lot}`).sort();
      if (JSON.stringify(onLedger.map((l) => `${l.gtin}|${l.lot}`).sort()) !== JSON.stringify(ours)) throw err;
      return { txId: 'unknown', blockNumber: -1 };
    }
  }

  /** Processes one entry if it is still pending; safe to call from several places at once. */
  async function processEntry(id: number): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        `SELECT * FROM ledger_outbox WHERE id = $1 AND status = 'pending' FOR UPDATE SKIP LOCKED`,
        [id],
      );
      const entry = rows[0];
      if (!entry) {
        await client.query('COMMIT');
        return;
      }
      try {
        let tx: { txId: string; blockNumber: number };
        switch (entry.kind) {
          case 'work-order':
            tx = await commitWorkOrder(entry.ref);
            break;
          case 'start-production':
            tx = await startProduction(entry.ref, entry.payload);
            break;
          default:
            throw new Error(`unknown outbox kind ${entry.kind}`);
        }
        await client.query(
          `UPDATE ledger_outbox SET status = 'done', attempts = attempts + 1, tx_id = $2, block_number = $3,
             done_at = now(), last_error = NULL WHERE id = $1`,
          [id, tx.txId, tx.blockNumber],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query(`UPDATE ledger_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`, [
          id,
          String((err as Error).message).slice(0, 2000),
        ]);
        await client.query('COMMIT');
        throw err;
      }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async function sweep(): Promise<number> {
    const { rows } = await pool.query(`SELECT id FROM ledger_outbox WHERE status = 'pending' ORDER BY id LIMIT 100`);
    let failures = 0;
    for (const r of rows) {
      await processEntry(r.id).catch((err) => {
        failures++;
        deps.logger.warn({ err, outboxId: r.id }, 'ledger outbox entry not committed yet');
      });
    }
    return rows.length - failures;
  }

  return {
    processEntry,
    sweep,
    async start(): Promise<void> {
      await deps.schedulers.register({
        queue,
        id: 'outbox-sweep',
        repeat: { every: deps.sweepEveryMs ?? 3000 },
        template: { name: 'sweep' },
      });
      worker = new Worker(QueueNames.ledgerOutbox, async () => sweep(), {
        connection: deps.connection,
        prefix: deps.prefix,
        concurrency: 1,
      });
      worker.on('failed', (job, err) => deps.logger.warn({ job: job?.id, err }, 'outbox sweep failed'));
    },
    async close(): Promise<void> {
      await worker?.close();
      await queue.close();
    },
  };
}

export type LedgerOutbox = ReturnType<typeof createLedgerOutbox>;
