/**
 * Allocation of serials, lots, SSCCs and GLNs for an org with a GS1 company prefix. Pure functions: the
 * caller owns the counters (a work order's serial range, an SSCC sequence) and their persistence.
 *
 * API
 *   formatSerial(n, { prefix?, width? }) -> AI 21 value, e.g. formatSerial(42, { prefix: 'WO7-', width: 6 }) = 'WO7-000042'
 *   formatLot(parts) -> AI 10 value, parts joined by '-' (e.g. ['L', '20261207', 'F1'] -> 'L-20261207-F1')
 *   computeSscc(companyPrefix, extensionDigit, serialReference) -> 18-digit SSCC with its check digit
 *   computeGln(companyPrefix, locationReference) -> 13-digit GLN with its check digit
 *   sglnKey(gln, extension?) -> Gs1Key of a sub-location (a line, a dock): GLN + AI 254 extension
 */
import type { Gs1Key } from './digital-link.js';
import {
  parseCompanyPrefix,
  parseGln,
  parseGlnExtension,
  parseLot,
  parseSerial,
  refuseGs1 as refuse,
  withCheckDigit,
} from './keys.js';

function nonNegativeInteger(n: unknown, field: string): bigint {
  if (typeof n === 'bigint' && n >= 0n) return n;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return BigInt(n);
  if (typeof n === 'string' && /^\d{1,30}$/.test(n)) return BigInt(n);
  throw refuse(field, 'must be a non-negative integer');
}

export function formatSerial(n: number | bigint, options: { prefix?: string; width?: number } = {}): string {
  const width = options.width ?? 1;
  if (!Number.isInteger(width) || width < 1 || width > 20) throw refuse('width', 'must be an integer from 1 to 20');
  const digits = nonNegativeInteger(n, 'serial number').toString().padStart(width, '0');
  return parseSerial(`${options.prefix ?? ''}${digits}`, 'serial');
}

export function formatLot(parts: readonly (string | number)[]): string {
  if (parts.length === 0) throw refuse('lot', 'needs at least one part');
  return parseLot(parts.map(String).join('-'), 'lot');
}

/**
 * SSCC = extension digit + company prefix + serial reference (16 digits together) + check digit.
 * The serial reference is zero-padded to the digits the company prefix leaves (16 - prefix length).
 */
export function computeSscc(
  companyPrefix: string,
  extensionDigit: number,
  serialReference: number | bigint | string,
): string {
  const cp = parseCompanyPrefix(companyPrefix);
  if (!Number.isInteger(extensionDigit) || extensionDigit < 0 || extensionDigit > 9) {
    throw refuse('extensionDigit', 'must be a digit 0-9');
  }
  const room = 16 - cp.length;
  const ref = nonNegativeInteger(serialReference, 'serialReference').toString();
  if (ref.length > room) {
    throw refuse('serialReference', `${ref} needs ${ref.length} digits; company prefix ${cp} leaves ${room}`);
  }
  return withCheckDigit(`${extensionDigit}${cp}${ref.padStart(room, '0')}`);
}

/** GLN = company prefix + location reference (12 digits together) + check digit. */
export function computeGln(companyPrefix: string, locationReference: number | bigint | string): string {
  const cp = parseCompanyPrefix(companyPrefix);
  const room = 12 - cp.length;
  const ref = nonNegativeInteger(locationReference, 'locationReference').toString();
  if (ref.length > Math.max(room, 1) || (room === 0 && ref !== '0')) {
    throw refuse('locationReference', `${ref} needs ${ref.length} digits; company prefix ${cp} leaves ${room}`);
  }
  return withCheckDigit(`${cp}${room === 0 ? '' : ref.padStart(room, '0')}`);
}

export function sglnKey(gln: string, extension?: string): Gs1Key {
  const g = parseGln(gln);
  return extension === undefined
    ? { kind: 'sgln', gln: g }
    : { kind: 'sgln', gln: g, extension: parseGlnExtension(extension) };
}
