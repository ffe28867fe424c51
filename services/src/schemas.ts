import { Type } from 'typebox';

/** Shapes reused across routes; every route declares its responses so nothing leaks. */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
});

export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  413: ErrorResponse,
  429: ErrorResponse,
  500: ErrorResponse,
  503: ErrorResponse,
} as const;

export const LedgerRef = Type.Union([Type.Object({ txId: Type.String(), blockNumber: Type.Integer() }), Type.Null()]);

export const IdParam = (name: string) =>
  Type.Object({ [name]: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }) });
