import { createHash } from 'node:crypto';
import { CodedError, canonicalJson, ErrorCodes, type Milestone, Milestones } from '@c2m/shared';
import type pg from 'pg';
import { withTransaction } from '../db/database.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { AuthUser } from '../plugins/auth.js';
import { type OrderStatus, OrderStatuses, type WorkOrderStatus, WorkOrderStatuses } from './orders-service.js';

/**
 * SHA-256 (hex) of canonicalJson([[batchId, merkleRoot, sha256(canonicalJson(totals)) or null], …]) in batch-id
 * order: the milestone evidence's reference to the anchored batches it rests on.
 */
export function batchListHash(batches: readonly { batch_id: string; merkle_root: string; totals: unknown }[]): string {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  return sha(
    canonicalJson(batches.map((b) => [b.batch_id, b.merkle_root, b.totals ? sha(canonicalJson(b.totals)) : null])),
  );
}

/** Work-order status after each milestone. */
const WORK_ORDER_STATUS: Record<Milestone, WorkOrderStatus> = {
  PRODUCED: WorkOrderStatuses.produced,
  QC_PASSED: WorkOrderStatuses.qcPassed,
  SHIPPED: WorkOrderStatuses.shipped,
  DELIVERED: WorkOrderStatuses.delivered,
};

export interface MilestoneView {
  milestone: Milestone;
  recordedBy: string;
  evidence: Record<string, unknown>;
  txId: string;
  blockNumber: number;
  recordedAt: string;
}

/**
 * Milestones of a work order: produced, QC passed, shipped (the factory),
 * delivered (the brand), each recorded on the ledger in order, with evidence a
 * financier can check. PRODUCED and QC_PASSED are proven, not claimed: they
 * need the units, and the passing quality measurements, in anchored batches
 * of the factory's certified devices. The order follows its work orders:
 * in production once one is produced, shipped or delivered once all are.
 */
