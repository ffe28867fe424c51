/**
 * GS1 key normalisation for the CBV 2.0 event hash: any EPC URI (instance, class, id pattern) or GS1 Digital
 * Link URI that carries a GS1 key becomes ONE constrained canonical Digital Link URI on https://id.gs1.org,
 * holding only the finest identification level (a serial drops the lot, CPV and query strings are dropped).
 *
 *   normaliseGs1Uri('urn:epc:id:sgtin:4012345.011111.987') === 'https://id.gs1.org/01/04012345111118/21/987'
 *   normaliseGs1Uri('https://example.com/gtin/4012345111118/lot/A1') === 'https://id.gs1.org/01/04012345111118/10/A1'
 *   normaliseGs1Uri('urn:epcglobal:cbv:bizstep:shipping') === undefined   (not a GS1 key: caller keeps its value)
 *
 * Why not epc-tds / digital-link.js: this runs in the chaincode and the browser verifier (no dependencies),
 * and the hash must equal the reference implementation (github RalphTro/epcis-event-hash-generator,
 * dl_normaliser.py) character for character, including which inputs it leaves alone. This is our own
 * TypeScript written to that behaviour (the fixed offsets below are those of the EPC URI grammar: e.g.
 * 'urn:epc:id:sgtin:' is 17 characters and company prefix + item reference are always 13 digits).
 */

/** One EPC URI character of the GS1 AI 82-character set, raw or percent-encoded (TDS 2.0 section 6). */
const EPC_CHAR =
  "(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])";
/** CPI characters (AI 8010 uses the 39-character set). */
const CPI_CHAR = '(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])';
/** The characters a canonical DL path segment may hold here (AI 82 set less '%', '/', ...). */
const DL_CHAR = '[\\x22\\x27\\x2D\\x2E\\x30-\\x39\\x3B-\\x3F\\x41-\\x5A\\x5F\\x61-\\x7A]';

/** Company prefix + reference with a fixed total of `total` digits, company prefix 6..12 digits. */
function cpRef(total: number, lastAllowsEmpty: 'digit' | 'dot' | 'empty'): string {
  const alts: string[] = [];
  for (let cp = 6; cp <= 12; cp++) {
    const ref = total - cp;
    if (ref > 0) alts.push(`\\d{${cp}}\\.\\d{${ref}}`);
    else if (lastAllowsEmpty === 'dot') alts.push(`\\d{${cp}}\\.\\.`);
    else if (lastAllowsEmpty === 'empty') alts.push(`\\d{${cp}}\\.`);
  }
  return `(?:${alts.join('|')})`;
}

/** Prefix + variable reference whose maximum shrinks as the company prefix grows (GIAI, GINC, CPI). */
function cpVar(maxAt6: number, ch: string): string {
  const alts: string[] = [];
  for (let cp = 6; cp <= 12; cp++) alts.push(`\\d{${cp}}\\.${ch}{1,${maxAt6 - (cp - 6)}}`);
  return `(?:${alts.join('|')})`;
}

/** Anchored at the start only, like Python's re.match: sticky flag, lastIndex reset on every test. */
function starts(source: string): ((s: string) => boolean) & { source: string } {
  const re = new RegExp(source, 'y');
  return Object.assign(
    (s: string) => {
      re.lastIndex = 0;
      return re.test(s);
    },
    { source },
  );
}

/** GS1 standard check digit (GenSpecs 7.9.1) of the digits given, weights 3,1,3,... from the right. */
export function gs1CheckDigit(digits: string): number {
  let sum = 0;
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += (digits.charCodeAt(i) - 48) * w;
  return (10 - (sum % 10)) % 10;
}

/** Table 7-1 of the GS1 Digital Link standard: the characters EPC URIs allow but a DL path must encode. */
const PCT: Record<string, string> = {
  '!': '%21',
  '(': '%28',
  ')': '%29',
  '*': '%2A',
  '+': '%2B',
  ',': '%2C',
  ':': '%3A',
};
function pctEncode(s: string): string {
  return s.replace(/[!()*+,:]/g, (c) => PCT[c]!);
}

const withCheck = (raw: string): string => raw + String(gs1CheckDigit(raw));
/** GTIN-14 from an EPC company prefix + (indicator digit + item reference) of 13 digits. */
const gtinOf = (cp: string, itemRef: string): string => withCheck(itemRef.slice(0, 1) + cp + itemRef.slice(1));

