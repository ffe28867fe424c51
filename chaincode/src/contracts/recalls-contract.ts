import { canonicalJson, OrgKinds, Orgs } from '@c2m/shared';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { type Actor, actor, caller, orgKind, requireOrgKind } from '../lib/access.js';
import { setRecordOwners } from '../lib/endorsement.js';
import { ErrorCodes, fail } from '../lib/errors.js';
import { KeyPrefixes, recordKey } from '../lib/keys.js';
import { INDEX_VALUE, readRecord, writeRecord } from '../lib/marshal.js';
import { txTime } from '../lib/time.js';
import { hex, id, oneOf, text } from '../lib/validate.js';
import type { WorkOrderRecord } from './work-orders-contract.js';

/**
 * Recalls on the ledger: a brand records what it recalls (the scope: lots, GTINs and work orders, and the hash of
 * the full list of affected identifiers the platform computed) and why, then each step to closure. Financiers
 * and consumers read the recall here, not from the platform's word; the finance side freezes the work orders it
 * names. A brand may recall only its own products: every work order in the scope is its own, and every lot is
 * one those work orders recorded at StartProduction. Deterministic: the only time is the transaction's.
 */

export const RecallStatuses = ['OPEN', 'NOTIFIED', 'RETURNED', 'DESTROYED', 'CLOSED'] as const;
export type RecallStatus = (typeof RecallStatuses)[number];

export interface RecallScope {
  /** What the recall started from: a lot, a device and window, or a failing QC event. */
  readonly start: { readonly kind: string; readonly id: string; readonly from?: string; readonly to?: string };
  readonly lots: readonly { readonly gtin: string; readonly lot: string }[];
  readonly gtins: readonly string[];
  readonly workOrders: readonly string[];
  /** How many serials, cartons and shipments the full scope (hashed in scopeHash) lists. */
  readonly counts: Readonly<Record<string, number>>;
}

export interface RecallStep {
  readonly status: RecallStatus;
  readonly at: string;
  readonly by: Actor;
  readonly note: string;
  readonly txId: string;
}

export interface RecallRecord {
  readonly docType: 'recall';
  readonly recallId: string;
  readonly brandMspId: string;
  readonly reason: string;
  /** sha256 (hex) of the platform's full scope document (every identifier with its last known location). */
  readonly scopeHash: string;
  readonly scope: RecallScope;
  readonly status: RecallStatus;
  readonly openedAt: string;
  readonly history: readonly RecallStep[];
  readonly revision: number;
}

const RECALL = 'c2m.recall';
const RECALL_BY_LOT = 'c2m.recall~lot';
const MAX_LOTS = 500;
const MAX_WORK_ORDERS = 500;

function scopeOf(value: string): RecallScope {
  if (typeof value !== 'string' || value.length > 200_000) fail(ErrorCodes.VALIDATION_FAILED, 'scopeJson too long');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    fail(ErrorCodes.VALIDATION_FAILED, 'scopeJson is not JSON');
  }
  const o = (parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {}) as Record<string, unknown>;
  const start = (o.start && typeof o.start === 'object' ? o.start : {}) as Record<string, unknown>;
  const kind = oneOf('scope.start.kind', start.kind, ['lot', 'device', 'qc', 'serial', 'line'] as const);
  const startId = text('scope.start.id', start.id, 512);
  if (!Array.isArray(o.lots) || o.lots.length > MAX_LOTS) {
    fail(ErrorCodes.VALIDATION_FAILED, `scope.lots must be an array of at most ${MAX_LOTS}`);
  }
  const lots = o.lots.map((l: unknown, i: number) => {
    const x = (l && typeof l === 'object' ? l : {}) as Record<string, unknown>;
    if (typeof x.gtin !== 'string' || !/^[0-9]{14}$/.test(x.gtin)) {
      fail(ErrorCodes.VALIDATION_FAILED, `scope.lots[${i}].gtin must be 14 digits`);
    }
    return { gtin: x.gtin, lot: text(`scope.lots[${i}].lot`, x.lot, 20) };
  });
  if (!Array.isArray(o.workOrders) || o.workOrders.length === 0 || o.workOrders.length > MAX_WORK_ORDERS) {
    fail(ErrorCodes.VALIDATION_FAILED, `scope.workOrders must name 1 to ${MAX_WORK_ORDERS} work orders`);
  }
  const workOrders = [...new Set(o.workOrders.map((w: unknown) => id('scope.workOrders[]', w)))].sort();
  const counts: Record<string, number> = {};
  const c = (o.counts && typeof o.counts === 'object' ? o.counts : {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(c).slice(0, 20)) {
    if (!/^[a-zA-Z]{1,32}$/.test(k) || typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      fail(ErrorCodes.VALIDATION_FAILED, `scope.counts.${k.slice(0, 32)} must be a count`);
    }
    counts[k] = v;
  }
  const window = (name: 'from' | 'to') =>
    typeof start[name] === 'string' ? { [name]: text(`scope.start.${name}`, start[name], 40) } : {};
  return {
    start: { kind, id: startId, ...window('from'), ...window('to') },
    lots,
    gtins: [...new Set(lots.map((l) => l.gtin))].sort(),
    workOrders,
    counts,
  };
}

@Info({ title: 'Recalls', description: 'Product recalls: scope, reason and steps to closure, by the brand' })
export class RecallsContract extends Contract {
  constructor() {
    super('Recalls');
  }

