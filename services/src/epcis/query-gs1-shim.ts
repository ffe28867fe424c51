/**
 * TEMPORARY SHIM — delete when branch `gs1` lands (services/src/gs1/, services/src/epcis/cbv.ts) and point
 * query.ts at its functions instead. It covers only what the query needs and only the common keys (SGTIN, LGTIN
 * class, SSCC, SGLN): URN -> canonical Digital Link, class-level patterns as prefix ranges, and the bare / URN /
 * Web-URI forms of CBV values.
 */

const DL = 'https://id.gs1.org';

function checkDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[digits.length - 1 - i]);
    sum += i % 2 === 0 ? d * 3 : d;
  }
  return String((10 - (sum % 10)) % 10);
}

const gtinOf = (cp: string, ir: string) => {
  const body = `${ir[0]}${cp}${ir.slice(1)}`;
  return body + checkDigit(body);
};

const dec = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
const enc = (s: string) => encodeURIComponent(s);

/** Canonical form of a URI: GS1 keys as canonical Digital Link on id.gs1.org; anything else as given. */
export function canonicalUri(uri: string): string {
  let m = /^urn:epc:id:sgtin:(\d{6,12})\.(\d{1,7})\.(.+)$/.exec(uri);
  if (m && (m[1] as string).length + (m[2] as string).length === 13) {
    return `${DL}/01/${gtinOf(m[1] as string, m[2] as string)}/21/${enc(dec(m[3] as string))}`;
  }
  m = /^urn:epc:class:lgtin:(\d{6,12})\.(\d{1,7})\.(.+)$/.exec(uri);
  if (m && (m[1] as string).length + (m[2] as string).length === 13) {
    return `${DL}/01/${gtinOf(m[1] as string, m[2] as string)}/10/${enc(dec(m[3] as string))}`;
  }
  m = /^urn:epc:id:sscc:(\d{6,12})\.(\d{5,11})$/.exec(uri);
  if (m && (m[1] as string).length + (m[2] as string).length === 17) {
    const body = `${(m[2] as string)[0]}${m[1]}${(m[2] as string).slice(1)}`;
    return `${DL}/00/${body}${checkDigit(body)}`;
  }
  m = /^urn:epc:id:sgln:(\d{6,12})\.(\d{0,6})\.(.*)$/.exec(uri);
  if (m && (m[1] as string).length + (m[2] as string).length === 12) {
    const body = `${m[1]}${m[2]}`;
    const ext = m[3] as string;
    return `${DL}/414/${body}${checkDigit(body)}${ext === '0' || ext === '' ? '' : `/254/${enc(dec(ext))}`}`;
  }
  m =
    /^https?:\/\/[^/?#]+(?:\/[^?#]*)?\/01\/(\d{8}|\d{12,14})(?:\/22\/[^/?#]+)?(?:\/10\/([^/?#]+))?(?:\/21\/([^/?#]+))?\/?(?:[?#].*)?$/.exec(
      uri,
    );
  if (m) {
    const gtin = (m[1] as string).padStart(14, '0');
    if (m[3]) return `${DL}/01/${gtin}/21/${enc(dec(m[3]))}`;
    if (m[2]) return `${DL}/01/${gtin}/10/${enc(dec(m[2]))}`;
    return `${DL}/01/${gtin}`;
  }
  m = /^https?:\/\/[^/?#]+(?:\/[^?#]*)?\/00\/(\d{18})\/?(?:[?#].*)?$/.exec(uri);
  if (m) return `${DL}/00/${m[1]}`;
  m = /^https?:\/\/[^/?#]+(?:\/[^?#]*)?\/414\/(\d{13})(?:\/254\/([^/?#]+))?\/?(?:[?#].*)?$/.exec(uri);
  if (m) return `${DL}/414/${m[1]}${m[2] ? `/254/${enc(dec(m[2]))}` : ''}`;
  return uri;
}

/**
 * A class-level pattern as canonical Digital Link prefixes: `urn:epc:idpat:sgtin:CP.IR.*` (every serial of a
 * GTIN), `urn:epc:idpat:sgtin:CP.*.*` (every GTIN of a company prefix), `urn:epc:idpat:sscc:CP.*`,
 * `urn:epc:idpat:sgln:CP.LR.*`, and a Digital Link naming only a GTIN (`/01/{gtin}`: its serials and lots).
 * `stems`: the class itself (matched exactly, as an epcClass) and, followed by `/`, the prefix of its instances.
 * `prefixes`: plain prefixes (company-prefix-wide patterns). Undefined when the value is not a pattern.
 */
export function epcPattern(value: string): { stems: string[]; prefixes: string[] } | undefined {
  let m = /^urn:epc:idpat:sgtin:(\d{6,12})\.(\d{1,7})\.\*$/.exec(value);
  if (m && (m[1] as string).length + (m[2] as string).length === 13) {
    return { stems: [`${DL}/01/${gtinOf(m[1] as string, m[2] as string)}`], prefixes: [] };
  }
  m = /^urn:epc:idpat:sgtin:(\d{6,12})\.\*\.\*$/.exec(value);
  if (m) return { stems: [], prefixes: [...'0123456789'].map((d) => `${DL}/01/${d}${m?.[1]}`) };
  m = /^urn:epc:idpat:sscc:(\d{6,12})\.\*$/.exec(value);
  if (m) return { stems: [], prefixes: [...'0123456789'].map((d) => `${DL}/00/${d}${m?.[1]}`) };
  m = /^urn:epc:idpat:sgln:(\d{6,12})\.(\d{0,6})\.\*$/.exec(value);
  if (m && (m[1] as string).length + (m[2] as string).length === 12) {
    const body = `${m[1]}${m[2]}`;
    return { stems: [`${DL}/414/${body}${checkDigit(body)}`], prefixes: [] };
  }
  if (/^urn:epc:idpat:/.test(value)) return undefined;
  if (/^https?:\/\//.test(value)) {
    const c = canonicalUri(value);
    if (/^https:\/\/id\.gs1\.org\/01\/\d{14}$/.test(c)) return { stems: [c], prefixes: [] };
  }
  return undefined;
}

/** True when the value is an EPC pattern URN this shim does not understand (a 400, not a silent miss). */
export const isUnsupportedPattern = (value: string) => /^urn:epc:idpat:/.test(value) && !epcPattern(value);

export type CbvKind = 'bizstep' | 'disp' | 'btt' | 'sdt' | 'er';
const URN: Record<CbvKind, string> = {
  bizstep: 'urn:epcglobal:cbv:bizstep:',
  disp: 'urn:epcglobal:cbv:disp:',
  btt: 'urn:epcglobal:cbv:btt:',
  sdt: 'urn:epcglobal:cbv:sdt:',
  er: 'urn:epcglobal:cbv:er:',
};
const WEB: Record<CbvKind, string> = {
  bizstep: 'https://ref.gs1.org/cbv/BizStep-',
  disp: 'https://ref.gs1.org/cbv/Disp-',
  btt: 'https://ref.gs1.org/cbv/BTT-',
  sdt: 'https://ref.gs1.org/cbv/SDT-',
  er: 'https://ref.gs1.org/cbv/ER-',
};

/** The bare CBV name of a value given bare, as URN or as GS1 Web URI; other values (custom URIs) as given. */
export function cbvBare(kind: CbvKind, value: string): string {
  if (value.startsWith(URN[kind])) return value.slice(URN[kind].length);
  if (value.startsWith(WEB[kind])) return value.slice(WEB[kind].length);
  return value;
}

/** Every spelling of a CBV value that means the same: bare, URN and Web URI (custom values: as given). */
export function cbvForms(kind: CbvKind, value: string): string[] {
  const bare = cbvBare(kind, value);
  if (/^[a-z][a-z0-9_]*$/.test(bare)) return [bare, URN[kind] + bare, WEB[kind] + bare];
  return [value];
}

/** Measurement types: bare (`Temperature`), CURIE (`gs1:Temperature`) and full (`https://gs1.org/voc/Temperature`). */
export function measurementTypeForms(value: string): string[] {
  const bare = value.replace(/^gs1:/, '').replace(/^https:\/\/gs1\.org\/voc\//, '');
  if (/^[A-Za-z][A-Za-z0-9_]*$/.test(bare)) return [bare, `gs1:${bare}`, `https://gs1.org/voc/${bare}`];
  return [value];
}