const BASE = 'https://id.gs1.org';

interface EpcRule {
  test: ((s: string) => boolean) & { source: string };
  convert: (uri: string, dot: number) => string;
}

/** `urn:epc:id:sgtin:` of an EPC URI (the rule is looked up by it rather than tried in turn). */
function epcScheme(uri: string): string {
  let at = 0;
  for (let i = 0; i < 4; i++) {
    at = uri.indexOf(':', at) + 1;
    if (at === 0) return '';
  }
  return uri.slice(0, at);
}

const EPC_RULES: EpcRule[] = [
  {
    test: starts(`^urn:epc:id:sgtin:${cpRef(13, 'digit')}\\.${EPC_CHAR}{1,20}$`),
    convert: (u, p) => {
      const cp = u.slice(17, p);
      return `${BASE}/01/${gtinOf(cp, u.slice(p + 1, p + 1 + 13 - cp.length))}/21/${pctEncode(u.slice(32))}`;
    },
  },
  {
    test: starts(`^urn:epc:id:sscc:${cpRef(17, 'digit')}$`),
    convert: (u, p) => `${BASE}/00/${withCheck(u.slice(p + 1, p + 2) + u.slice(16, p) + u.slice(p + 2))}`,
  },
  {
    test: starts(`^urn:epc:id:sgln:${cpRef(12, 'empty')}\\.${EPC_CHAR}{1,20}$`),
    convert: (u, p) => {
      const cp = u.slice(16, p);
      const gln = withCheck(cp + u.slice(p + 1, p + 1 + 12 - cp.length));
      const ext = u.slice(30);
      return ext === '0' ? `${BASE}/414/${gln}` : `${BASE}/414/${gln}/254/${pctEncode(ext)}`;
    },
  },
  {
    test: starts(`^urn:epc:id:grai:${cpRef(12, 'dot')}\\.${EPC_CHAR}{1,16}$`),
    convert: (u, p) => {
      const cp = u.slice(16, p);
      return `${BASE}/8003/${withCheck(`0${cp}${u.slice(p + 1, p + 1 + 12 - cp.length)}`)}${pctEncode(u.slice(30))}`;
    },
  },
  {
    test: starts(`^urn:epc:id:giai:${cpVar(24, EPC_CHAR)}$`),
    convert: (u, p) => `${BASE}/8004/${u.slice(16, p)}${pctEncode(u.slice(p + 1))}`,
  },
  {
    test: starts(`^urn:epc:id:gsrn:${cpRef(17, 'digit')}$`),
    convert: (u, p) => `${BASE}/8018/${withCheck(u.slice(16, p) + u.slice(p + 1))}`,
  },
  {
    test: starts(`^urn:epc:id:gsrnp:${cpRef(17, 'digit')}$`),
    convert: (u, p) => `${BASE}/8017/${withCheck(u.slice(17, p) + u.slice(p + 1))}`,
  },
  {
    // GDTI: no dot between document type and serial in the pattern the reference accepts.
    test: starts(`^urn:epc:id:gdti:${cpRef(12, 'dot')}${EPC_CHAR}{1,20}$`),
    convert: (u, p) => {
      const cp = u.slice(16, p);
      return `${BASE}/253/${withCheck(cp + u.slice(p + 1, p + 1 + 12 - cp.length))}${pctEncode(u.slice(30))}`;
    },
  },
  {
    test: starts(`^urn:epc:id:cpi:${cpVar(24, CPI_CHAR)}\\.\\d{1,12}$`),
    convert: (u, p) => {
      const sep = u.lastIndexOf('.');
      return `${BASE}/8010/${pctEncode(u.slice(15, p) + u.slice(p + 1, sep))}/8011/${u.slice(sep + 1)}`;
    },
  },
  {
    test: starts(`^urn:epc:id:sgcn:${cpRef(12, 'empty')}\\.\\d{1,12}$`),
    convert: (u, p) => {
      const cp = u.slice(16, p);
      return `${BASE}/255/${withCheck(cp + u.slice(p + 1, p + 1 + 12 - cp.length))}${u.slice(30)}`;
    },
  },
  {
    test: starts(`^urn:epc:id:ginc:${cpVar(24, EPC_CHAR)}$`),
    convert: (u, p) => `${BASE}/401/${u.slice(16, p)}${pctEncode(u.slice(p + 1))}`,
  },
  {
    test: starts(`^urn:epc:id:gsin:${cpRef(16, 'digit')}$`),
    convert: (u, p) => `${BASE}/402/${withCheck(u.slice(16, p) + u.slice(p + 1))}`,
  },
  {
    test: starts(`^urn:epc:id:itip:${cpRef(13, 'digit')}\\.\\d{2}\\.\\d{2}\\.${EPC_CHAR}{1,20}$`),
    convert: (u, p) => {
      const cp = u.slice(16, p);
      const gtin = gtinOf(cp, u.slice(p + 1, p + 1 + 13 - cp.length));
      return `${BASE}/8006/${gtin}${u.slice(31, 33)}${u.slice(34, 36)}/21/${pctEncode(u.slice(37))}`;
    },
  },
  {
    test: starts(`^urn:epc:id:upui:${cpRef(13, 'digit')}\\.${EPC_CHAR}{1,28}$`),
    convert: (u, p) => {
      const cp = u.slice(16, p);
      return `${BASE}/01/${gtinOf(cp, u.slice(p + 1, p + 1 + 13 - cp.length))}/235/${pctEncode(u.slice(31))}`;
    },
  },
  {
    test: starts(`^urn:epc:id:pgln:${cpRef(12, 'empty')}$`),
    convert: (u, p) => {
      const cp = u.slice(16, p);
      return `${BASE}/417/${withCheck(cp + u.slice(p + 1, p + 1 + 12 - cp.length))}`;
    },
  },
  // EPC class URIs
  {
    test: starts(`^urn:epc:class:lgtin:${cpRef(13, 'digit')}\\.${EPC_CHAR}{1,20}$`),
    convert: (u, p) => {
      const cp = u.slice(20, p);
      return `${BASE}/01/${gtinOf(cp, u.slice(p + 1, p + 1 + 13 - cp.length))}/10/${pctEncode(u.slice(35))}`;
    },
  },
  // EPC id pattern URIs (class level: the key without its serial)
  {
    test: starts(`^urn:epc:idpat:sgtin:${cpRef(13, 'digit')}\\.\\*$`),
    convert: (u, p) => {
      const cp = u.slice(20, p);
      return `${BASE}/01/${gtinOf(cp, u.slice(p + 1, p + 1 + 13 - cp.length))}`;
    },
  },
  {
    test: starts(`^urn:epc:idpat:grai:${cpRef(12, 'dot')}\\.\\*$`),
    convert: (u, p) => {
      const cp = u.slice(19, p);
      return `${BASE}/8003/${withCheck(`0${cp}${u.slice(p + 1, p + 1 + 12 - cp.length)}`)}`;
    },
  },
  {
    test: starts(`^urn:epc:idpat:gdti:${cpRef(12, 'dot')}\\.\\*$`),
    convert: (u, p) => {
      const cp = u.slice(19, p);
      return `${BASE}/253/${withCheck(cp + u.slice(p + 1, p + 1 + 12 - cp.length))}`;
    },
  },
  {
    test: starts(`^urn:epc:idpat:sgcn:${cpRef(12, 'dot')}\\.\\*$`),
    convert: (u, p) => {
      const cp = u.slice(19, p);
      return `${BASE}/255/${withCheck(cp + u.slice(p + 1, p + 1 + 12 - cp.length))}`;
    },
  },
  {
    test: starts(`^urn:epc:idpat:cpi:${cpVar(24, CPI_CHAR)}\\.\\*$`),
    convert: (u, p) => `${BASE}/8010/${pctEncode(u.slice(18, p) + u.slice(p + 1, u.lastIndexOf('.')))}`,
  },
  {
    test: starts(`^urn:epc:idpat:itip:${cpRef(13, 'digit')}\\.\\d{2}\\.\\d{2}\\.\\*$`),
    convert: (u, p) => {
      const cp = u.slice(19, p);
      const gtin = gtinOf(cp, u.slice(p + 1, p + 1 + 13 - cp.length));
      return `${BASE}/8006/${gtin}${u.slice(34, 36)}${u.slice(37, 39)}`;
    },
  },
  {
    test: starts(`^urn:epc:idpat:upui:${cpRef(13, 'digit')}\\.\\*$`),
    convert: (u, p) => {
      const cp = u.slice(19, p);
      return `${BASE}/01/${gtinOf(cp, u.slice(p + 1, p + 1 + 13 - cp.length))}`;
    },
  },
];

