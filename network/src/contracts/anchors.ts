import type { AnchorRecord, BatchTotals } from '@c2m/chaincode';
import { type Ledger, type LedgerIdentity, Orgs } from '@c2m/shared';
import {
  type Committed,
  evaluateJson,
  isoString,
  type Paged,
  type PageOptions,
  pageArgs,
  submitCommitted,
} from './submit.js';

export interface BatchAnchor {
  readonly batchId: string;
  readonly factoryMspId: string;
  readonly merkleRootHex: string;
  readonly eventCount: number;
  readonly firstEventTime: string | Date;
  readonly lastEventTime: string | Date;
  /** Per work order (events, units, QC passes and failures), committed in the anchor record. */
  readonly totals?: Readonly<Record<string, BatchTotals>>;
}

export interface AnchorsContract {
  /** PlatformOrg admin; endorsed by the platform and the factory whose events are anchored. Refuses a second anchor (ANCHOR_EXISTS). */
  anchorBatch(input: BatchAnchor): Promise<Committed<AnchorRecord>>;
  readAnchor(batchId: string): Promise<AnchorRecord>;
  listByFactory(factoryMspId: string, page?: PageOptions): Promise<Paged<AnchorRecord>>;
  /** The factory's anchors whose last event lies in [from, to), oldest first. */
  listByFactoryAndTime(
    factoryMspId: string,
    window: { readonly from: string | Date; readonly to: string | Date },
    page?: PageOptions,
  ): Promise<Paged<AnchorRecord>>;
}

export function anchorsContract(ledger: Ledger, identity: LedgerIdentity): AnchorsContract {
  return {
    anchorBatch: (a) =>
      submitCommitted(ledger, identity, 'Anchors:AnchorBatch', {
        arguments: [
          a.batchId,
          a.factoryMspId,
          a.merkleRootHex,
          String(a.eventCount),
          isoString(a.firstEventTime),
          isoString(a.lastEventTime),
          a.totals ? JSON.stringify(a.totals) : '',
        ],
        endorsingOrganizations: [Orgs.platform, a.factoryMspId],
      }),
    readAnchor: (batchId) => evaluateJson(ledger, identity, 'Anchors:ReadAnchor', [batchId]),
    listByFactory: (factoryMspId, page) =>
      evaluateJson(ledger, identity, 'Anchors:ListAnchorsByFactory', [factoryMspId, ...pageArgs(page)]),
    listByFactoryAndTime: (factoryMspId, window, page) =>
      evaluateJson(ledger, identity, 'Anchors:ListAnchorsByFactoryAndTime', [
        factoryMspId,
        isoString(window.from),
        isoString(window.to),
        ...pageArgs(page),
      ]),
  };
}
