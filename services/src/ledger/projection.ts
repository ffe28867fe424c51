import type { AnchorRecord, DeviceRecord, WorkOrderRecord } from '@c2m/network';
import type { ChaincodeEvent, Ledger, LedgerCheckpoint } from '@c2m/shared';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '../db/database.js';

/** Where a projection stands: the last transaction whose event it applied (null before the first). */
export interface ProjectionCheckpoint {
  readonly blockNumber: number;
  readonly txId: string;
}

export interface ProjectionStatus {
  readonly running: boolean;
  readonly checkpoint: ProjectionCheckpoint | null;
  /** Committed blocks on the ledger. */
  readonly ledgerHeight: number;
  /**
   * Blocks committed after the checkpoint's block. An upper bound on what is still to apply: blocks whose
   * transactions emit no event (org registrations, refused transactions) count too.
   */
  readonly lagBlocks: number;
  /** The last failure to apply an event, until one applies again. */
  readonly lastError: string | null;
}

export interface LedgerProjection {
  /** Subscribes from the stored checkpoint; events already applied are not applied again. */
  start(): Promise<void>;
  /**
   * Empties the read models and the checkpoint, and replays every event from block 0. Resolves once the replay
   * has reached the checkpoint the projection had before (at once when it had none).
   */
  rebuild(): Promise<void>;
  status(): Promise<ProjectionStatus>;
  close(): Promise<void>;
}

export interface LedgerProjectionOptions {
  readonly pool: pg.Pool;
  readonly ledger: Ledger;
  readonly logger: Logger;
  /** Name of the checkpoint row; one per independent consumer (default `read-models`). */
  readonly name?: string;
  /** Pause before resubscribing after an event failed to apply (default 1 s). */
  readonly retryDelayMs?: number;
}

const TABLES = ['ledger_devices', 'ledger_work_orders', 'ledger_anchors'] as const;

/**
 * Feeds the PostgreSQL read models from committed chaincode events. Each event's payload is exactly the
 * record the chaincode wrote, so the row is that record; the row and the checkpoint change in one
 * transaction, and an upsert never replaces a newer revision, so replays and restarts leave the same rows.
 */
export function createLedgerProjection(options: LedgerProjectionOptions): LedgerProjection {
  const { pool, ledger, logger } = options;
  const name = options.name ?? 'read-models';
  const retryDelayMs = options.retryDelayMs ?? 1000;
  let subscription: { close(): void } | undefined;
  let generation = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let lastError: string | null = null;
  let applied: ProjectionCheckpoint | null = null;
  const appliedWaiters = new Set<() => void>();

  async function readCheckpoint(): Promise<ProjectionCheckpoint | null> {
    const { rows } = await pool.query<{ block_number: string; tx_id: string }>(
      'SELECT block_number, tx_id FROM ledger_checkpoint WHERE projection = $1',
      [name],
    );
    const row = rows[0];
    return row ? { blockNumber: Number(row.block_number), txId: row.tx_id } : null;
  }

  async function apply(event: ChaincodeEvent): Promise<void> {
    let record: { docType?: string };
    try {
      record = JSON.parse(Buffer.from(event.payload).toString('utf8')) as { docType?: string };
    } catch {
      record = {};
    }
    await withTransaction(pool, async (client) => {
      if (record.docType === 'device') await upsertDevice(client, record as DeviceRecord, event);
      else if (record.docType === 'workOrder') await upsertWorkOrder(client, record as WorkOrderRecord, event);
      else if (record.docType === 'anchor') await insertAnchor(client, record as AnchorRecord, event);
      // Events of other record kinds still move the checkpoint: they are handled, by being of no interest here.
      await client.query(
        `INSERT INTO ledger_checkpoint (projection, block_number, tx_id) VALUES ($1, $2, $3)
         ON CONFLICT (projection) DO UPDATE SET block_number = $2, tx_id = $3, updated_at = now()`,
        [name, event.blockNumber, event.txId],
      );
    });
    applied = { blockNumber: event.blockNumber, txId: event.txId };
    lastError = null;
    for (const wake of appliedWaiters) wake();
  }

  async function subscribe(): Promise<void> {
    if (closed) return;
    const mine = ++generation;
    const checkpoint = await readCheckpoint();
    applied = checkpoint;
    const from: LedgerCheckpoint = checkpoint
      ? { blockNumber: checkpoint.blockNumber, transactionId: checkpoint.txId }
      : { blockNumber: 0 };
    subscription = await ledger.listen(from, async (event) => {
      if (mine !== generation) throw new Error('superseded subscription');
      try {
        await apply(event);
      } catch (err) {
        lastError = (err as Error).message;
        logger.warn({ err, blockNumber: event.blockNumber, txId: event.txId }, 'ledger projection: event not applied');
        // Stop this subscription (the ledger closes a listener whose handler throws) and resume from the checkpoint.
        if (mine === generation && !closed) {
          subscription?.close();
          retryTimer = setTimeout(() => {
            retryTimer = undefined;
            subscribe().catch((e: unknown) => logger.error({ err: e }, 'ledger projection: resubscribe failed'));
          }, retryDelayMs);
        }
        throw err;
      }
    });
  }

  function unsubscribe(): void {
    generation++;
    subscription?.close();
    subscription = undefined;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = undefined;
  }

  function reached(target: ProjectionCheckpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = async () => {
        try {
          if (closed) throw new Error('ledger projection closed during rebuild');
          const current = applied;
          if (!current || current.blockNumber < target.blockNumber) return;
          if (current.blockNumber > target.blockNumber) return done();
          if (current.txId === target.txId) return done();
          // Same block: reached once the target transaction lies at or before the applied one.
          const block = await ledger.block(target.blockNumber);
          const ids = block.transactions.map((t) => t.txId);
          if (ids.indexOf(current.txId) >= ids.indexOf(target.txId)) done();
        } catch (err) {
          appliedWaiters.delete(wake);
          reject(err);
        }
      };
      const done = () => {
        appliedWaiters.delete(wake);
        resolve();
      };
      const wake = () => void check();
      appliedWaiters.add(wake);
      void check();
    });
  }

  return {
    async start() {
      if (subscription || closed) return;
      await subscribe();
    },

    async rebuild() {
      const target = await readCheckpoint();
      const wasRunning = subscription !== undefined;
      unsubscribe();
      await withTransaction(pool, async (client) => {
        await client.query(`TRUNCATE ${TABLES.join(', ')}`);
        await client.query('DELETE FROM ledger_checkpoint WHERE projection = $1', [name]);
      });
      applied = null;
      logger.info({ projection: name, target }, 'ledger projection: rebuilding from block 0');
      const replayed = target ? reached(target) : Promise.resolve();
      await subscribe();
      await replayed;
      if (!wasRunning) unsubscribe();
    },

    async status() {
      const checkpoint = await readCheckpoint();
      const ledgerHeight = await ledger.height();
      const lastBlock = checkpoint?.blockNumber ?? -1;
      return {
        running: subscription !== undefined && !closed,
        checkpoint,
        ledgerHeight,
        lagBlocks: Math.max(0, ledgerHeight - 1 - lastBlock),
        lastError,
      };
    },

    async close() {
      closed = true;
      unsubscribe();
      for (const wake of appliedWaiters) wake();
    },
  };
}

