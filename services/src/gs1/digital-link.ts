/**
 * GS1 Digital Link URIs for the keys the network uses, built and parsed with digital-link.js (Apache-2.0,
 * GS1's grammar: it checks the AI structure and check digits); values are percent-encoded and decoded here
 * (the library leaves both to its caller) and validated by keys.ts.
 *
 * API
 *   type Gs1Key = { kind: 'sgtin', gtin, serial } | { kind: 'lgtin', gtin, lot } | { kind: 'gtin', gtin }
 *               | { kind: 'sscc', sscc } | { kind: 'sgln', gln, extension? }
 *   CANONICAL_RESOLVER = 'https://id.gs1.org'   (the canonical domain; an org may run its own resolver)
 *   toDigitalLink(key, resolver?) -> 'https://id.gs1.org/01/09506000134352/21/ABC'
 *     sgtin /01/{gtin}/21/{serial}, lgtin /01/{gtin}/10/{lot}, gtin /01/{gtin}, sscc /00/{sscc},
 *     sgln /414/{gln}[/254/{extension}]
 *   parseDigitalLink(uri, field?) -> Gs1Key      (any resolver domain; a serial wins over a lot, as in EPCIS)
 *   resolverBase(value, field?) -> normalised base ('https://host[/path]', no trailing slash)
 */
import dl from 'digital-link.js';
import {
  parseGln,
  parseGlnExtension,
  parseGtin,
  parseLot,
  parseSerial,
  parseSscc,
  refuseGs1 as refuse,
} from './keys.js';

export type Gs1Key =
  | { kind: 'sgtin'; gtin: string; serial: string }
  | { kind: 'lgtin'; gtin: string; lot: string }
  | { kind: 'gtin'; gtin: string }
  | { kind: 'sscc'; sscc: string }
  | { kind: 'sgln'; gln: string; extension?: string };

export const CANONICAL_RESOLVER = 'https://id.gs1.org';

