import { CodedError, ErrorCodes, gs1CheckDigit, normaliseGs1Uri } from '@c2m/shared';
import { C2M_NAMESPACE } from './from-device.js';

/**
 * What a trace or a resolver request names, in the canonical form the event store indexes: a serial (SGTIN), a
 * lot (LGTIN), an SSCC, a product (GTIN), a location (GLN / SGLN) or a device, given as an EPC URN, a GS1
 * Digital Link URI on any host, or a bare Digital Link path (`/01/{gtin}/21/{serial}`). Check digits are
 * checked here: the normaliser keeps a key whatever its check digit, but a key with a wrong one names nothing
 * and a resolver must say so (400).
 */

export type TraceKeyKind = 'serial' | 'lot' | 'sscc' | 'product' | 'location' | 'device' | 'epc';

export interface TraceKey {
  readonly kind: TraceKeyKind;
  /** Canonical GS1 Digital Link (or the device URI): what epcis_event_epcs holds. */
  readonly uri: string;
  readonly gtin?: string;
  readonly serial?: string;
  readonly lot?: string;
  readonly sscc?: string;
  readonly gln?: string;
  readonly deviceId?: string;
}

const DL = 'https://id.gs1.org';
const DEVICE_PREFIX = `${C2M_NAMESPACE}devices/`;
const bad = (message: string) => new CodedError(ErrorCodes.VALIDATION_FAILED, message, 400);

function checked(name: string, digits: string): string {
  if (String(gs1CheckDigit(digits.slice(0, -1))) !== digits.slice(-1)) {
    throw bad(`${name} ${digits} has a wrong check digit (it should end in ${gs1CheckDigit(digits.slice(0, -1))})`);
  }
  return digits;
}

const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad('malformed percent-encoding');
  }
};

/** Parses a canonical Digital Link URI (the normaliser's output) into its key. */
export function keyOfCanonical(uri: string): TraceKey | undefined {
  let m = /^https:\/\/id\.gs1\.org\/01\/(\d{14})\/21\/([^/?#]+)$/.exec(uri);
  if (m) return { kind: 'serial', uri, gtin: m[1] as string, serial: decode(m[2] as string) };
  m = /^https:\/\/id\.gs1\.org\/01\/(\d{14})\/10\/([^/?#]+)$/.exec(uri);
  if (m) return { kind: 'lot', uri, gtin: m[1] as string, lot: decode(m[2] as string) };
  m = /^https:\/\/id\.gs1\.org\/01\/(\d{14})$/.exec(uri);
  if (m) return { kind: 'product', uri, gtin: m[1] as string };
  m = /^https:\/\/id\.gs1\.org\/00\/(\d{18})$/.exec(uri);
  if (m) return { kind: 'sscc', uri, sscc: m[1] as string };
  m = /^https:\/\/id\.gs1\.org\/414\/(\d{13})(?:\/254\/[^/?#]+)?$/.exec(uri);
  if (m) return { kind: 'location', uri, gln: m[1] as string };
  return undefined;
}

/**
 * The key a caller named. Throws 400 VALIDATION_FAILED for anything that is neither a GS1 key nor one of our
 * device URIs, and for a GS1 key with a wrong check digit.
 */
export function parseTraceKey(raw: string): TraceKey {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 512) throw bad('name an EPC (1 to 512 characters)');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw bad('control characters are not allowed');
  let value = raw.trim();
  if (value.startsWith(DEVICE_PREFIX)) {
    const id = decode(value.slice(DEVICE_PREFIX.length));
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(id)) throw bad('malformed device id');
    return { kind: 'device', uri: `${DEVICE_PREFIX}${encodeURIComponent(id)}`, deviceId: id };
  }
  // A bare Digital Link path: put it on the canonical host.
  if (value.startsWith('/')) value = `${DL}${value}`;
  else if (/^(00|01|414)\//.test(value)) value = `${DL}/${value}`;
  const canonical = normaliseGs1Uri(value);
  if (!canonical) throw bad(`${raw.slice(0, 80)} is not a GS1 key (EPC URN or GS1 Digital Link) nor a device`);
  const key = keyOfCanonical(canonical);
  if (!key) throw bad(`${raw.slice(0, 80)} names a GS1 key this trace does not follow`);
  if (key.gtin) checked('GTIN', key.gtin);
  if (key.sscc) checked('SSCC', key.sscc);
  if (key.gln) checked('GLN', key.gln);
  if (key.serial !== undefined && !/^[!-"%-?A-Z_a-z]{1,20}$/.test(key.serial)) throw bad('malformed serial');
  if (key.lot !== undefined && !/^[!-"%-?A-Z_a-z]{1,20}$/.test(key.lot)) throw bad('malformed lot');
  return key;
}

export const deviceKeyUri = (deviceId: string) => `${DEVICE_PREFIX}${encodeURIComponent(deviceId)}`;
