import type { RecallOpening, RecallRecord, RecallStatus } from '@c2m/network';
import type { Milestone } from '@c2m/shared';
/**
 * The services' one door to the ledger. Every call names the platform user it
 * acts for; the user's ledger identity (its org's MSP, its role attribute)
 * signs the proposal, so the chaincode's access control sees the real caller.
 * Built on the typed contract facades of @c2m/network; no chaincode function
 * name appears here.
 */
export interface TxRef {
  readonly txId: string;
  readonly blockNumber: number;
}

export interface LedgerDevice {
  readonly deviceId: string;
  readonly factoryMspId: string;
  readonly model: string;
  readonly serial: string;
  readonly line: string;
  readonly certificateFingerprint: string;
  readonly publicKeyPem: string;
  readonly status: string;
  readonly validUntil?: string;
  readonly [extra: string]: unknown;
}

export interface LedgerCertificationAnswer {
  readonly deviceId: string;
  readonly at: string;
  readonly certified: boolean;
  readonly status: string | null;
  readonly validUntil: string | null;
}

export interface LedgerDeviceHistoryEntry {
  readonly txId: string;
  readonly timestamp: string;
  readonly isDelete: boolean;
  readonly record: LedgerDevice | null;
}

export interface LedgerWorkOrder {
  readonly workOrderId: string;
  readonly status: string;
  readonly acceptedTxId?: string;
  readonly acceptedBlock?: number;
  readonly [extra: string]: unknown;
}

export interface LedgerAnchor {
  readonly batchId: string;
  readonly factoryMspId: string;
  readonly merkleRoot: string;
  readonly eventCount: number;
  readonly [extra: string]: unknown;
}

/** An anchor as the chaincode holds it (listings). */
export interface LedgerAnchorRecord {
  readonly batchId: string;
  readonly factoryMspId: string;
  readonly merkleRoot: string;
  readonly eventCount: number;
  readonly firstEventTime: string;
  readonly lastEventTime: string;
  readonly anchoredAt: string;
  readonly anchoredBy: { readonly mspId: string; readonly cn: string };
  readonly txId: string;
}

export interface LedgerAccess {
  registerDevice(
    username: string,
    device: {
      deviceId: string;
      model: string;
      serial: string;
      line: string;
      certificateFingerprint: string;
      publicKeyPem: string;
    },
  ): Promise<TxRef>;
  /** `proof`: the device's signature over a challenge; the chaincode verifies it against the ledger key. */
  certifyDevice(
    username: string,
    deviceId: string,
    certification: { validUntil: string; note: string; proof: { challenge: string; signature: string } },
  ): Promise<TxRef>;
  suspendDevice(username: string, deviceId: string, note: string): Promise<TxRef>;
  reactivateDevice(username: string, deviceId: string, note: string): Promise<TxRef>;
  revokeDevice(username: string, deviceId: string, note: string): Promise<TxRef>;
  /** By the owning factory: the device returns to REGISTERED with the new key. */
  rotateDeviceKey(
    username: string,
    deviceId: string,
    rotation: { certificateFingerprint: string; publicKeyPem: string; note: string },
  ): Promise<TxRef>;
  /** The chaincode's answer from the device's ledger history. */
  deviceCertifiedAt(username: string, deviceId: string, time: string): Promise<LedgerCertificationAnswer>;
  readDevice(username: string, deviceId: string): Promise<LedgerDevice>;
  deviceHistory(username: string, deviceId: string): Promise<LedgerDeviceHistoryEntry[]>;
  commitWorkOrder(
    username: string,
    workOrder: { workOrderId: string; orderId: string; factoryMspId: string; termsHash: string },
    terms: unknown,
  ): Promise<TxRef>;
  acceptWorkOrder(username: string, workOrderId: string): Promise<TxRef>;
  readWorkOrder(username: string, workOrderId: string): Promise<LedgerWorkOrder>;
  /** PRODUCED, QC_PASSED, SHIPPED by the work order's factory; DELIVERED by its brand; in that order. */
  recordMilestone(
    username: string,
    workOrderId: string,
    milestone: Milestone,
    evidence: Record<string, unknown>,
  ): Promise<TxRef>;
  /** By the work order's factory, once, while accepted: the lots its units carry. */
  startProduction(
    username: string,
    workOrderId: string,
    lots: readonly { gtin: string; lot: string; quantity: number; serialFrom: number; serialTo: number }[],
  ): Promise<TxRef>;
  anchorBatch(
    username: string,
    anchor: {
      batchId: string;
      factoryMspId: string;
      merkleRoot: string;
      eventCount: number;
      firstEventTime: string;
      lastEventTime: string;
      /** Per work order: events, units, QC passes and failures (committed in the anchor record). */
      totals?: Readonly<Record<string, { events: number; units: number; qcPass: number; qcFail: number }>>;
    },
  ): Promise<TxRef>;
  readAnchor(username: string, batchId: string): Promise<LedgerAnchor>;
  /** By a brand user: a recall of its own work orders' lots (chaincode Recalls:OpenRecall). */
  openRecall(username: string, recall: RecallOpening): Promise<TxRef & { record: RecallRecord }>;
  updateRecall(
    username: string,
    recallId: string,
    status: RecallStatus,
    note: string,
  ): Promise<TxRef & { record: RecallRecord }>;
  readRecall(username: string, recallId: string): Promise<RecallRecord>;
  /** The recalls the ledger holds for a lot, read as the user. */
  recallsByLot(username: string, gtin: string, lot: string): Promise<RecallRecord[]>;
  /** The factory's anchors whose last event lies in [from, to), oldest first, asked of the chaincode as the user. */
  listAnchorsByTime(
    username: string,
    factoryMspId: string,
    window: { readonly from: string; readonly to: string },
    page: { readonly pageSize: number; readonly bookmark?: string },
  ): Promise<{ records: LedgerAnchorRecord[]; bookmark: string }>;
}
