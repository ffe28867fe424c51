import { createHash } from 'node:crypto';
import { canonicalJson, LedgerEvents, type Milestone, Milestones, OrgKinds, Orgs } from '@c2m/shared';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { type Actor, actor, caller, orgKind, requireOrgKind } from '../lib/access.js';
import { setRecordOwners } from '../lib/endorsement.js';
import { ErrorCodes, fail } from '../lib/errors.js';
import { Collections, KeyPrefixes, recordKey, TRANSIENT_TERMS_KEY } from '../lib/keys.js';
import { INDEX_VALUE, readRecord, writeRecord } from '../lib/marshal.js';
import { indexPage } from '../lib/pages.js';
import { txTime } from '../lib/time.js';
import { hex, id, jsonObject, oneOf, positiveInt } from '../lib/validate.js';

export const WorkOrderStatuses = {
  committed: 'COMMITTED',
  accepted: 'ACCEPTED',
  produced: 'PRODUCED',
  qcPassed: 'QC_PASSED',
  shipped: 'SHIPPED',
  delivered: 'DELIVERED',
} as const;
export type WorkOrderStatus = (typeof WorkOrderStatuses)[keyof typeof WorkOrderStatuses];

export interface MilestoneRecord {
  readonly milestone: Milestone;
  readonly at: string;
  readonly by: Actor;
  readonly txId: string;
  readonly evidence: Record<string, unknown>;
}

export interface WorkOrderRecord {
  readonly docType: 'workOrder';
  readonly workOrderId: string;
  readonly orderId: string;
  readonly brandMspId: string;
  readonly factoryMspId: string;
  /** sha256 (hex) of the terms held in the private collection; lets anyone holding the terms prove them. */
  readonly termsHash: string;
  readonly termsCollection: string;
  readonly status: WorkOrderStatus;
  readonly committedAt: string;
  readonly acceptedAt: string | null;
  readonly milestones: readonly MilestoneRecord[];
  readonly revision: number;
  /** The CommitWorkOrder transaction; absent on records committed before it was kept. */
  readonly committedTxId?: string;
  /** The GS1 lots (GTIN + lot, with their serial ranges) the factory produces under, from StartProduction on. */
  readonly lots?: readonly LotRecord[];
  readonly startedAt?: string;
}

/** A lot of one GTIN allocated to a work order, with the serial numbers its units carry (inclusive). */
export interface LotRecord {
  readonly gtin: string;
  readonly lot: string;
  readonly quantity: number;
  readonly serialFrom: number;
  readonly serialTo: number;
}

/** GS1 mod-10 check digit over all digits but the last. */
function gs1CheckDigitOk(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 2, w = 3; i >= 0; i--, w = 4 - w) sum += Number(digits[i]) * w;
  return (10 - (sum % 10)) % 10 === Number(digits[digits.length - 1]);
}

/** GS1 AI (10) lot: 1 to 20 characters of GS1 AI encodable character set 82. */
const LOT_PATTERN = /^[!%-?A-Z_a-z\x22]{1,20}$/;
const MAX_LOTS = 100;

function lotRecords(value: string): LotRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    fail(ErrorCodes.VALIDATION_FAILED, 'lotsJson is not JSON');
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > MAX_LOTS) {
    fail(ErrorCodes.VALIDATION_FAILED, `lotsJson must be an array of 1 to ${MAX_LOTS} lots`);
  }
  const seen = new Set<string>();
  return parsed.map((l: unknown, i: number) => {
    const o = (l && typeof l === 'object' ? l : {}) as Record<string, unknown>;
    const gtin = o.gtin;
    if (typeof gtin !== 'string' || !/^[0-9]{14}$/.test(gtin) || !gs1CheckDigitOk(gtin)) {
      fail(ErrorCodes.VALIDATION_FAILED, `lots[${i}].gtin must be a GTIN-14 with a valid check digit`);
    }
    if (typeof o.lot !== 'string' || !LOT_PATTERN.test(o.lot)) {
      fail(ErrorCodes.VALIDATION_FAILED, `lots[${i}].lot must be 1-20 characters of GS1 character set 82`);
    }
    const quantity = positiveInt(`lots[${i}].quantity`, o.quantity, 100_000_000);
    const serialFrom = positiveInt(`lots[${i}].serialFrom`, o.serialFrom);
    const serialTo = positiveInt(`lots[${i}].serialTo`, o.serialTo);
    if (serialTo - serialFrom + 1 !== quantity) {
      fail(
        ErrorCodes.VALIDATION_FAILED,
        `lots[${i}] serials ${serialFrom}-${serialTo} do not number ${quantity} units`,
      );
    }
    const key = `${gtin}|${o.lot}`;
    if (seen.has(key)) fail(ErrorCodes.VALIDATION_FAILED, `lot ${o.lot} of ${gtin} is listed twice`);
    seen.add(key);
    return { gtin, lot: o.lot, quantity, serialFrom, serialTo };
  });
}