/** Each rule's scheme is the literal its pattern starts with (`^urn:epc:id:sgtin:`). */
const RULES_BY_SCHEME = new Map<string, EpcRule>(EPC_RULES.map((r) => [epcScheme(r.test.source.slice(1)), r]));

const KEY_AIS =
  '01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai';
/** Cheap pre-tests: a key segment (`/01/1234…`) or a compressed path; the full pattern below is slow. */
const mayHoldKey = new RegExp(`\\/(?:${KEY_AIS})\\/\\d{4}`);
const mayBeCompressed = /\/[A-Za-z_-]{10}$/;
/** Any http(s) URI whose path holds a GS1 primary key segment (or a 10-character compressed path). */
const isDlLike = starts(
  `^https?:(\\/\\/((([^\\/?#]*)@)?([^\\/?#:]*)(:([^\\/?#]*))?))?((([^?#]*)(\\/(${KEY_AIS})\\/)(\\d{4}[^\\/]+)(\\/[^/]+\\/[^/]+)?[/]?(\\?([^?\\n]*))?(#([^\\n]*))?)|(\\/[A-Za-z_-]{10}$))`,
);
const isCanonicalHost = starts(
  '^https:\\/\\/id.gs1.org\\/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)\\/(\\d{4}[^\\/]+)(\\/[^\\/]+\\/[^\\/]+)?[\\/]?(\\?([^?\\n]*))?(#([^\\n]*))?|(\\/[A-Za-z_-]{10}$)',
);
/** Short names of Digital Link keys and qualifiers, replaced by their AIs. */
const SHORT_NAMES: [string, string][] = [
  ['/gtin/', '/01/'],
  ['/itip/', '/8006/'],
  ['/cpid/', '/8010/'],
  ['/gln/', '/414/'],
  ['/party/', '/417/'],
  ['/gsrnp/', '/8017/'],
  ['/gsrn/', '/8018/'],
  ['/gcn/', '/255/'],
  ['/sscc/', '/00/'],
  ['/gdti/', '/253/'],
  ['/ginc/', '/401/'],
  ['/gsin/', '/402/'],
  ['/grai/', '/8003/'],
  ['/giai/', '/8004/'],
  ['/cpv/', '/22/'],
  ['/lot/', '/10/'],
  ['/ser/', '/21/'],
];
/** Primary key AIs in the order the reference looks for them when moving a URI onto id.gs1.org. */
const REHOST_ORDER = [
  '00',
  '01',
  '253',
  '255',
  '401',
  '402',
  '414',
  '417',
  '8003',
  '8004',
  '8006',
  '8010',
  '8017',
  '8018',
];