/** A resolver base: http(s), a host, an optional path; no query, fragment or trailing slash. */
export function resolverBase(value: unknown, field = 'resolver'): string {
  if (typeof value !== 'string' || value.length > 200) throw refuse(field, 'resolver base must be a URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse(field, `resolver base ${JSON.stringify(value)} is not a URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username) {
    throw refuse(field, 'resolver base must be http(s)://host[/path] without query, fragment or credentials');
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/**
 * Percent-encodes everything but letters, digits, '-', '.' and '_' (what digital-link.js's grammar accepts raw;
 * it wants ! ' ( ) * encoded). Its grammar has no %22, so a value with '"' has no Digital Link here: refused.
 */
function encodeSegment(value: string, field: string): string {
  if (value.includes('"'))
    throw refuse(field, "a value with '\"' has no GS1 Digital Link URI (digital-link.js 1.4.3 rejects %22)");
  return value.replace(/[^A-Za-z0-9\-._]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function decodeSegment(value: string, field: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw refuse(field, `malformed percent-encoding in ${JSON.stringify(value.slice(0, 40))}`);
  }
}

/** The validated fields of a key (throws on a bad one), so a built URI never carries an invalid key. */
export function checkedKey(key: Gs1Key, field = 'key'): Gs1Key {
  switch (key.kind) {
    case 'sgtin':
      return {
        kind: 'sgtin',
        gtin: parseGtin(key.gtin, `${field}.gtin`),
        serial: parseSerial(key.serial, `${field}.serial`),
      };
    case 'lgtin':
      return { kind: 'lgtin', gtin: parseGtin(key.gtin, `${field}.gtin`), lot: parseLot(key.lot, `${field}.lot`) };
    case 'gtin':
      return { kind: 'gtin', gtin: parseGtin(key.gtin, `${field}.gtin`) };
    case 'sscc':
      return { kind: 'sscc', sscc: parseSscc(key.sscc, `${field}.sscc`) };
    case 'sgln': {
      const gln = parseGln(key.gln, `${field}.gln`);
      return key.extension === undefined
        ? { kind: 'sgln', gln }
        : { kind: 'sgln', gln, extension: parseGlnExtension(key.extension, `${field}.extension`) };
    }
    default:
      throw refuse(field, `unknown GS1 key kind ${JSON.stringify((key as { kind?: unknown }).kind)}`);
  }
}

export function toDigitalLink(key: Gs1Key, resolver: string = CANONICAL_RESOLVER): string {
  const k = checkedKey(key);
  const domain = resolverBase(resolver);
  let identifier: Record<string, string>;
  const keyQualifiers: Record<string, string> = {};
  switch (k.kind) {
    case 'sgtin':
      identifier = { '01': k.gtin };
      keyQualifiers['21'] = encodeSegment(k.serial, 'key.serial');
      break;
    case 'lgtin':
      identifier = { '01': k.gtin };
      keyQualifiers['10'] = encodeSegment(k.lot, 'key.lot');
      break;
    case 'gtin':
      identifier = { '01': k.gtin };
      break;
    case 'sscc':
      identifier = { '00': k.sscc };
      break;
    case 'sgln':
      identifier = { '414': k.gln };
      if (k.extension !== undefined) keyQualifiers['254'] = encodeSegment(k.extension, 'key.extension');
      break;
  }
  const link = dl.DigitalLink({ domain, identifier, keyQualifiers, keyQualifiersOrder: Object.keys(keyQualifiers) });
  if (!link.isValid()) throw refuse('key', `GS1 Digital Link ${link.toWebUriString()} does not validate`);
  return link.toWebUriString();
}

const MAX_URI = 2048;

export function parseDigitalLink(uri: unknown, field = 'uri'): Gs1Key {
  if (typeof uri !== 'string') throw refuse(field, 'GS1 Digital Link URI must be a string');
  if (uri.length > MAX_URI) throw refuse(field, `GS1 Digital Link URI is longer than ${MAX_URI} characters`);
  if (!/^https?:\/\/[^/?#\s]+\/[^\s]*$/.test(uri))
    throw refuse(field, `${JSON.stringify(uri.slice(0, 60))} is not an http(s) URI with a path`);
  let link: ReturnType<typeof dl.DigitalLink>;
  try {
    link = dl.DigitalLink(uri);
  } catch (err) {
    throw refuse(field, `not a GS1 Digital Link URI (${(err as Error).message})`);
  }
  let valid = false;
  try {
    valid = link.isValid();
  } catch {
    valid = false;
  }
  if (!valid) {
    // Name the reason when it is a key this module knows (bad check digit, wrong length) before the generic one.
    const key = /\/(01|00|414)\/([^/?#]*)/.exec(uri);
    if (key?.[1] === '01') parseGtin(key[2], `${field} (AI 01)`);
    if (key?.[1] === '00') parseSscc(key[2], `${field} (AI 00)`);
    if (key?.[1] === '414') parseGln(key[2], `${field} (AI 414)`);
    throw refuse(field, `${JSON.stringify(uri.slice(0, 80))} is not a valid GS1 Digital Link URI (GS1 DL grammar)`);
  }
  const id = link.getIdentifier();
  const q = link.getKeyQualifiers();
  const get = (ai: string) => (q[ai] === undefined ? undefined : decodeSegment(q[ai], field));
  if (id['01'] !== undefined) {
    const gtin = parseGtin(id['01'], `${field} (AI 01)`);
    const serial = get('21');
    if (serial !== undefined) return { kind: 'sgtin', gtin, serial: parseSerial(serial, `${field} (AI 21)`) };
    const lot = get('10');
    if (lot !== undefined) return { kind: 'lgtin', gtin, lot: parseLot(lot, `${field} (AI 10)`) };
    return { kind: 'gtin', gtin };
  }
  if (id['00'] !== undefined) return { kind: 'sscc', sscc: parseSscc(id['00'], `${field} (AI 00)`) };
  if (id['414'] !== undefined) {
    const gln = parseGln(id['414'], `${field} (AI 414)`);
    const ext = get('254');
    return ext === undefined
      ? { kind: 'sgln', gln }
      : { kind: 'sgln', gln, extension: parseGlnExtension(ext, `${field} (AI 254)`) };
  }
  throw refuse(field, `GS1 key AI ${Object.keys(id).join(', ')} is not one this network uses (01, 00, 414)`);
}
