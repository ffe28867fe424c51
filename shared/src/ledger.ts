import type { TransactionProof } from './proof/ledger-proof.js';

/**
 * The ledger interface every part of the platform talks to. The embedded
 * engine (`@c2m/network`, LEDGER=embedded) and the Fabric Gateway client
 * (LEDGER=fabric) both implement it; typed contract facades sit on top.
 */

/** Signs a digest (SHA-256 of the message) and returns a DER ECDSA signature; an HSM can stand in. */
export type Signer = (digest: Uint8Array) => Promise<Uint8Array>;

/**
 * Signs a whole message (ECDSA P-256 over its SHA-256, DER, low S). Same signature as `sign(sha256(message))`;
 * offered by identities that hold their key in process, because node:crypto signs a message many times faster
 * than a pure-JS signer signs a digest.
 */
export type MessageSigner = (message: Uint8Array) => Promise<Uint8Array>;

/** A client identity: MSP id, X.509 certificate (PEM) and a signer for its private key. */
export interface LedgerIdentity {
  readonly mspId: string;
  readonly certificatePem: string;
  readonly sign: Signer;
  /** Optional fast path: ledgers use it, when present, for signatures over messages they hold in full. */
  readonly signMessage?: MessageSigner;
}

/** Fabric's transaction validation codes (peer.TxValidationCode), the ones we produce. */
export const TxValidationCodes = {
  VALID: 'VALID',
  MVCC_READ_CONFLICT: 'MVCC_READ_CONFLICT',
  ENDORSEMENT_POLICY_FAILURE: 'ENDORSEMENT_POLICY_FAILURE',
  BAD_CREATOR_SIGNATURE: 'BAD_CREATOR_SIGNATURE',
  INVALID_ENDORSER_TRANSACTION: 'INVALID_ENDORSER_TRANSACTION',
  DUPLICATE_TXID: 'DUPLICATE_TXID',
  PHANTOM_READ_CONFLICT: 'PHANTOM_READ_CONFLICT',
} as const;
export type TxValidationCode = (typeof TxValidationCodes)[keyof typeof TxValidationCodes];

export interface ProposalOptions {
  /** Transaction arguments after the function name. */
  readonly arguments?: readonly (string | Uint8Array)[];
  /** Private inputs (Fabric transient map): never written to the block. */
  readonly transientData?: Readonly<Record<string, string | Uint8Array>>;
  /** Orgs whose peers must endorse; defaults to what the chaincode policy needs. */
  readonly endorsingOrganizations?: readonly string[];
}

export interface SubmittedTransaction {
  readonly txId: string;
  readonly blockNumber: number;
  readonly txIndex: number;
  /** Chaincode return payload. */
  readonly result: Uint8Array;
  /** ISO timestamp of the proposal (the stub's tx timestamp). */
  readonly timestamp: string;
}

export interface ChaincodeEvent {
  readonly blockNumber: number;
  readonly txId: string;
  readonly chaincodeName: string;
  readonly eventName: string;
  readonly payload: Uint8Array;
}

/** Where to resume reading events: the next block and the tx id last processed within it. */
export interface LedgerCheckpoint {
  readonly blockNumber: number;
  readonly transactionId?: string;
}

export interface BlockSummary {
  readonly number: number;
  readonly hash: string;
  readonly previousHash: string;
  readonly dataHash: string;
  readonly transactions: readonly {
    readonly txId: string;
    readonly validationCode: TxValidationCode;
    readonly creatorMspId: string;
    readonly function: string;
    readonly timestamp: string;
  }[];
}

export interface TransactionInfo {
  readonly txId: string;
  readonly blockNumber: number;
  readonly txIndex: number;
  readonly validationCode: TxValidationCode;
  readonly blockHash: string;
  readonly creatorMspId: string;
  readonly timestamp: string;
}

export interface Ledger {
  readonly kind: 'embedded' | 'fabric';
  readonly channel: string;
  readonly chaincode: string;
  /** Endorse, order and wait for commit. Rejects with a typed ledger error (code + txId). */
  submit(identity: LedgerIdentity, transaction: string, options?: ProposalOptions): Promise<SubmittedTransaction>;
  /** Query on one peer without ordering. */
  evaluate(identity: LedgerIdentity, transaction: string, options?: ProposalOptions): Promise<Uint8Array>;
  /** Number of committed blocks (the next block number). */
  height(): Promise<number>;
  block(blockNumber: number): Promise<BlockSummary>;
  transaction(txId: string): Promise<TransactionInfo | undefined>;
  /**
   * What an offline verifier needs to prove the transaction committed VALID without any server: the committed
   * envelope, its block's header and inclusion data, validation codes and the orderer's signature
   * (shared/src/proof/ledger-proof.ts). Undefined for an unknown txId or a block written before blocks were signed.
   * Optional until the Fabric client implements it (it has the same material: the block's data list and the
   * SIGNATURES metadata).
   */
  transactionProof?(txId: string): Promise<TransactionProof | undefined>;
  /** Chaincode events of VALID transactions from a checkpoint on, in block order. */
  listen(
    checkpoint: LedgerCheckpoint,
    onEvent: (event: ChaincodeEvent) => Promise<void> | void,
  ): Promise<{ close(): void }>;
  close(): Promise<void>;
}