type Db = pg.PoolClient;

async function upsertDevice(db: Db, d: DeviceRecord, e: ChaincodeEvent): Promise<void> {
  await db.query(
    `INSERT INTO ledger_devices (device_id, owner_msp, status, valid_until, revision, record, tx_id, block_number)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (device_id) DO UPDATE SET owner_msp = $2, status = $3, valid_until = $4, revision = $5,
       record = $6, tx_id = $7, block_number = $8
     WHERE ledger_devices.revision <= $5`,
    [d.deviceId, d.ownerMspId, d.status, d.validUntil, d.revision, JSON.stringify(d), e.txId, e.blockNumber],
  );
}

async function upsertWorkOrder(db: Db, w: WorkOrderRecord, e: ChaincodeEvent): Promise<void> {
  await db.query(
    `INSERT INTO ledger_work_orders
       (work_order_id, order_id, brand_msp, factory_msp, status, milestones, revision, record, tx_id, block_number)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (work_order_id) DO UPDATE SET status = $5, milestones = $6, revision = $7, record = $8,
       tx_id = $9, block_number = $10
     WHERE ledger_work_orders.revision <= $7`,
    [
      w.workOrderId,
      w.orderId,
      w.brandMspId,
      w.factoryMspId,
      w.status,
      JSON.stringify(w.milestones),
      w.revision,
      JSON.stringify(w),
      e.txId,
      e.blockNumber,
    ],
  );
}

/** Anchors are written once (the chaincode refuses a second anchor of a batch), so the first row stands. */
async function insertAnchor(db: Db, a: AnchorRecord, e: ChaincodeEvent): Promise<void> {
  await db.query(
    `INSERT INTO ledger_anchors (batch_id, factory_msp, merkle_root, event_count, first_event_time, last_event_time,
       anchored_at, record, tx_id, block_number)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (batch_id) DO NOTHING`,
    [
      a.batchId,
      a.factoryMspId,
      a.merkleRootHex,
      a.eventCount,
      a.firstEventTime,
      a.lastEventTime,
      a.anchoredAt,
      JSON.stringify(a),
      e.txId,
      e.blockNumber,
    ],
  );
}
