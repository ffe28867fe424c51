/**
 * GS1 keys and the AI strings that qualify them: check digits and validation.
 *
 * API (every parse returns the normalised value or throws CodedError(VALIDATION_FAILED) naming the field
 * and why; nothing here has side effects):
 *   gs1CheckDigit(digits) -> number            the GS1 mod-10 check digit of the digits before it
 *   withCheckDigit(body) -> string             body + its check digit
 *   hasValidCheckDigit(key) -> boolean
 *   parseGtin(value, field?) -> GTIN-14        accepts GTIN-8/12/13/14, verifies the check digit, pads to 14
 *   parseGln(value, field?) -> 13 digits       parseSscc(value, field?) -> 18 digits
 *   parseCompanyPrefix(value, field?) -> 6..12 digits (the EPC partition tables' range)
 *   parseSerial / parseLot / parseGlnExtension(value, field?) -> AI 21 / 10 / 254 value (CSET 82, 1..20)
 *
 * Check digits are GenSpecs 7.9.1 arithmetic (a few lines, shared with the event hash); the libraries
 * (digital-link.js, epc-tds) do the URI syntaxes in digital-link.ts and epc.ts.
 */
import { CodedError, ErrorCodes, gs1CheckDigit } from '@c2m/shared';

export { gs1CheckDigit };

export function withCheckDigit(body: string): string {
  return body + String(gs1CheckDigit(body));
}

export function hasValidCheckDigit(key: string): boolean {
  return /^\d{2,}$/.test(key) && gs1CheckDigit(key.slice(0, -1)) === Number(key.slice(-1));
}

function refuse(field: string, why: string): CodedError {
  return new CodedError(ErrorCodes.VALIDATION_FAILED, `${field}: ${why}`);
}

/** Quotes a refused value for a message, cut short and with control characters shown as escapes. */
function show(value: unknown): string {
  const s = typeof value === 'string' ? value : String(value);
  const shown = JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
  return shown;
}

function digitsKey(value: unknown, field: string, name: string, lengths: readonly number[]): string {
  if (typeof value !== 'string') throw refuse(field, `${name} must be a string of digits`);
  if (!/^[0-9]+$/.test(value)) throw refuse(field, `${name} ${show(value)} has characters other than digits 0-9`);
  if (!lengths.includes(value.length)) {
    throw refuse(field, `${name} ${show(value)} has ${value.length} digits; expected ${lengths.join(', ')}`);
  }
  const expected = gs1CheckDigit(value.slice(0, -1));
  if (expected !== Number(value.slice(-1))) {
    throw refuse(field, `${name} ${value} has a bad check digit ${value.slice(-1)} (expected ${expected})`);
  }
  return value;
}

/** GTIN-8, -12, -13 or -14, check digit verified; returned as GTIN-14 (the form EPCIS and Digital Link use). */
export function parseGtin(value: unknown, field = 'gtin'): string {
  return digitsKey(value, field, 'GTIN', [8, 12, 13, 14]).padStart(14, '0');
}

export function parseGln(value: unknown, field = 'gln'): string {
  return digitsKey(value, field, 'GLN', [13]);
}

export function parseSscc(value: unknown, field = 'sscc'): string {
  return digitsKey(value, field, 'SSCC', [18]);
}

/** A GS1 company prefix as EPC URIs carry it: 6 to 12 digits. */
export function parseCompanyPrefix(value: unknown, field = 'companyPrefix'): string {
  if (typeof value !== 'string' || !/^[0-9]{6,12}$/.test(value)) {
    throw refuse(field, `GS1 company prefix ${show(value)} must be 6 to 12 digits`);
  }
  return value;
}

/**
 * GS1 AI encodable character set 82 (GenSpecs figure 7.11-1): ! " % & ' ( ) * + , - . / 0-9 : ; < = > ? A-Z _ a-z.
 */
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$/;

function cset82(value: unknown, field: string, name: string, max: number): string {
  if (typeof value !== 'string') throw refuse(field, `${name} must be a string`);
  if (value.length === 0) throw refuse(field, `${name} is empty`);
  if (value.length > max) throw refuse(field, `${name} ${show(value)} is ${value.length} characters; at most ${max}`);
  if (!CSET82.test(value)) {
    const bad = [...value].find((c) => !CSET82.test(c)) ?? '';
    throw refuse(
      field,
      `${name} ${show(value)} has ${JSON.stringify(bad)}, outside the GS1 AI character set 82 (letters, digits and !"%&'()*+,-./:;<=>?_)`,
    );
  }
  return value;
}

/** Serial number, AI 21: CSET 82, 1 to 20 characters. */
export function parseSerial(value: unknown, field = 'serial'): string {
  return cset82(value, field, 'serial (AI 21)', 20);
}

/** Batch or lot number, AI 10: CSET 82, 1 to 20 characters. */
export function parseLot(value: unknown, field = 'lot'): string {
  return cset82(value, field, 'lot (AI 10)', 20);
}

/** GLN extension component, AI 254: CSET 82, 1 to 20 characters. */
export function parseGlnExtension(value: unknown, field = 'glnExtension'): string {
  return cset82(value, field, 'GLN extension (AI 254)', 20);
}

export const refuseGs1 = refuse;
