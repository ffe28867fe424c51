/**
 * Stable, machine-readable error codes. Chaincode throws `CODE: message` through
 * `codedMessage()`; ledger clients parse it back with `parseCodedMessage()`;
 * the HTTP layer answers `{ statusCode, code, message }`.
 */
export const ErrorCodes = {
  // input
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  MALFORMED_JSON: 'MALFORMED_JSON',
  /** An EPCIS document that fails the EPCIS 2.0 JSON schema; the answer lists the schema paths. */
  EPCIS_SCHEMA_INVALID: 'EPCIS_SCHEMA_INVALID',
  // identity and access
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  ACCESS_DENIED: 'ACCESS_DENIED',
  /** Too many requests (per client, per username, or the password pool is full); Retry-After says when. */
  RATE_LIMITED: 'RATE_LIMITED',
  // records
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  INVALID_STATE: 'INVALID_STATE',
  CONFLICT: 'CONFLICT',
  // devices
  DEVICE_NOT_FOUND: 'DEVICE_NOT_FOUND',
  DEVICE_EXISTS: 'DEVICE_EXISTS',
  DEVICE_NOT_CERTIFIED: 'DEVICE_NOT_CERTIFIED',
  DEVICE_REVOKED: 'DEVICE_REVOKED',
  /** The proof-of-possession signature does not verify with the device's ledger key, or the challenge is stale. */
  POSSESSION_NOT_PROVEN: 'POSSESSION_NOT_PROVEN',
  CHALLENGE_NOT_FOUND: 'CHALLENGE_NOT_FOUND',
  CHALLENGE_EXPIRED: 'CHALLENGE_EXPIRED',
  CHALLENGE_USED: 'CHALLENGE_USED',
  // work orders
  WORK_ORDER_NOT_FOUND: 'WORK_ORDER_NOT_FOUND',
  WORK_ORDER_EXISTS: 'WORK_ORDER_EXISTS',
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  OFFER_NOT_FOUND: 'OFFER_NOT_FOUND',
  OFFER_CLOSED: 'OFFER_CLOSED',
  // anchors
  ANCHOR_EXISTS: 'ANCHOR_EXISTS',
  ANCHOR_NOT_FOUND: 'ANCHOR_NOT_FOUND',
  // ingest rejections
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  UNKNOWN_DEVICE: 'UNKNOWN_DEVICE',
  REPLAY: 'REPLAY',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  // ledger transaction stages
  ENDORSEMENT_FAILED: 'ENDORSEMENT_FAILED',
  ENDORSEMENT_POLICY_FAILURE: 'ENDORSEMENT_POLICY_FAILURE',
  /** The Fabric Gateway would not choose endorsers for the transient data (a needed org is outside a touched collection); name them. */
  ENDORSEMENT_PLAN_REFUSED: 'ENDORSEMENT_PLAN_REFUSED',
  MVCC_READ_CONFLICT: 'MVCC_READ_CONFLICT',
  COMMIT_FAILED: 'COMMIT_FAILED',
  LEDGER_UNAVAILABLE: 'LEDGER_UNAVAILABLE',
  // EPCIS query (the standard's QueryParameterException, QueryTooLargeException, NotAcceptableException)
  /** A query parameter is unknown, malformed or not supported; `parameter` names it. */
  QUERY_PARAMETER_INVALID: 'QUERY_PARAMETER_INVALID',
  /** More events match than `maxEventCount` allows (HTTP 413). */
  QUERY_TOO_LARGE: 'QUERY_TOO_LARGE',
  /** The client asked for an EPCIS or CBV version this repository does not speak (HTTP 406). */
  NOT_ACCEPTABLE: 'NOT_ACCEPTABLE',
  // proofs
  PROOF_INVALID: 'PROOF_INVALID',
  /** Every proof-verification thread is busy and the queue is full: retry later (HTTP 503). */
  VERIFIER_BUSY: 'VERIFIER_BUSY',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const CODE_PATTERN = /^([A-Z][A-Z0-9_]+): ([\s\S]*)$/;

/** The one format chaincode errors take on the wire: `CODE: message`. */
export function codedMessage(code: ErrorCode, message: string): string {
  return `${code}: ${message}`;
}

/** Parses `CODE: message` (possibly wrapped by peer text) back into its parts. */
export function parseCodedMessage(text: string): { code: ErrorCode; message: string } | undefined {
  for (const line of text.split('\n')) {
    // Fabric peers prefix chaincode messages ("chaincode response 500, "); find the code wherever it starts.
    const idx = line.search(/[A-Z][A-Z0-9_]+: /);
    if (idx < 0) continue;
    const m = CODE_PATTERN.exec(line.slice(idx));
    if (m && (Object.values(ErrorCodes) as string[]).includes(m[1] as string)) {
      return { code: m[1] as ErrorCode, message: m[2] as string };
    }
  }
  return undefined;
}

/** An error carrying a stable code; services map it to an HTTP status. */
export class CodedError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, statusCode = 400, details?: unknown) {
    super(message);
    this.name = 'CodedError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = details;
  }
}
