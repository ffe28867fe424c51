/**
 * The proof bundle (version 2) as the offline verifier reads it. The services
 * describe the same shape with a TypeBox schema (services/src/trace/proof-bundle.ts),
 * checked against this type at compile time.
 */
import type { BlockProof } from './ledger-proof.js';

/** Per-work-order totals of one anchored batch, committed in its anchor record on the ledger. */
export interface BatchTotals {
  readonly events: number;
  readonly units: number;
  readonly qcPass: number;
  readonly qcFail: number;
}

export interface BundleEvent {
  /** The exact canonical JSON the device signed. */
  readonly message: string;
  /** ES256 r‖s, base64url. */
  readonly sig: string;
  readonly leafHash: string;
  readonly batchId: string;
  readonly proof: { readonly position: 'left' | 'right'; readonly hash: string }[];
}

/**
 * An EPCIS event with what proves it: the signed message (shared/src/proof/epcis-message.ts), its signer's
 * certificate and signature, and the Merkle path of its leaf to its batch's anchored root. A device-derived
 * event's source device messages are in the bundle's `events`, checked like every device message.
 */
export interface BundleEpcisEvent {
  /** The exact canonical JSON signed and hashed into the leaf. */
  readonly message: string;
  /** ECDSA P-256 over SHA-256(message), DER, base64. */
  readonly signature: string;
  /** The signer's X.509 certificate (PEM), issued by the CA of the message's `signer.mspId`. */
  readonly signerCertificate: string;
  readonly leafHash: string;
  readonly batchId: string;
  readonly proof: { readonly position: 'left' | 'right'; readonly hash: string }[];
}

export interface BundleAnchor {
  readonly batchId: string;
  readonly factoryMspId: string;
  readonly merkleRoot: string;
  readonly eventCount: number;
  readonly txId: string;
  readonly blockNumber: number;
  readonly blockHash: string;
  /** By work order; absent on anchors written before totals were committed. */
  readonly totals?: Readonly<Record<string, BatchTotals>>;
}

export interface BundleDeviceState {
  readonly from: string;
  readonly status: string;
  readonly validUntil?: string;
  readonly publicKeyPem?: string;
  readonly certificateFingerprint?: string;
}

export interface BundleDevice {
  readonly certificatePem: string;
  readonly factoryMspId: string;
  readonly certificateFingerprint: string;
  /** The key in force now. */
  readonly publicKeyPem: string;
  /** Every certificate the device held, by fingerprint. */
  readonly certificates: Readonly<Record<string, string>>;
  readonly states: BundleDeviceState[];
  /** The transactions that wrote the device's record, oldest first (revision 1, 2, …). */
  readonly ledgerTxIds: string[];
}

export interface BundleTransaction {
  /** The committed Envelope protobuf, base64. */
  readonly envelope: string;
  readonly blockNumber: number;
  readonly txIndex: number;
}

export interface ProofBundleV2 {
  readonly version: 2;
  /** When the bundle was assembled: informational, covered by nothing (see the verifier). */
  readonly generatedAt: string;
  /** Null in a bundle that proves EPCIS events only (a shipment's event need not belong to a work order). */
  readonly workOrder: {
    readonly id: string;
    readonly orderId: string;
    readonly brandMspId: string;
    readonly factoryMspId: string;
    /** Part of the private terms: the ledger holds only `termsHash`, so the verifier cannot check it. */
    readonly quantity: number;
    readonly termsHash: string;
    readonly ledger: { readonly txId: string; readonly blockNumber: number } | null;
    /** The transactions that wrote the record up to `ledger.txId` (commit, acceptance), revision 1, 2, … */
    readonly ledgerTxIds: string[];
  } | null;
  /** Full events with Merkle paths: a page, one batch, or a sample; a summary bundle may hold none. */
  readonly events: BundleEvent[];
  /** EPCIS events with their proofs (absent in work-order bundles made before EPCIS, and in those without any). */
  readonly epcisEvents?: BundleEpcisEvent[];
  readonly anchors: Readonly<Record<string, BundleAnchor>>;
  readonly devices: Readonly<Record<string, BundleDevice>>;
  readonly transactions: Readonly<Record<string, BundleTransaction>>;
  /** By block number. */
  readonly blocks: Readonly<Record<string, BlockProof>>;
  /** The CAs and policy the platform used; a verifier must pin its own, and they must agree. */
  readonly caCertificates: Readonly<Record<string, string>>;
  readonly endorsementPolicy: string;
  /** Seam for the public EVM checkpoint (supply-chain finance issue): not produced yet. */
  readonly publicCheckpoint?: unknown;
}

export interface ProofCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface BundleVerification {
  readonly valid: boolean;
  readonly checks: readonly ProofCheck[];
  /** Sums of the proven anchors' totals for this work order (anchors without totals are not counted). */
  readonly totals: BatchTotals & { readonly batches: number; readonly batchesWithoutTotals: number };
}
