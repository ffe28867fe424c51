import { canonicalJson, LedgerEvents, OrgKinds, Orgs, Roles } from '@c2m/shared';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { type Actor, actor, caller, orgKind, requirePlatformRole } from '../lib/access.js';
import { setRecordOwners } from '../lib/endorsement.js';
import { ErrorCodes, fail } from '../lib/errors.js';
import { KeyPrefixes, recordKey, TimeIndexes, timeIndexKey } from '../lib/keys.js';
import { INDEX_VALUE, readRecord, writeRecord } from '../lib/marshal.js';
import { indexPage } from '../lib/pages.js';
import { txTime } from '../lib/time.js';
import { batchTotals } from '../lib/totals.js';
import { hex, id, isoTime, positiveInt } from '../lib/validate.js';

export interface AnchorRecord {
  readonly docType: 'anchor';
  readonly batchId: string;
  readonly factoryMspId: string;
  readonly merkleRootHex: string;
  readonly eventCount: number;
  readonly firstEventTime: string;
  readonly lastEventTime: string;
  readonly anchoredAt: string;
  readonly anchoredBy: Actor;
  readonly txId: string;
  /**
   * Per work order: events, units produced and QC passes/failures in the batch, so a financier proves a work
   * order's production from its anchors alone. Absent on anchors written before totals existed.
   */
  readonly totals?: Readonly<Record<string, BatchTotals>>;
}

export interface BatchTotals {
  readonly events: number;
  readonly units: number;
  readonly qcPass: number;
  readonly qcFail: number;
}

const MAX_PAGE = 200;

@Info({ title: 'Anchors', description: 'Merkle roots of batches of device messages and EPCIS events' })
export class AnchorsContract extends Contract {
  constructor() {
    super('Anchors');
  }

  @Transaction()
  @Returns('string')
  async AnchorBatch(
    ctx: Context,
    batchId: string,
    factoryMspId: string,
    merkleRootHex: string,
    eventCount: string,
    firstEventTime: string,
    lastEventTime: string,
    totalsJson: string,
  ): Promise<string> {
    const by = requirePlatformRole(ctx, Roles.admin, 'AnchorBatch');
    const eventTotal = positiveInt('eventCount', eventCount);
    // Optional for callers of the six-argument form: '' (or absent) writes no totals.
    const totals = totalsJson ? batchTotals('totalsJson', totalsJson, eventTotal) : undefined;
    const record: AnchorRecord = {
      docType: 'anchor',
      batchId: id('batchId', batchId),
      factoryMspId: id('factoryMspId', factoryMspId),
      merkleRootHex: hex('merkleRootHex', merkleRootHex, 32),
      eventCount: eventTotal,
      firstEventTime: isoTime('firstEventTime', firstEventTime),
      lastEventTime: isoTime('lastEventTime', lastEventTime),
      anchoredAt: txTime(ctx),
      anchoredBy: actor(by),
      txId: ctx.stub.getTxID(),
      ...(totals ? { totals } : {}),
    };
    if (record.firstEventTime > record.lastEventTime) {
      fail(ErrorCodes.VALIDATION_FAILED, 'firstEventTime is after lastEventTime');
    }
    // A batch is one org's: a factory's device messages and EPCIS events, or the EPCIS events a brand (or any
    // other registered org) captured. Totals count device production, so only a factory's batch carries them.
    const kind = await orgKind(ctx, record.factoryMspId);
    if (kind === undefined) fail(ErrorCodes.VALIDATION_FAILED, `${record.factoryMspId} is not a registered org`);
    if (kind !== OrgKinds.factory && Object.keys(totals ?? {}).length > 0) {
      fail(ErrorCodes.VALIDATION_FAILED, `${record.factoryMspId} is not a factory: its batches carry no totals`);
    }
    // A factory's devices write only into its own work orders: totals for another factory's work order are
    // refused here too. The factory's index key never changes once written, so this adds no contention; the
    // work order's record is read only when that key is missing (not on the ledger yet, or another factory's).
    for (const workOrderId of Object.keys(totals ?? {})) {
      const mine = await ctx.stub.getState(
        recordKey(ctx, KeyPrefixes.workOrderByFactory, record.factoryMspId, workOrderId),
      );
      if (mine && mine.length > 0) continue;
      const other = await readRecord<{ factoryMspId: string }>(ctx, recordKey(ctx, KeyPrefixes.workOrder, workOrderId));
      if (other && other.factoryMspId !== record.factoryMspId) {
        fail(
          ErrorCodes.ACCESS_DENIED,
          `work order ${workOrderId} is ${other.factoryMspId}'s, not ${record.factoryMspId}'s`,
        );
      }
    }
    const key = recordKey(ctx, KeyPrefixes.anchor, record.batchId);
    if (await readRecord(ctx, key)) fail(ErrorCodes.ANCHOR_EXISTS, `batch ${record.batchId} is already anchored`);
    await ctx.stub.putState(
      recordKey(ctx, KeyPrefixes.anchorByFactory, record.factoryMspId, record.batchId),
      INDEX_VALUE,
    );
    await ctx.stub.putState(
      timeIndexKey(TimeIndexes.anchorByFactoryTime, record.factoryMspId, record.lastEventTime, record.batchId),
      INDEX_VALUE,
    );
    const written = await writeRecord(ctx, key, record, LedgerEvents.batchAnchored);
    // An anchor is evidence for the platform and the factory alike: neither can rewrite it without the other.
    await setRecordOwners(ctx, key, [Orgs.platform, record.factoryMspId]);
    return written;
  }