const G = 'https:\\/\\/id.gs1.org';
/** GTIN padding to 14 digits: tests for a GTIN of at least n digits after /01/. */
const gtinDigits: Record<number, (s: string) => boolean> = Object.fromEntries(
  [14, 13, 12, 8].map((n) => [n, starts(`${G}\\/01\\/\\d{${n}}`)]),
);
const cpvOnly = [
  starts(`${G}\\/8006\\/\\d{18}\\/22\\/(${DL_CHAR}{0,20})$`),
  starts(`${G}\\/01\\/\\d{14}\\/22\\/(${DL_CHAR}{0,20})$`),
];
const DL_CHAR_SLASH = DL_CHAR.replace('[', '[\\x2F');
const cpvThenMore = [
  starts(`${G}\\/8006\\/\\d{18}\\/22\\/(${DL_CHAR_SLASH}{0,20})$`),
  starts(`${G}\\/01\\/\\d{14}\\/22\\/(${DL_CHAR_SLASH}{0,20})$`),
];
const lotAndSerial = [
  starts(`${G}\\/8006\\/\\d{18}\\/10\\/(${DL_CHAR}{0,20})\\/21\\/(${DL_CHAR}{0,20})$`),
  starts(`${G}\\/01\\/(\\d{14})\\/10\\/(${DL_CHAR}{0,20})\\/21\\/(${DL_CHAR}{0,20})$`),
];
/** The constrained canonical forms a result must have; anything else is not normalised. */
const CANONICAL = [
  `${G}\\/00\\/(\\d{18})$`,
  `${G}\\/01\\/(\\d{14})\\/21\\/(${DL_CHAR}{0,20})$`,
  `${G}\\/01\\/(\\d{14})\\/10\\/(${DL_CHAR}{0,20})$`,
  `${G}\\/01\\/(\\d{14})$`,
  `${G}\\/01\\/(\\d{14})\\/235\\/(${DL_CHAR}{0,28})$`,
  `${G}\\/253\\/(\\d{13})(${DL_CHAR}{0,17})$`,
  `${G}\\/255\\/(\\d{13})(\\d{0,12})$`,
  `${G}\\/401\\/(${DL_CHAR}{0,30})$`,
  `${G}\\/402\\/(\\d{17})$`,
  `${G}\\/414\\/(\\d{13})$`,
  `${G}\\/414\\/(\\d{13})\\/254\\/(${DL_CHAR}{0,20})$`,
  `${G}\\/417\\/(\\d{13})$`,
  `${G}\\/8003\\/(\\d{14})(${DL_CHAR}{0,16})$`,
  `${G}\\/8004\\/(${DL_CHAR}{0,30})$`,
  `${G}\\/8006\\/(\\d{18})\\/21\\/(${DL_CHAR}{0,20})$`,
  `${G}\\/8006\\/(\\d{18})\\/10\\/(${DL_CHAR}{0,20})$`,
  `${G}\\/8006\\/(\\d{18})$`,
  `${G}\\/8010\\/([\\x23\\x2D\\x2F\\x30-\\x39\\x41-\\x5A]{0,30})\\/8011/(\\d{0,12})$`,
  `${G}\\/8010\\/([\\x23\\x2D\\x2F\\x30-\\x39\\x41-\\x5A]{0,30})$`,
  `${G}\\/8017\\/(\\d{18})$`,
  `${G}\\/8018\\/(\\d{18})$`,
].map(starts);

