import { CodedError, ErrorCodes, OrgKinds } from '@c2m/shared';
import type pg from 'pg';
import type { AuthUser } from '../plugins/auth.js';
import type { AnchorStatus } from '../trace/trace-service.js';

/**
 * Who may see a factory's anchored batches (counts, times, roots). A factory's activity volume is commercially
 * sensitive between competitors, so Factory2 must not read Factory1's. Seen by:
 * - the factory itself;
 * - the platform (operator, certifier) and financiers, whose job is to watch and finance every factory's output;
 * - a brand only the batches holding events of its own work orders (its proof bundles contain them anyway), and
 *   not a factory's whole time line.
 * This is the API's rule. On a real Fabric channel every member's peer holds the same ledger, anchors
 * included; keeping them from members that run a peer needs per-factory private data or channels.
 */
export interface AnchorRow {
  readonly batchId: string;
  readonly factoryMspId: string;
  readonly merkleRoot: string;
  readonly eventCount: number;
  readonly firstEventTime: string;
  readonly lastEventTime: string;
  readonly status: AnchorStatus;
  readonly txId: string | null;
  readonly blockNumber: number | null;
}

export interface ActivityVisibility {
  /** The latest anchored or pending batches the user may see, newest first. */
  anchors(user: AuthUser, limit?: number): Promise<AnchorRow[]>;
  /** Throws `FORBIDDEN` unless the user may list the factory's anchors over time (GET /factories/:id/anchors). */
  assertMayWatchFactory(user: AuthUser, factoryMspId: string): void;
}

const seesEveryFactory = (user: AuthUser) => user.orgKind === OrgKinds.platform || user.orgKind === OrgKinds.finance;

export function createActivityVisibility(pool: pg.Pool): ActivityVisibility {
  return {
    async anchors(user, limit = 100) {
      let where = 'TRUE';
      const params: unknown[] = [limit];
      if (!seesEveryFactory(user)) {
        params.push(user.mspId);
        where =
          user.orgKind === OrgKinds.factory
            ? 'b.factory_msp = $2'
            : `b.batch_id IN (SELECT e.batch_id FROM device_events e JOIN work_orders w ON w.id = e.work_order_id
                              WHERE w.brand_msp = $2 AND e.batch_id IS NOT NULL)`;
      }
      const { rows } = await pool.query(
        `SELECT * FROM batches b WHERE ${where} ORDER BY b.created_at DESC LIMIT $1`,
        params,
      );
      return rows.map((b) => ({
        batchId: b.batch_id as string,
        factoryMspId: b.factory_msp as string,
        merkleRoot: b.merkle_root as string,
        eventCount: b.event_count as number,
        firstEventTime: (b.first_event_time as Date).toISOString(),
        lastEventTime: (b.last_event_time as Date).toISOString(),
        status: b.status as AnchorStatus,
        txId: (b.tx_id as string | null) ?? null,
        blockNumber: b.block_number === null ? null : Number(b.block_number),
      }));
    },

    assertMayWatchFactory(user, factoryMspId) {
      if (seesEveryFactory(user)) return;
      if (user.orgKind === OrgKinds.factory && user.mspId === factoryMspId) return;
      throw new CodedError(
        ErrorCodes.FORBIDDEN,
        `${user.username} (${user.mspId}) may not see ${factoryMspId}'s activity: factories see their own, brands see batches of their work orders (GET /api/anchors, proof bundles)`,
        403,
      );
    },
  };
}
