/**
 * EPC URIs (GS1 Tag Data Standard 2.x pure identity, class and pattern URIs) for the keys the network uses,
 * converted to and from Digital Link URIs. The company-prefix split comes from epc-tds (MIT; its TDS
 * partition tables: SGTIN-198, SSCC-96, SGLN-195 objects built from the key and read back from the tag URI
 * form); URI escaping (TDS: " % & / < > ? are %-escaped) and all validation are here, because epc-tds
 * neither escapes nor checks check digits or characters.
 *
 * A GS1 key does not say where its company prefix ends: EPC URIs need `companyPrefixLength` (6..12), which
 * our orgs know (their GS1 company prefix is in their profile).
 *
 * API
 *   toEpcUri(key, companyPrefixLength) -> 'urn:epc:id:sgtin:0614141.107346.2017'
 *     sgtin urn:epc:id:sgtin:CP.IR.SER, lgtin urn:epc:class:lgtin:CP.IR.LOT, gtin urn:epc:idpat:sgtin:CP.IR.*,
 *     sscc urn:epc:id:sscc:CP.SR, sgln urn:epc:id:sgln:CP.LR.EXT (EXT 0 = no extension)
 *   parseEpcUri(uri, field?) -> { key: Gs1Key, companyPrefix, companyPrefixLength }
 *   epcToDigitalLink(uri, resolver?) ; digitalLinkToEpc(uri, companyPrefixLength)
 *   parseGs1Uri(value, field?) -> Gs1Key      either form
 */
import { createRequire } from 'node:module';
import { CANONICAL_RESOLVER, checkedKey, type Gs1Key, parseDigitalLink, toDigitalLink } from './digital-link.js';
import {
  parseGln,
  parseGlnExtension,
  parseGtin,
  parseLot,
  parseSerial,
  parseSscc,
  refuseGs1 as refuse,
  withCheckDigit,
} from './keys.js';

// epc-tds's CommonJS entry replaces module.exports with its TDS object, which its typings call the default export.
const tds = createRequire(import.meta.url)('epc-tds') as typeof import('epc-tds').default;
const { Sgtin198, Sscc96, Sgln195 } = tds;

