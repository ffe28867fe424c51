import { CodedError, ErrorCodes, parseCodedMessage } from '@c2m/shared';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** HTTP status for an error code that did not come with one (ledger errors carry only a code). */
const STATUS_BY_CODE: Record<string, number> = {
  [ErrorCodes.VALIDATION_FAILED]: 400,
  [ErrorCodes.MALFORMED_JSON]: 400,
  [ErrorCodes.UNAUTHENTICATED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.ACCESS_DENIED]: 403,
  [ErrorCodes.RATE_LIMITED]: 429,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.DEVICE_NOT_FOUND]: 404,
  [ErrorCodes.WORK_ORDER_NOT_FOUND]: 404,
  [ErrorCodes.ORDER_NOT_FOUND]: 404,
  [ErrorCodes.OFFER_NOT_FOUND]: 404,
  [ErrorCodes.ANCHOR_NOT_FOUND]: 404,
  [ErrorCodes.ALREADY_EXISTS]: 409,
  [ErrorCodes.DEVICE_EXISTS]: 409,
  [ErrorCodes.WORK_ORDER_EXISTS]: 409,
  [ErrorCodes.ANCHOR_EXISTS]: 409,
  [ErrorCodes.INVALID_STATE]: 409,
  [ErrorCodes.OFFER_CLOSED]: 409,
  [ErrorCodes.CONFLICT]: 409,
  [ErrorCodes.MVCC_READ_CONFLICT]: 409,
  [ErrorCodes.DEVICE_NOT_CERTIFIED]: 409,
  [ErrorCodes.DEVICE_REVOKED]: 409,
  [ErrorCodes.POSSESSION_NOT_PROVEN]: 400,
  [ErrorCodes.LEDGER_UNAVAILABLE]: 503,
  [ErrorCodes.QUERY_PARAMETER_INVALID]: 400,
  [ErrorCodes.QUERY_TOO_LARGE]: 413,
  [ErrorCodes.NOT_ACCEPTABLE]: 406,
};

/**
 * EPCIS routes answer their exceptions in the REST binding's RFC 7807 style as well (`type`
 * `epcisException:QueryParameterException`, `title`, `status`) and name the offending `parameter`; the coded
 * error carries them in `details.epcis`.
 */
function epcisProblem(details: unknown): Record<string, unknown> {
  const e = (details as { epcis?: { exception: string; parameter?: string } } | undefined)?.epcis;
  if (!e) return {};
  return { type: `epcisException:${e.exception}`, ...(e.parameter !== undefined ? { parameter: e.parameter } : {}) };
}

/**
 * The one error handler: every error leaves as `{ statusCode, code, message }`.
 * Coded errors (ours, and ledger errors that carry a chaincode code) keep their
 * code; validation errors become VALIDATION_FAILED; anything else is a 500 whose
 * details stay in the log.
 */
export default fp(
  async (fastify: FastifyInstance) => {
    fastify.setErrorHandler((error: FastifyError & { code?: string; details?: unknown }, request, reply) => {
      if (error.validation) {
        return reply.status(400).send({ statusCode: 400, code: ErrorCodes.VALIDATION_FAILED, message: error.message });
      }
      if (error instanceof CodedError) {
        const retryAfter = (error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
        if (error.statusCode === 429 && retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
        return reply.status(error.statusCode).send({
          statusCode: error.statusCode,
          code: error.code,
          message: error.message,
          ...epcisProblem(error.details),
        });
      }
      if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
        return reply.status(400).send({ statusCode: 400, code: ErrorCodes.MALFORMED_JSON, message: error.message });
      }
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return reply.status(413).send({ statusCode: 413, code: ErrorCodes.PAYLOAD_TOO_LARGE, message: error.message });
      }
      // Ledger errors carry a chaincode code (`DEVICE_NOT_FOUND: ...`) in code or message.
      const parsed =
        typeof error.code === 'string' && error.code in STATUS_BY_CODE
          ? { code: error.code, message: error.message }
          : parseCodedMessage(error.message ?? '');
      if (parsed && parsed.code in STATUS_BY_CODE) {
        const status = STATUS_BY_CODE[parsed.code] ?? 500;
        if (status >= 500) request.log.error({ err: error }, 'ledger unavailable');
        return reply.status(status).send({ statusCode: status, code: parsed.code, message: parsed.message });
      }
      if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
        return reply
          .status(error.statusCode)
          .send({ statusCode: error.statusCode, code: ErrorCodes.VALIDATION_FAILED, message: error.message });
      }
      request.log.error({ err: error }, 'unhandled error');
      return reply.status(500).send({ statusCode: 500, code: ErrorCodes.INTERNAL, message: 'Internal server error' });
    });
  },
  { name: 'error-handler' },
);