  /** Public: a verifier with a proof bundle needs the anchor without being a consortium insider. */
  @Transaction(false)
  @Returns('string')
  async ReadAnchor(ctx: Context, batchId: string): Promise<string> {
    const anchor = await readRecord<AnchorRecord>(ctx, recordKey(ctx, KeyPrefixes.anchor, id('batchId', batchId)));
    if (!anchor) fail(ErrorCodes.ANCHOR_NOT_FOUND, `batch ${batchId} is not anchored`);
    return canonicalJson(anchor);
  }

  /**
   * A factory's anchors whose last event lies in [from, to), oldest first: each batch falls in exactly one of a
   * run of consecutive windows, so a financier can page through a quarter without gaps or double counting.
   * Who may ask: as for ListAnchorsByFactory.
   */
  @Transaction(false)
  @Returns('string')
  async ListAnchorsByFactoryAndTime(
    ctx: Context,
    factoryMspId: string,
    from: string,
    to: string,
    pageSize: string,
    bookmark: string,
  ): Promise<string> {
    const factory = await readableFactory(ctx, factoryMspId);
    const start = isoTime('from', from);
    const end = isoTime('to', to);
    if (start >= end) fail(ErrorCodes.VALIDATION_FAILED, `from ${start} is not before to ${end}`);
    const size = positiveInt('pageSize', pageSize, MAX_PAGE);
    const query = await ctx.stub.getStateByRangeWithPagination(
      timeIndexKey(TimeIndexes.anchorByFactoryTime, factory, start),
      timeIndexKey(TimeIndexes.anchorByFactoryTime, factory, end),
      size,
      bookmark ?? '',
    );
    // prefix|factory|time|batchId
    return indexPage<AnchorRecord>(ctx, query, (key) => recordKey(ctx, KeyPrefixes.anchor, key.split('|')[3] ?? ''));
  }

  @Transaction(false)
  @Returns('string')
  async ListAnchorsByFactory(ctx: Context, factoryMspId: string, pageSize: string, bookmark: string): Promise<string> {
    const factory = await readableFactory(ctx, factoryMspId);
    const size = positiveInt('pageSize', pageSize, MAX_PAGE);
    const query = await ctx.stub.getStateByPartialCompositeKeyWithPagination(
      KeyPrefixes.anchorByFactory,
      [factory],
      size,
      bookmark ?? '',
    );
    return indexPage<AnchorRecord>(ctx, query, (key) =>
      recordKey(ctx, KeyPrefixes.anchor, ctx.stub.splitCompositeKey(key).attributes[1] ?? ''),
    );
  }
}

/** The factory whose anchors the caller asks for; the factory itself, the platform and consortium members may list them. */
async function readableFactory(ctx: Context, factoryMspId: string): Promise<string> {
  const factory = id('factoryMspId', factoryMspId);
  const by = caller(ctx);
  if (by.mspId !== factory && by.mspId !== Orgs.platform && (await orgKind(ctx, by.mspId)) === undefined) {
    fail(ErrorCodes.ACCESS_DENIED, `${by.mspId} is not a consortium member`);
  }
  return factory;
}
