import { CBV_WEB_PREFIX, GS1_VOC_PREFIX } from '@c2m/shared';
import { CANONICAL_RESOLVER, parseGs1Uri, toDigitalLink, withCheckDigit } from '../gs1/index.js';
import { canonicalUri } from './canonical.js';
import { type CbvVocabulary, cbvUrn, cbvWebUri, isStandardCbv, normaliseCbv } from './cbv.js';

/**
 * What the query needs of GS1 identifiers and CBV values, on top of the gs1 helpers (src/gs1/) and the CBV
 * vocabularies (cbv.ts): the canonical form every URI is indexed in, class-level patterns as prefix ranges of
 * that index, and every spelling of a CBV value (stored events may carry any of them).
 */

/** The one canonical form capture indexes with (canonical.ts): the query must compare in the same form. */
export { canonicalUri };

/**
 * A class-level pattern as canonical Digital Link prefixes, or undefined when the value is not a pattern:
 * - `urn:epc:idpat:sgtin:CP.IR.*` or a Digital Link naming only a GTIN (`/01/{gtin}`): the GTIN class itself
 *   (a stem, matched exactly, as a quantity element's epcClass) and `{stem}/`, every serial and lot of it;
 * - `urn:epc:idpat:sgtin:CP.*.*` and `urn:epc:idpat:sscc:CP.*`: every key of a company prefix, one prefix per
 *   indicator / extension digit (GS1 company prefixes are prefix-free, so this is exact);
 * - `urn:epc:idpat:sgln:CP.LR.*`: a GLN and every extension of it.
 */
export function epcPattern(value: string): { stems: string[]; prefixes: string[] } | undefined {
  const digits = [...'0123456789'];
  let m = /^urn:epc:idpat:sgtin:(\d{6,12})\.\*\.\*$/.exec(value);
  if (m) return { stems: [], prefixes: digits.map((d) => `${CANONICAL_RESOLVER}/01/${d}${m?.[1]}`) };
  m = /^urn:epc:idpat:sscc:(\d{6,12})\.\*$/.exec(value);
  if (m) return { stems: [], prefixes: digits.map((d) => `${CANONICAL_RESOLVER}/00/${d}${m?.[1]}`) };
  m = /^urn:epc:idpat:sgln:(\d{6,12})\.(\d{0,6})\.\*$/.exec(value);
  if (m && (m[1] as string).length + (m[2] as string).length === 12) {
    return { stems: [`${CANONICAL_RESOLVER}/414/${withCheckDigit(`${m[1]}${m[2]}`)}`], prefixes: [] };
  }
  if (!/^(urn:epc:idpat:|https?:\/\/)/.test(value)) return undefined;
  try {
    const key = parseGs1Uri(value);
    return key.kind === 'gtin' ? { stems: [toDigitalLink(key)], prefixes: [] } : undefined;
  } catch {
    return undefined;
  }
}

/** True for an EPC pattern URN the query cannot answer (a 400, not a silent miss). */
export const isUnsupportedPattern = (value: string) => /^urn:epc:idpat:/.test(value) && !epcPattern(value);

/** The canonical name of a CBV value (bare for a standard one); throws VALIDATION_FAILED for a typo. */
export function cbvCanonical(vocabulary: CbvVocabulary, value: string): string {
  return normaliseCbv(vocabulary, value);
}

/** As `cbvCanonical`, but a value that is not CBV at all is answered as it is (for stored values). */
export function cbvBare(vocabulary: CbvVocabulary, value: string): string {
  try {
    return normaliseCbv(vocabulary, value);
  } catch {
    return value;
  }
}

/**
 * Every spelling of a CBV value that means the same: the bare name, the GS1 Web URI (https and http), the
 * compact form and the CBV 1.2 URN; a user-defined value as given. Throws VALIDATION_FAILED for a value that
 * is neither a standard name nor a URI.
 */
export function cbvForms(vocabulary: CbvVocabulary, value: string): string[] {
  const name = normaliseCbv(vocabulary, value);
  if (!isStandardCbv(vocabulary, name)) return [name];
  const web = cbvWebUri(vocabulary, name);
  const voc = vocabulary === 'measurementType' || vocabulary === 'sensorAlertType';
  const compact = voc ? `gs1:${name}` : web.replace(CBV_WEB_PREFIX, 'cbv:');
  const forms = [name, web, web.replace('https://', 'http://'), compact, cbvUrn(vocabulary, name)];
  if (voc) forms.push(`${GS1_VOC_PREFIX}${name}`);
  return [...new Set(forms)];
}