/** TDS 2.x section 6.3: these characters of CSET 82 are %-escaped in EPC URIs, the rest appear as they are. */
function escapeEpc(value: string): string {
  return value.replace(/["%&/<>?]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unescapeEpc(value: string, field: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(value)) throw refuse(field, `malformed %-escape in ${JSON.stringify(value)}`);
  return value.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

function prefixLength(value: unknown, field = 'companyPrefixLength'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 6 || value > 12) {
    throw refuse(field, 'GS1 company prefix length must be an integer from 6 to 12');
  }
  return value;
}

/** epc-tds numbers partitions by digits left for the reference: partition = 12 - company prefix length. */
const partitionOf = (cpLen: number) => 12 - cpLen;

/** The `CP.REF` part of the library's id URI for a GTIN. */
function gtinParts(gtin: string, cpLen: number): string {
  const e = new Sgtin198();
  e.setPartition(partitionOf(cpLen));
  e.setGtin(gtin);
  e.setSerial('0');
  const uri = e.toIdURI(); // urn:epc:id:sgtin:CP.IR.0
  return uri.slice('urn:epc:id:sgtin:'.length, uri.lastIndexOf('.'));
}

export function toEpcUri(key: Gs1Key, companyPrefixLength: number): string {
  const k = checkedKey(key);
  const cpLen = prefixLength(companyPrefixLength);
  try {
    return buildEpcUri(k, cpLen);
  } catch (err) {
    throw refuse('key', `no EPC URI with a ${cpLen}-digit company prefix (${(err as Error).message})`);
  }
}

function buildEpcUri(k: Gs1Key, cpLen: number): string {
  switch (k.kind) {
    case 'sgtin':
      return `urn:epc:id:sgtin:${gtinParts(k.gtin, cpLen)}.${escapeEpc(k.serial)}`;
    case 'lgtin':
      return `urn:epc:class:lgtin:${gtinParts(k.gtin, cpLen)}.${escapeEpc(k.lot)}`;
    case 'gtin':
      return `urn:epc:idpat:sgtin:${gtinParts(k.gtin, cpLen)}.*`;
    case 'sscc': {
      const e = new Sscc96();
      e.setPartition(partitionOf(cpLen));
      e.setSscc(k.sscc);
      return e.toIdURI();
    }
    case 'sgln': {
      const ext = k.extension === undefined ? '0' : escapeEpc(k.extension);
      // epc-tds writes a 12-digit prefix's empty location reference as '0' (CP.0.EXT); TDS says CP..EXT.
      if (cpLen === 12) return `urn:epc:id:sgln:${k.gln.slice(0, 12)}..${ext}`;
      const e = new Sgln195();
      e.setPartition(partitionOf(cpLen));
      e.setGln(k.gln);
      e.setExtension('0');
      const uri = e.toIdURI(); // urn:epc:id:sgln:CP.LR.0
      return `${uri.slice(0, uri.lastIndexOf('.'))}.${ext}`;
    }
  }
}

export interface ParsedEpcUri {
  key: Gs1Key;
  companyPrefix: string;
  companyPrefixLength: number;
}

type EpcKind = 'sgtin' | 'lgtin' | 'gtin' | 'sscc' | 'sgln';

const EPC_FORMS: { re: RegExp; total: number; kind: EpcKind }[] = [
  { re: /^urn:epc:id:sgtin:(\d{6,12})\.(\d{1,7})\.(.+)$/, total: 13, kind: 'sgtin' },
  { re: /^urn:epc:class:lgtin:(\d{6,12})\.(\d{1,7})\.(.+)$/, total: 13, kind: 'lgtin' },
  { re: /^urn:epc:idpat:sgtin:(\d{6,12})\.(\d{1,7})\.\*$/, total: 13, kind: 'gtin' },
  { re: /^urn:epc:id:sscc:(\d{6,12})\.(\d{5,11})$/, total: 17, kind: 'sscc' },
  { re: /^urn:epc:id:sgln:(\d{6,12})\.(\d{0,6})\.(.+)$/, total: 12, kind: 'sgln' },
];

export function parseEpcUri(uri: unknown, field = 'epc'): ParsedEpcUri {
  if (typeof uri !== 'string') throw refuse(field, 'EPC URI must be a string');
  if (uri.length > 200) throw refuse(field, 'EPC URI is longer than 200 characters');
  const form = EPC_FORMS.find((f) => f.re.test(uri));
  if (!form) {
    throw refuse(
      field,
      `${JSON.stringify(uri.slice(0, 60))} is not an SGTIN, LGTIN, SGTIN pattern, SSCC or SGLN EPC URI (urn:epc:id:sgtin:CP.IR.SERIAL, …)`,
    );
  }
  const [, cp = '', ref = '', rest] = form.re.exec(uri) ?? [];
  if (cp.length + ref.length !== form.total) {
    throw refuse(
      field,
      `company prefix ${cp} and reference ${ref} have ${cp.length + ref.length} digits; the ${form.kind.toUpperCase()} form needs ${form.total}`,
    );
  }
  return { key: readEpcKey(form.kind, cp, ref, rest ?? '', field), companyPrefix: cp, companyPrefixLength: cp.length };
}

/** The key of a well-formed EPC URI; epc-tds joins prefix and reference and computes the check digit. */
function readEpcKey(kind: EpcKind, cp: string, ref: string, rest: string, field: string): Gs1Key {
  const tag = (scheme: string, tail: string) => `urn:epc:tag:${scheme}:0.${cp}.${tail}`;
  const lib = <T>(read: () => T): T => {
    try {
      return read();
    } catch (err) {
      throw refuse(field, `epc-tds cannot read ${kind.toUpperCase()} ${cp}.${ref} (${(err as Error).message})`);
    }
  };
  switch (kind) {
    case 'sgtin':
    case 'lgtin':
    case 'gtin': {
      const gtin = parseGtin(
        lib(() => Sgtin198.fromTagURI(tag('sgtin-198', `${ref}.0`)).getGtin()),
        field,
      );
      if (kind === 'gtin') return { kind, gtin };
      const value = unescapeEpc(rest, field);
      return kind === 'sgtin'
        ? { kind, gtin, serial: parseSerial(value, field) }
        : { kind, gtin, lot: parseLot(value, field) };
    }
    case 'sscc':
      return {
        kind,
        sscc: parseSscc(
          lib(() => Sscc96.fromTagURI(tag('sscc-96', ref)).getSscc()),
          field,
        ),
      };
    case 'sgln': {
      // epc-tds cannot read the empty location reference of a 12-digit prefix: that GLN is the prefix + check.
      const gln = parseGln(
        ref === '' ? withCheckDigit(cp) : lib(() => Sgln195.fromTagURI(tag('sgln-195', `${ref}.0`)).getGln()),
        field,
      );
      const ext = unescapeEpc(rest, field);
      return ext === '0' ? { kind, gln } : { kind, gln, extension: parseGlnExtension(ext, field) };
    }
  }
}

export function epcToDigitalLink(uri: unknown, resolver: string = CANONICAL_RESOLVER, field = 'epc'): string {
  return toDigitalLink(parseEpcUri(uri, field).key, resolver);
}

export function digitalLinkToEpc(uri: unknown, companyPrefixLength: number, field = 'uri'): string {
  return toEpcUri(parseDigitalLink(uri, field), companyPrefixLength);
}

/** A key given as EPC URI or GS1 Digital Link URI. */
export function parseGs1Uri(value: unknown, field = 'uri'): Gs1Key {
  if (typeof value === 'string' && value.startsWith('urn:epc:')) return parseEpcUri(value, field).key;
  return parseDigitalLink(value, field);
}