  /**
   * The brand opens a recall of its own products. Every work order named must be the caller's, and every lot
   * one of those work orders' lots (StartProduction), so a brand cannot recall, or scare consumers of, another
   * brand's goods.
   */
  @Transaction()
  @Returns('string')
  async OpenRecall(
    ctx: Context,
    recallId: string,
    scopeHash: string,
    scopeJson: string,
    reason: string,
  ): Promise<string> {
    const by = await requireOrgKind(ctx, OrgKinds.brand, 'OpenRecall');
    const rid = id('recallId', recallId);
    const hash = hex('scopeHash', scopeHash, 32);
    const why = text('reason', reason, 1000);
    const scope = scopeOf(scopeJson);
    const key = recordKey(ctx, RECALL, rid);
    if (await readRecord(ctx, key)) fail(ErrorCodes.ALREADY_EXISTS, `recall ${rid} already exists`);
    const lotsOfWorkOrders = new Set<string>();
    for (const w of scope.workOrders) {
      const wo = await readRecord<WorkOrderRecord>(ctx, recordKey(ctx, KeyPrefixes.workOrder, w));
      if (!wo) fail(ErrorCodes.WORK_ORDER_NOT_FOUND, `work order ${w} not found`);
      if (wo.brandMspId !== by.mspId) {
        fail(ErrorCodes.ACCESS_DENIED, `work order ${w} is ${wo.brandMspId}'s; ${by.mspId} may recall only its own`);
      }
      for (const l of wo.lots ?? []) lotsOfWorkOrders.add(`${l.gtin}|${l.lot}`);
    }
    for (const l of scope.lots) {
      if (!lotsOfWorkOrders.has(`${l.gtin}|${l.lot}`)) {
        fail(ErrorCodes.ACCESS_DENIED, `lot ${l.lot} of ${l.gtin} is not a lot of the work orders in the scope`);
      }
    }
    const at = txTime(ctx);
    const record: RecallRecord = {
      docType: 'recall',
      recallId: rid,
      brandMspId: by.mspId,
      reason: why,
      scopeHash: hash,
      scope,
      status: 'OPEN',
      openedAt: at,
      history: [{ status: 'OPEN', at, by: actor(by), note: why, txId: ctx.stub.getTxID() }],
      revision: 1,
    };
    for (const l of scope.lots) {
      await ctx.stub.putState(recordKey(ctx, RECALL_BY_LOT, l.gtin, l.lot, rid), INDEX_VALUE);
    }
    const written = await writeRecord(ctx, key, record);
    await setRecordOwners(ctx, key, [by.mspId, Orgs.platform]);
    return written;
  }

  /** The brand moves its recall on: NOTIFIED, RETURNED, DESTROYED, CLOSED, in that order (steps may be skipped). */
  @Transaction()
  @Returns('string')
  async UpdateRecall(ctx: Context, recallId: string, status: string, note: string): Promise<string> {
    const by = caller(ctx);
    const next = oneOf('status', status, RecallStatuses);
    const why = text('note', note ?? '', 1000, true);
    const r = await this.#load(ctx, recallId);
    if (by.mspId !== r.brandMspId)
      fail(ErrorCodes.ACCESS_DENIED, `only ${r.brandMspId} may update recall ${r.recallId}`);
    if (RecallStatuses.indexOf(next) <= RecallStatuses.indexOf(r.status)) {
      fail(ErrorCodes.INVALID_STATE, `recall ${r.recallId} is ${r.status}; it cannot go to ${next}`);
    }
    const updated: RecallRecord = {
      ...r,
      status: next,
      history: [...r.history, { status: next, at: txTime(ctx), by: actor(by), note: why, txId: ctx.stub.getTxID() }],
      revision: r.revision + 1,
    };
    return writeRecord(ctx, recordKey(ctx, RECALL, r.recallId), updated);
  }

  /** Any consortium member reads a recall (consumers read it through the platform, which answers from here). */
  @Transaction(false)
  @Returns('string')
  async ReadRecall(ctx: Context, recallId: string): Promise<string> {
    await this.#member(ctx);
    return canonicalJson(await this.#load(ctx, recallId));
  }

  /** The recalls naming a lot (open or not), oldest first. */
  @Transaction(false)
  @Returns('string')
  async ListRecallsByLot(ctx: Context, gtin: string, lot: string): Promise<string> {
    await this.#member(ctx);
    if (typeof gtin !== 'string' || !/^[0-9]{14}$/.test(gtin))
      fail(ErrorCodes.VALIDATION_FAILED, 'gtin must be 14 digits');
    const l = text('lot', lot, 20);
    const out: RecallRecord[] = [];
    const it = await ctx.stub.getStateByPartialCompositeKey(RECALL_BY_LOT, [gtin, l]);
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const rid = ctx.stub.splitCompositeKey(r.value.key).attributes[2] ?? '';
        const rec = await readRecord<RecallRecord>(ctx, recordKey(ctx, RECALL, rid));
        if (rec) out.push(rec);
      }
    } finally {
      await it.close();
    }
    out.sort((a, b) => (a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : 0));
    return canonicalJson(out);
  }

  async #member(ctx: Context): Promise<void> {
    const c = caller(ctx);
    if (!(await orgKind(ctx, c.mspId))) fail(ErrorCodes.ACCESS_DENIED, `${c.mspId} is not a consortium member`);
  }

  async #load(ctx: Context, recallId: string): Promise<RecallRecord> {
    const r = await readRecord<RecallRecord>(ctx, recordKey(ctx, RECALL, id('recallId', recallId)));
    if (!r) fail(ErrorCodes.NOT_FOUND, `recall ${recallId} not found`);
    return r;
  }
}