/** The status before each milestone; enforces PRODUCED → QC_PASSED → SHIPPED → DELIVERED after acceptance. */
const PREVIOUS: Record<Milestone, WorkOrderStatus> = {
  PRODUCED: WorkOrderStatuses.accepted,
  QC_PASSED: WorkOrderStatuses.produced,
  SHIPPED: WorkOrderStatuses.qcPassed,
  DELIVERED: WorkOrderStatuses.shipped,
};

const MAX_PAGE = 200;

@Info({ title: 'WorkOrders', description: 'Work orders between brands and factories, with private terms' })
export class WorkOrdersContract extends Contract {
  constructor() {
    super('WorkOrders');
  }

  /** The brand commits; terms (price, quantities) come in the transient map and only their hash reaches the channel. */
  @Transaction()
  @Returns('string')
  async CommitWorkOrder(
    ctx: Context,
    workOrderId: string,
    orderId: string,
    factoryMspId: string,
    termsHash: string,
  ): Promise<string> {
    const by = await requireOrgKind(ctx, OrgKinds.brand, 'CommitWorkOrder');
    const woId = id('workOrderId', workOrderId);
    const factory = id('factoryMspId', factoryMspId);
    const hash = hex('termsHash', termsHash, 32);
    if ((await orgKind(ctx, factory)) !== OrgKinds.factory) {
      fail(ErrorCodes.VALIDATION_FAILED, `${factory} is not a registered factory org`);
    }
    const terms = ctx.stub.getTransient().get(TRANSIENT_TERMS_KEY);
    if (!terms || terms.length === 0)
      fail(ErrorCodes.VALIDATION_FAILED, `transient map has no '${TRANSIENT_TERMS_KEY}'`);
    const actual = createHash('sha256').update(terms).digest('hex');
    if (actual !== hash) fail(ErrorCodes.VALIDATION_FAILED, `sha256 of the terms is ${actual}, not termsHash ${hash}`);

    const key = recordKey(ctx, KeyPrefixes.workOrder, woId);
    if (await readRecord(ctx, key)) fail(ErrorCodes.WORK_ORDER_EXISTS, `work order ${woId} already exists`);
    const record: WorkOrderRecord = {
      docType: 'workOrder',
      workOrderId: woId,
      orderId: id('orderId', orderId),
      brandMspId: by.mspId,
      factoryMspId: factory,
      termsHash: hash,
      termsCollection: Collections.brandFactoryTerms,
      status: WorkOrderStatuses.committed,
      committedAt: txTime(ctx),
      acceptedAt: null,
      milestones: [],
      revision: 1,
      committedTxId: ctx.stub.getTxID(),
    };
    await ctx.stub.putPrivateData(Collections.brandFactoryTerms, woId, terms);
    await ctx.stub.putState(recordKey(ctx, KeyPrefixes.workOrderByFactory, factory, woId), INDEX_VALUE);
    const written = await writeRecord(ctx, key, record, LedgerEvents.workOrderCommitted);
    // The order belongs to its two parties: every later change needs both their peers, and no one else's.
    await setRecordOwners(ctx, key, [record.brandMspId, record.factoryMspId]);
    return written;
  }

  @Transaction()
  @Returns('string')
  async AcceptWorkOrder(ctx: Context, workOrderId: string): Promise<string> {
    const by = caller(ctx);
    const wo = await this.#load(ctx, workOrderId);
    if (by.mspId !== wo.factoryMspId) {
      fail(ErrorCodes.ACCESS_DENIED, `only ${wo.factoryMspId} may accept work order ${wo.workOrderId}`);
    }
    if (wo.status !== WorkOrderStatuses.committed) {
      fail(
        ErrorCodes.INVALID_STATE,
        `work order ${wo.workOrderId} is ${wo.status}, not ${WorkOrderStatuses.committed}`,
      );
    }
    const next: WorkOrderRecord = {
      ...wo,
      status: WorkOrderStatuses.accepted,
      acceptedAt: txTime(ctx),
      revision: wo.revision + 1,
    };
    return writeRecord(
      ctx,
      recordKey(ctx, KeyPrefixes.workOrder, wo.workOrderId),
      next,
      LedgerEvents.workOrderAccepted,
    );
  }

  /** Milestones in order; the factory reports production, QC and shipping, the brand confirms delivery. */
  @Transaction()
  @Returns('string')
  async RecordMilestone(ctx: Context, workOrderId: string, milestone: string, evidenceJson: string): Promise<string> {
    const by = caller(ctx);
    const m = oneOf('milestone', milestone, Milestones);
    const evidence = jsonObject('evidenceJson', evidenceJson);
    const wo = await this.#load(ctx, workOrderId);
    const reporter = m === 'DELIVERED' ? wo.brandMspId : wo.factoryMspId;
    if (by.mspId !== reporter) fail(ErrorCodes.ACCESS_DENIED, `only ${reporter} may record ${m} on ${wo.workOrderId}`);
    if (wo.status !== PREVIOUS[m]) {
      fail(
        ErrorCodes.INVALID_STATE,
        `${m} needs work order ${wo.workOrderId} to be ${PREVIOUS[m]}; it is ${wo.status}`,
      );
    }
    const record: MilestoneRecord = {
      milestone: m,
      at: txTime(ctx),
      by: actor(by),
      txId: ctx.stub.getTxID(),
      evidence,
    };
    const next: WorkOrderRecord = {
      ...wo,
      status: m,
      milestones: [...wo.milestones, record],
      revision: wo.revision + 1,
    };
    return writeRecord(
      ctx,
      recordKey(ctx, KeyPrefixes.workOrder, wo.workOrderId),
      next,
      LedgerEvents.milestoneRecorded,
    );
  }