export function createMilestones(deps: { pool: pg.Pool; ledger: LedgerAccess }) {
  const { pool } = deps;

  /**
   * Production and QC evidence from anchored events only: what a proof bundle for this work order can show.
   * The batches are referred to, not listed: their count and one hash over (batchId, merkleRoot, totals hash)
   * of each, in batch-id order, which the work order's summary bundle lets anyone recompute. Inline lists of
   * ids and roots outgrew the chaincode's 16,384-character evidence limit past a few hundred batches.
   */
  async function anchoredEvidence(workOrderId: string) {
    const { rows } = await pool.query(
      `SELECT
         COALESCE(SUM((e.data->>'units')::bigint) FILTER (WHERE e.type = 'production.count'), 0)::bigint AS units,
         COUNT(*) FILTER (WHERE e.type = 'quality.measurement' AND (e.data->>'pass')::boolean)::int AS qc_pass,
         COUNT(*) FILTER (WHERE e.type = 'quality.measurement' AND NOT (e.data->>'pass')::boolean)::int AS qc_fail
       FROM device_events e JOIN batches b ON b.batch_id = e.batch_id AND b.status = 'anchored'
       WHERE e.work_order_id = $1 AND e.factory_msp = (SELECT factory_msp FROM work_orders WHERE id = $1)`,
      [workOrderId],
    );
    const { rows: batches } = await pool.query(
      `SELECT b.batch_id, b.merkle_root, b.totals FROM batches b
       WHERE b.status = 'anchored' AND b.batch_id IN (SELECT DISTINCT batch_id FROM device_events
         WHERE work_order_id = $1 AND factory_msp = (SELECT factory_msp FROM work_orders WHERE id = $1))
       ORDER BY b.batch_id`,
      [workOrderId],
    );
    const r = rows[0];
    return {
      units: Number(r.units),
      qcPass: r.qc_pass as number,
      qcFail: r.qc_fail as number,
      batches: { count: batches.length, hash: batchListHash(batches) },
    };
  }

  async function record(
    user: AuthUser,
    workOrderId: string,
    milestone: Milestone,
    input: { note?: string; evidence?: Record<string, unknown> },
  ): Promise<MilestoneView> {
    const { rows } = await pool.query('SELECT * FROM work_orders WHERE id = $1', [workOrderId]);
    const wo = rows[0];
    const party = wo && (wo.brand_msp === user.mspId || wo.factory_msp === user.mspId);
    if (!party) throw new CodedError(ErrorCodes.WORK_ORDER_NOT_FOUND, `work order ${workOrderId} not found`, 404);
    const reporter = milestone === 'DELIVERED' ? wo.brand_msp : wo.factory_msp;
    if (user.mspId !== reporter) {
      throw new CodedError(ErrorCodes.FORBIDDEN, `only ${reporter} may record ${milestone} on ${workOrderId}`, 403);
    }
    if (!wo.ledger_tx_id) {
      throw new CodedError(
        ErrorCodes.INVALID_STATE,
        `work order ${workOrderId} is not committed on the ledger yet`,
        409,
      );
    }
    const evidence: Record<string, unknown> = { ...input.evidence, note: input.note ?? '' };
    if (milestone === 'PRODUCED' || milestone === 'QC_PASSED') {
      const a = await anchoredEvidence(workOrderId);
      if (milestone === 'PRODUCED' && a.units < wo.quantity) {
        throw new CodedError(
          ErrorCodes.INVALID_STATE,
          `only ${a.units} of ${wo.quantity} units are proven by anchored production events`,
          409,
        );
      }
      if (milestone === 'QC_PASSED' && (a.qcPass === 0 || a.qcFail > 0)) {
        throw new CodedError(
          ErrorCodes.INVALID_STATE,
          `QC needs passing anchored quality measurements and no failing ones (${a.qcPass} passed, ${a.qcFail} failed)`,
          409,
        );
      }
      Object.assign(evidence, {
        // Production counts toward the work order up to its quantity; what the devices reported beyond it is
        // over-production, recorded as such and never counted as ordered units.
        anchoredUnits: Math.min(a.units, wo.quantity),
        overProduction: Math.max(0, a.units - wo.quantity),
        qcPassed: a.qcPass,
        qcFailed: a.qcFail,
        anchorBatches: a.batches,
      });
    }
    // The ledger enforces the order of milestones and who may record each; its refusal changes nothing here.
    const tx = await deps.ledger.recordMilestone(user.username, workOrderId, milestone, evidence);
    await withTransaction(pool, async (client) => {
      await client.query(
        `INSERT INTO work_order_milestones (work_order_id, milestone, recorded_by, evidence, tx_id, block_number)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (work_order_id, milestone) DO NOTHING`,
        [workOrderId, milestone, user.username, JSON.stringify(evidence), tx.txId, tx.blockNumber],
      );
      await client.query('UPDATE work_orders SET status = $2 WHERE id = $1', [
        workOrderId,
        WORK_ORDER_STATUS[milestone],
      ]);
      const { rows: all } = await client.query(
        `SELECT o.total_quantity, COALESCE(SUM(w.quantity), 0)::int AS accepted,
           array_agg(w.status) AS statuses
         FROM orders o JOIN work_orders w ON w.order_id = o.id WHERE o.id = $1 GROUP BY o.total_quantity`,
        [wo.order_id],
      );
      const statuses = (all[0]?.statuses ?? []) as string[];
      const complete = all[0] && all[0].accepted >= all[0].total_quantity;
      const every = (s: WorkOrderStatus) => complete && statuses.every((x) => x === s);
      // The order is shipped or delivered once every work order is, and the work orders cover its quantity.
      const orderStatus: OrderStatus = every(WorkOrderStatuses.delivered)
        ? OrderStatuses.delivered
        : every(WorkOrderStatuses.shipped)
          ? OrderStatuses.shipped
          : OrderStatuses.inProduction;
      await client.query(
        `UPDATE orders SET status = $2, updated_at = now() WHERE id = $1 AND status NOT IN ('cancelled', 'closed')`,
        [wo.order_id, orderStatus],
      );
      await client.query(`INSERT INTO order_events (order_id, actor, action, data) VALUES ($1, $2, 'milestone', $3)`, [
        wo.order_id,
        user.username,
        JSON.stringify({ workOrderId, milestone, txId: tx.txId }),
      ]);
    });
    return {
      milestone,
      recordedBy: user.username,
      evidence,
      txId: tx.txId,
      blockNumber: tx.blockNumber,
      recordedAt: new Date().toISOString(),
    };
  }

  async function list(workOrderId: string): Promise<MilestoneView[]> {
    const { rows } = await pool.query(
      'SELECT * FROM work_order_milestones WHERE work_order_id = $1 ORDER BY recorded_at',
      [workOrderId],
    );
    return rows.map((r) => ({
      milestone: r.milestone,
      recordedBy: r.recorded_by,
      evidence: r.evidence,
      txId: r.tx_id,
      blockNumber: Number(r.block_number),
      recordedAt: (r.recorded_at as Date).toISOString(),
    }));
  }

  /** The brand closes a delivered order: the end of its lifecycle. */
  async function closeOrder(user: AuthUser, orderId: string): Promise<void> {
    await withTransaction(pool, async (client) => {
      const { rows } = await client.query('SELECT * FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
      const order = rows[0];
      if (!order || order.brand_msp !== user.mspId) {
        throw new CodedError(ErrorCodes.ORDER_NOT_FOUND, `order ${orderId} not found`, 404);
      }
      if (order.status !== 'delivered') {
        throw new CodedError(ErrorCodes.INVALID_STATE, `order ${orderId} is ${order.status}, not delivered`, 409);
      }
      await client.query(`UPDATE orders SET status = 'closed', updated_at = now() WHERE id = $1`, [orderId]);
      await client.query(`INSERT INTO order_events (order_id, actor, action, data) VALUES ($1, $2, 'closed', '{}')`, [
        orderId,
        user.username,
      ]);
    });
  }

  return { record, list, closeOrder, milestones: Milestones };
}

export type MilestonesService = ReturnType<typeof createMilestones>;
