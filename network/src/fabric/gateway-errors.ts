import { ErrorCodes, parseCodedMessage, type TxValidationCode, TxValidationCodes } from '@c2m/shared';
import { status } from '@grpc/grpc-js';
import {
  CommitError as GatewayCommitError,
  CommitStatusError as GatewayCommitStatusError,
  EndorseError as GatewayEndorseError,
  GatewayError,
} from '@hyperledger/fabric-gateway';
import { peer } from '@hyperledger/fabric-protos';
import { CommitError, EndorseError, type EndorsementDetail, type LedgerError, SubmitError } from '../errors.js';

const VALIDATION_NAMES = new Map<number, string>(Object.entries(peer.TxValidationCode).map(([name, n]) => [n, name]));

/**
 * Fabric's validation code name for a number. Codes the shared type does not
 * list (e.g. BAD_RWSET) keep their Fabric name; callers branch on `code`,
 * which falls back to COMMIT_FAILED for them.
 */
export function validationCodeName(code: number): TxValidationCode {
  return (VALIDATION_NAMES.get(code) ?? `UNKNOWN_${code}`) as TxValidationCode;
}

const CHAINCODE_STATUS = /chaincode response (\d{3})/;
const TRANSIENT_REFUSAL = /to protect transient data/;

function detailsOf(err: GatewayError): EndorsementDetail[] {
  return err.details.map((d) => ({
    mspId: d.mspId,
    // A chaincode refusal carries its shim status (500); anything else is the peer's gRPC failure.
    status: Number(CHAINCODE_STATUS.exec(d.message)?.[1] ?? 500),
    message: d.message,
  }));
}

/**
 * The chaincode's `CODE: message` in a peer's text, if any. The text after
 * "chaincode response NNN, " is tried first, because gRPC messages start
 * with their own status name ("2 UNKNOWN: ...") which would be found first.
 */
function codedTail(text: string): string | undefined {
  const m = CHAINCODE_STATUS.exec(text);
  const tail = m ? text.slice(m.index + m[0].length).replace(/^,\s*/, '') : undefined;
  if (tail && parseCodedMessage(tail)) return tail;
  return parseCodedMessage(text) ? text : undefined;
}

/** The message that explains the failure best: a chaincode `CODE: message`, else all peer answers, else the gRPC message. */
function bestMessage(err: GatewayError): string {
  const texts = [...err.details.map((d) => d.message), err.cause?.details ?? '', err.message];
  for (const t of texts) {
    const coded = codedTail(t);
    if (coded) return coded;
  }
  if (err.details.length > 0) return `${err.message}: ${err.details.map((d) => `${d.mspId}: ${d.message}`).join('; ')}`;
  return err.message;
}

/**
 * Maps a fabric-gateway error to the platform's stage errors, keeping the
 * transaction id and parsing the chaincode's `CODE: message` into `code`.
 * `txId` is the proposal's id, used when the gateway error carries none
 * (plain `GatewayError` from evaluate). Non-gateway errors pass through.
 */
export function toLedgerError(err: unknown, txId: string, blockNumber = -1): LedgerError | unknown {
  if (err instanceof GatewayCommitError) {
    // Raised by the gateway's convenience submit; our submit reads the status instead, but map it the same way.
    return new CommitError(validationCodeName(err.code), blockNumber, { txId: err.transactionId, cause: err });
  }
  if (!(err instanceof GatewayError)) return err;
  const options = {
    txId: 'transactionId' in err ? String(err.transactionId) : txId,
    cause: err,
    details: detailsOf(err),
  };
  // The gateway refused to choose endorsers for transient data (FAILED_PRECONDITION): a caller's mistake that
  // no retry fixes, so it gets its own code.
  if (err.code === status.FAILED_PRECONDITION && TRANSIENT_REFUSAL.test(err.message)) {
    return new EndorseError(err.message, { ...options, code: ErrorCodes.ENDORSEMENT_PLAN_REFUSED });
  }
  if (err instanceof GatewayEndorseError) return new EndorseError(bestMessage(err), options);
  if (err instanceof GatewayCommitStatusError) {
    // Ordered, but the outcome is unknown within the deadline: the caller can look the txId up later.
    return new SubmitError(`commit status of ${options.txId} unavailable: ${bestMessage(err)}`, options);
  }
  // The gateway exports SubmitError as a type only; it names its instances. The orderer refused or was unreachable.
  if (err.name === 'SubmitError') return new SubmitError(bestMessage(err), options);
  return new EndorseError(bestMessage(err), options);
}

export function isValid(code: TxValidationCode): boolean {
  return code === TxValidationCodes.VALID;
}