/** Python's s[from:to] for the non-negative / -1 indices used here. */
function pySlice(s: string, from: number, to?: number): string {
  const f = from < 0 ? Math.max(0, s.length + from) : from;
  const t = to === undefined ? s.length : to < 0 ? Math.max(0, s.length + to) : to;
  return f < t ? s.slice(f, t) : '';
}

/**
 * The canonical Digital Link URI of a GS1 key given as EPC URI or Digital Link URI, or undefined when the
 * value carries no GS1 key this normaliser knows (the event hash then keeps the value as it is).
 */
export function normaliseGs1Uri(value: string): string | undefined {
  const dot = value.indexOf('.');
  if (dot < 0) return undefined;
  if (value.startsWith('urn:epc:')) {
    const rule = RULES_BY_SCHEME.get(epcScheme(value));
    return rule?.test(value) ? rule.convert(value, dot) : undefined;
  }
  if (!value.startsWith('http') || !(mayHoldKey.test(value) || mayBeCompressed.test(value)) || !isDlLike(value)) {
    return undefined;
  }
  let uri = value;
  const q = uri.indexOf('?');
  if (q >= 0) uri = uri.slice(0, q);
  for (const [from, to] of SHORT_NAMES) uri = uri.replaceAll(from, to);
  if (!isCanonicalHost(uri)) {
    for (const ai of REHOST_ORDER) {
      const at = uri.indexOf(`/${ai}/`);
      if (at !== -1) {
        uri = BASE + uri.slice(at);
        break;
      }
    }
  }
  if (!gtinDigits[14]!(uri)) {
    if (gtinDigits[13]!(uri)) uri = uri.replaceAll('/01/', '/01/0');
    else if (gtinDigits[12]!(uri)) uri = uri.replaceAll('/01/', '/01/00');
    else if (gtinDigits[8]!(uri)) uri = uri.replaceAll('/01/', '/01/000000');
  }
  const cpv = pySlice(uri, uri.indexOf('/22/') + 4);
  if (cpvOnly.some((t) => t(uri))) uri = uri.slice(0, uri.indexOf('/22/')) + pySlice(cpv, cpv.indexOf('/'), -1);
  if (cpvThenMore.some((t) => t(uri))) uri = uri.slice(0, uri.indexOf('/22/')) + pySlice(cpv, cpv.indexOf('/'));
  if (lotAndSerial.some((t) => t(uri))) {
    const rest = pySlice(uri, uri.indexOf('/10/') + 4);
    uri = uri.slice(0, uri.indexOf('/10/')) + pySlice(rest, rest.indexOf('/'));
  }
  return CANONICAL.some((t) => t(uri)) ? uri : undefined;
}
