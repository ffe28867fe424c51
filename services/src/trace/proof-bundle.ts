import type { MerkleStep } from './merkle.js';

/**
 * A proof bundle: everything a financier, a brand or a consumer needs to check
 * a work order's production record without trusting our servers. Built by
 * `buildProofBundle`, checked by `verifyProofBundle` (trace/verify-bundle.ts),
 * which needs only this data, pinned CA certificates and, optionally, a ledger
 * to confirm the anchor transactions.
 */
export interface ProofBundle {
  readonly version: 1;
  readonly generatedAt: string;
  readonly workOrder: {
    readonly id: string;
    readonly orderId: string;
    readonly brandMspId: string;
    readonly factoryMspId: string;
    readonly quantity: number;
    readonly termsHash: string;
    readonly ledger: { readonly txId: string; readonly blockNumber: number } | null;
  };
  readonly events: readonly {
    /** The exact bytes the device signed (canonical JSON). */
    readonly message: string;
    /** ES256 signature, r||s base64url. */
    readonly sig: string;
    readonly leafHash: string;
    readonly batchId: string;
    readonly proof: readonly MerkleStep[];
  }[];
  readonly anchors: Readonly<
    Record<
      string,
      {
        readonly batchId: string;
        readonly factoryMspId: string;
        readonly merkleRoot: string;
        readonly eventCount: number;
        readonly txId: string;
        readonly blockNumber: number;
        readonly blockHash?: string;
      }
    >
  >;
  readonly devices: Readonly<
    Record<
      string,
      {
        readonly certificatePem: string;
        readonly factoryMspId: string;
        readonly certificateFingerprint: string;
        readonly publicKeyPem: string;
        /** Ledger states of the device, oldest first (from its history). */
        readonly states: readonly { readonly from: string; readonly status: string; readonly validUntil?: string }[];
      }
    >
  >;
  readonly caCertificates: Readonly<Record<string, string>>;
}
