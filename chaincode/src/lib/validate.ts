import { invalid } from './errors.js';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
const ISO_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An identifier: printable, no NUL (composite-key separator), bounded length. */
export function id(name: string, value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    return invalid(`${name} must be 1-128 characters of letters, digits and ._:@/-`);
  }
  return value;
}

export function text(name: string, value: unknown, max = 512, allowEmpty = false): string {
  if (
    typeof value !== 'string' ||
    (!allowEmpty && value.trim() === '') ||
    value.length > max ||
    value.includes('\u0000')
  ) {
    return invalid(`${name} must be a ${allowEmpty ? '' : 'non-empty '}string of at most ${max} characters`);
  }
  return value;
}

export function hex(name: string, value: unknown, bytes: number): string {
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(value)) {
    return invalid(`${name} must be ${bytes * 2} lowercase hex characters`);
  }
  return value;
}

/** ISO-8601 instant with a zone, normalised to UTC milliseconds so comparisons are string-safe. */
export function isoTime(name: string, value: unknown): string {
  if (typeof value !== 'string' || !ISO_PATTERN.test(value))
    return invalid(`${name} must be an ISO-8601 time with zone`);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return invalid(`${name} is not a valid time`);
  return new Date(ms).toISOString();
}

export function positiveInt(name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > max) {
    return invalid(`${name} must be an integer between 1 and ${max}`);
  }
  return n;
}

export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    return invalid(`${name} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function jsonObject(name: string, value: unknown, max = 16_384): Record<string, unknown> {
  if (typeof value !== 'string' || value.length > max)
    return invalid(`${name} must be a JSON object of at most ${max} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return invalid(`${name} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return invalid(`${name} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

export function pemPublicKey(name: string, value: unknown): string {
  if (
    typeof value !== 'string' ||
    value.length > 4096 ||
    !/^-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\r?\n?$/.test(value)
  ) {
    return invalid(`${name} must be a PEM SubjectPublicKeyInfo`);
  }
  return value;
}