  /**
   * The factory starts production under GS1 lots: the work order records them once, while accepted and before
   * any milestone, so every unit's serial and lot traces back to this record (a later call is refused).
   */
  @Transaction()
  @Returns('string')
  async StartProduction(ctx: Context, workOrderId: string, lotsJson: string): Promise<string> {
    const by = caller(ctx);
    const wo = await this.#load(ctx, workOrderId);
    if (by.mspId !== wo.factoryMspId) {
      fail(ErrorCodes.ACCESS_DENIED, `only ${wo.factoryMspId} may start work order ${wo.workOrderId}`);
    }
    if (wo.status !== WorkOrderStatuses.accepted) {
      fail(ErrorCodes.INVALID_STATE, `work order ${wo.workOrderId} is ${wo.status}, not ${WorkOrderStatuses.accepted}`);
    }
    if (wo.lots && wo.lots.length > 0) {
      fail(ErrorCodes.INVALID_STATE, `work order ${wo.workOrderId} already started production`);
    }
    const next: WorkOrderRecord = {
      ...wo,
      lots: lotRecords(lotsJson),
      startedAt: txTime(ctx),
      revision: wo.revision + 1,
    };
    return writeRecord(
      ctx,
      recordKey(ctx, KeyPrefixes.workOrder, wo.workOrderId),
      next,
      LedgerEvents.productionStarted,
    );
  }

  @Transaction(false)
  @Returns('string')
  async ReadWorkOrder(ctx: Context, workOrderId: string): Promise<string> {
    return canonicalJson(await this.#load(ctx, workOrderId));
  }

  /**
   * The private terms, for the two parties only. Runs on the caller's own
   * peer, which holds the collection only if its org is a member.
   */
  @Transaction(false)
  @Returns('string')
  async ReadWorkOrderTerms(ctx: Context, workOrderId: string): Promise<string> {
    const by = caller(ctx);
    const wo = await this.#load(ctx, workOrderId);
    if (by.mspId !== wo.brandMspId && by.mspId !== wo.factoryMspId) {
      fail(ErrorCodes.ACCESS_DENIED, `${by.mspId} is not a party to work order ${wo.workOrderId}`);
    }
    const terms = await ctx.stub.getPrivateData(wo.termsCollection, wo.workOrderId);
    if (!terms || terms.length === 0) fail(ErrorCodes.NOT_FOUND, `terms of ${wo.workOrderId} are not on this peer`);
    return Buffer.from(terms).toString('utf8');
  }

  /** Work orders of one factory via the composite-key index, paginated with Fabric bookmarks. */
  @Transaction(false)
  @Returns('string')
  async ListWorkOrdersByFactory(
    ctx: Context,
    factoryMspId: string,
    pageSize: string,
    bookmark: string,
  ): Promise<string> {
    const by = caller(ctx);
    const factory = id('factoryMspId', factoryMspId);
    const kind = await orgKind(ctx, by.mspId);
    // Volumes are commercial information: the factory itself, the platform and brands (who see only their own) may list.
    if (by.mspId !== factory && by.mspId !== Orgs.platform && kind !== OrgKinds.brand) {
      fail(ErrorCodes.ACCESS_DENIED, `${by.mspId} may not list work orders of ${factory}`);
    }
    const size = positiveInt('pageSize', pageSize, MAX_PAGE);
    const query = await ctx.stub.getStateByPartialCompositeKeyWithPagination(
      KeyPrefixes.workOrderByFactory,
      [factory],
      size,
      bookmark ?? '',
    );
    return indexPage<WorkOrderRecord>(
      ctx,
      query,
      (key) => recordKey(ctx, KeyPrefixes.workOrder, ctx.stub.splitCompositeKey(key).attributes[1] ?? ''),
      (wo) => kind !== OrgKinds.brand || wo.brandMspId === by.mspId,
    );
  }

  async #load(ctx: Context, workOrderId: string): Promise<WorkOrderRecord> {
    const wo = await readRecord<WorkOrderRecord>(
      ctx,
      recordKey(ctx, KeyPrefixes.workOrder, id('workOrderId', workOrderId)),
    );
    if (!wo) fail(ErrorCodes.WORK_ORDER_NOT_FOUND, `work order ${workOrderId} not found`);
    return wo;
  }
}
