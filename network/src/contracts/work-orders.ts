import { createHash } from 'node:crypto';
import type { LotRecord, WorkOrderRecord } from '@c2m/chaincode';
import { canonicalJson, type Ledger, type LedgerIdentity, type Milestone, Orgs } from '@c2m/shared';
import { type Committed, evaluateJson, type Paged, type PageOptions, pageArgs, submitCommitted } from './submit.js';

export interface WorkOrderCommitment {
  readonly workOrderId: string;
  readonly orderId: string;
  readonly factoryMspId: string;
  /** Price, quantities...: sent in the transient map, stored only in the private collection. Objects are canonicalised. */
  readonly terms: string | Uint8Array | Record<string, unknown>;
}

export interface WorkOrdersContract {
  /** By a brand org. Returns the record and the terms hash written on the channel. */
  commitWorkOrder(input: WorkOrderCommitment): Promise<Committed<WorkOrderRecord>>;
  /** By the work order's factory only. */
  acceptWorkOrder(workOrderId: string): Promise<Committed<WorkOrderRecord>>;
  recordMilestone(
    workOrderId: string,
    milestone: Milestone,
    evidence: Record<string, unknown>,
  ): Promise<Committed<WorkOrderRecord>>;
  /** By the work order's factory, once, while accepted: the GS1 lots (and serial ranges) it produces under. */
  startProduction(workOrderId: string, lots: readonly LotRecord[]): Promise<Committed<WorkOrderRecord>>;
  readWorkOrder(workOrderId: string): Promise<WorkOrderRecord>;
  /** The private terms as stored (the brand and the factory only, on their own peer). */
  readTerms(workOrderId: string): Promise<string>;
  listByFactory(factoryMspId: string, page?: PageOptions): Promise<Paged<WorkOrderRecord>>;
}

/** The bytes whose sha256 goes on the channel; a party holding the terms can re-hash them to prove them. */
export function termsBytes(terms: WorkOrderCommitment['terms']): Buffer {
  if (typeof terms === 'string') return Buffer.from(terms, 'utf8');
  if (terms instanceof Uint8Array) return Buffer.from(terms);
  return Buffer.from(canonicalJson(terms), 'utf8');
}

export function termsHash(terms: WorkOrderCommitment['terms']): string {
  return createHash('sha256').update(termsBytes(terms)).digest('hex');
}

export function workOrdersContract(ledger: Ledger, identity: LedgerIdentity): WorkOrdersContract {
  return {
    commitWorkOrder: (w) =>
      submitCommitted(ledger, identity, 'WorkOrders:CommitWorkOrder', {
        arguments: [w.workOrderId, w.orderId, w.factoryMspId, termsHash(w.terms)],
        transientData: { terms: termsBytes(w.terms) },
        // Named, because the Gateway will not pick endorsers for transient data when the policy needs a peer
        // outside the terms' collection (PlatformOrg): the brand's own peer (a member) and the platform's,
        // which sees the terms while endorsing but does not store them (network/README.md).
        endorsingOrganizations: [...new Set([Orgs.platform, identity.mspId])],
      }),
    acceptWorkOrder: (workOrderId) =>
      submitCommitted(ledger, identity, 'WorkOrders:AcceptWorkOrder', { arguments: [workOrderId] }),
    recordMilestone: (workOrderId, milestone, evidence) =>
      submitCommitted(ledger, identity, 'WorkOrders:RecordMilestone', {
        arguments: [workOrderId, milestone, canonicalJson(evidence)],
      }),
    startProduction: (workOrderId, lots) =>
      submitCommitted(ledger, identity, 'WorkOrders:StartProduction', {
        arguments: [workOrderId, canonicalJson(lots)],
      }),
    readWorkOrder: (workOrderId) => evaluateJson(ledger, identity, 'WorkOrders:ReadWorkOrder', [workOrderId]),
    readTerms: async (workOrderId) =>
      Buffer.from(
        await ledger.evaluate(identity, 'WorkOrders:ReadWorkOrderTerms', { arguments: [workOrderId] }),
      ).toString('utf8'),
    listByFactory: (factoryMspId, page) =>
      evaluateJson(ledger, identity, 'WorkOrders:ListWorkOrdersByFactory', [factoryMspId, ...pageArgs(page)]),
  };
}
