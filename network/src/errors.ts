import { type ErrorCode, ErrorCodes, parseCodedMessage, type TxValidationCode } from '@c2m/shared';

/** What one endorsing peer answered. */
export interface EndorsementDetail {
  readonly mspId: string;
  readonly status: number;
  readonly message: string;
}

export interface LedgerErrorOptions {
  readonly txId: string;
  readonly code?: ErrorCode;
  readonly cause?: unknown;
  readonly details?: readonly EndorsementDetail[];
}

/** Base of the stage errors; carries the transaction id so a caller can look the transaction up later. */
export class LedgerError extends Error {
  readonly txId: string;
  readonly code: ErrorCode;
  readonly details: readonly EndorsementDetail[];

  constructor(message: string, fallback: ErrorCode, options: LedgerErrorOptions) {
    // The chaincode's own code wins (ACCESS_DENIED, DEVICE_EXISTS, ...); the stage's code is the fallback.
    const parsed = parseCodedMessage(message);
    super(parsed ? parsed.message : message, { cause: options.cause });
    this.name = new.target.name;
    this.txId = options.txId;
    this.code = options.code ?? parsed?.code ?? fallback;
    this.details = options.details ?? [];
  }
}

/** The proposal was refused or failed before ordering: bad identity, chaincode error, mismatched endorsements. */
export class EndorseError extends LedgerError {
  constructor(message: string, options: LedgerErrorOptions) {
    super(message, ErrorCodes.ENDORSEMENT_FAILED, options);
  }
}

/** The endorsed transaction could not be handed to the orderer (ledger closed or unavailable). */
export class SubmitError extends LedgerError {
  constructor(message: string, options: LedgerErrorOptions) {
    super(message, ErrorCodes.LEDGER_UNAVAILABLE, options);
  }
}

const COMMIT_CODES: Partial<Record<TxValidationCode, ErrorCode>> = {
  MVCC_READ_CONFLICT: ErrorCodes.MVCC_READ_CONFLICT,
  PHANTOM_READ_CONFLICT: ErrorCodes.MVCC_READ_CONFLICT,
  ENDORSEMENT_POLICY_FAILURE: ErrorCodes.ENDORSEMENT_POLICY_FAILURE,
};

/** The transaction was ordered into a block but validated as invalid; nothing it wrote was applied. */
export class CommitError extends LedgerError {
  readonly validationCode: TxValidationCode;
  readonly blockNumber: number;

  constructor(validationCode: TxValidationCode, blockNumber: number, options: LedgerErrorOptions) {
    super(`transaction ${options.txId} is ${validationCode} in block ${blockNumber}`, ErrorCodes.COMMIT_FAILED, {
      ...options,
      code: options.code ?? COMMIT_CODES[validationCode] ?? ErrorCodes.COMMIT_FAILED,
    });
    this.validationCode = validationCode;
    this.blockNumber = blockNumber;
  }
}

/** The block file failed verification on open: a broken hash chain, a bad data hash, or a transaction that no longer validates. */
export class LedgerCorruptError extends Error {
  override readonly name = 'LedgerCorruptError';
}
