import type { RecallRecord, RecallScope, RecallStatus } from '@c2m/chaincode';
import { canonicalJson, type Ledger, type LedgerIdentity, Orgs } from '@c2m/shared';
import { type Committed, evaluateJson, submitCommitted } from './submit.js';

export interface RecallOpening {
  readonly recallId: string;
  /** sha256 (hex) of the full scope document the platform exports. */
  readonly scopeHash: string;
  readonly scope: RecallScope;
  readonly reason: string;
}

export interface RecallsContract {
  /** By a brand org, for its own work orders and their lots only. */
  openRecall(input: RecallOpening): Promise<Committed<RecallRecord>>;
  /** By the recall's brand: NOTIFIED, RETURNED, DESTROYED, CLOSED, forward only. */
  updateRecall(recallId: string, status: RecallStatus, note: string): Promise<Committed<RecallRecord>>;
  readRecall(recallId: string): Promise<RecallRecord>;
  listByLot(gtin: string, lot: string): Promise<RecallRecord[]>;
}

export function recallsContract(ledger: Ledger, identity: LedgerIdentity): RecallsContract {
  // A recall belongs to its brand and the platform (key-level policy set at OpenRecall): both endorse.
  const endorsingOrganizations = [...new Set([Orgs.platform, identity.mspId])];
  return {
    openRecall: (r) =>
      submitCommitted(ledger, identity, 'Recalls:OpenRecall', {
        arguments: [r.recallId, r.scopeHash, canonicalJson(r.scope), r.reason],
        endorsingOrganizations,
      }),
    updateRecall: (recallId, status, note) =>
      submitCommitted(ledger, identity, 'Recalls:UpdateRecall', {
        arguments: [recallId, status, note],
        endorsingOrganizations,
      }),
    readRecall: (recallId) => evaluateJson(ledger, identity, 'Recalls:ReadRecall', [recallId]),
    listByLot: (gtin, lot) => evaluateJson(ledger, identity, 'Recalls:ListRecallsByLot', [gtin, lot]),
  };
}
