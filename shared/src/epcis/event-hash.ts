/**
 * CBV 2.0 EPCIS event hash (CBV 2.0 section 8.9 and its reference implementation
 * github.com/RalphTro/epcis-event-hash-generator, MIT): a name-based identifier of an event's content,
 * `ni:///sha-256;<64 hex>?ver=CBV2.0`, that two parties compute independently from the same event however its
 * JSON happens to be written (key order, whitespace, bare CBV names vs URNs vs Web URIs, EPC URNs vs Digital
 * Link URIs, time zones, number spelling).
 *
 * API
 *   epcisEventHash(event, context?)       -> 'ni:///sha-256;…?ver=CBV2.0'
 *   eventHashPreImage(event, context?)    -> the canonical string that is hashed (for debugging and tests)
 *   `context` is the JSON-LD @context of the EPCIS document the event came in (its prefixes name user
 *   extensions: `example:field` hashes as `{http://ns.example.com/epcis/}field`). Options: `ignoreFields`
 *   (top-level event fields left out, as the reference's repository-specific `ignoreFields` does), `sha256`
 *   (e.g. node:crypto's, faster in Node than the default pure-TypeScript one). A context object is read once
 *   and cached (WeakMap), so treat it as immutable once events were hashed with it.
 *
 * The pre-image is built in this order, each part `name=value`, with no separator:
 *   eventType, eventTime, eventTimeZoneOffset, certificationInfo, parentID, epcList, inputEPCList, childEPCs,
 *   quantityList, childQuantityList, inputQuantityList, outputEPCList, outputQuantityList, action,
 *   transformationID, bizStep, disposition, persistentDisposition, readPoint, bizLocation, bizTransactionList,
 *   sourceList, destinationList, sensorElementList (metadata and reports in their CBV order), then every other
 *   field (user extensions, ilmd, ...) sorted. Left out: eventID, recordTime, errorDeclaration, `type` (already
 *   first), comments. Values: times in UTC at millisecond precision (`…T11:04:03.142Z`, half-even rounding of the
 *   microseconds as the reference does), numbers without leading/trailing zeros, CBV values as GS1 Web URIs
 *   (`https://ref.gs1.org/cbv/BizStep-shipping`), GS1 keys as constrained canonical Digital Link URIs
 *   (dl-normalise.ts). Repeated values are sorted, except that within a bizTransaction/source/destination the
 *   JSON order of `type` and value is kept (as the reference does).
 *
 * Matching the reference exactly means matching its quirks too; each is kept on purpose and marked "reference:".
 * Where the reference would crash or drop the event (a bizTransaction without type, a timestamp rounding up
 * to the next second) this code gives a sensible hash instead. Pure and synchronous: runs in the chaincode,
 * the services and the browser verifier; no dependency but the synchronous SHA-256 of proof/sha256.ts.
 */
import { CodedError, ErrorCodes } from '../errors.js';
import { sha256Sync } from '../proof/sha256.js';
import {
  BIZ_STEPS,
  BIZ_TRANSACTION_TYPES,
  CBV_WEB_PREFIX,
  COMPONENTS,
  DISPOSITIONS,
  ERROR_REASONS,
  GS1_VOC_PREFIX,
  MEASUREMENT_TYPES,
  SENSOR_ALERT_TYPES,
  SOURCE_DESTINATION_TYPES,
} from './cbv-vocabulary.js';
import { normaliseGs1Uri } from './dl-normalise.js';

export type JsonLdContext = unknown;

/** Nesting deeper than this (objects and arrays) is refused rather than recursed into: a hostile event. */
export const MAX_EVENT_DEPTH = 64;
const MAX_DEPTH = MAX_EVENT_DEPTH;
const tooDeep = () =>
  new CodedError(ErrorCodes.VALIDATION_FAILED, `EPCIS event nests deeper than ${MAX_EVENT_DEPTH} levels`);

export interface EventHashOptions {
  /** Top-level event fields left out of the hash (the reference's `ignoreFields`). */
  ignoreFields?: readonly string[];
  /**
   * SHA-256 to use (default: the synchronous pure-TypeScript one, which runs everywhere). Node callers
   * hashing thousands of events can pass node:crypto's, e.g. (b) => createHash('sha256').update(b).digest().
   */
  sha256?: (data: Uint8Array) => Uint8Array;
}

// ---------------------------------------------------------------------------------------------------------------
// The event as a tree of (name, text, children), the model both the XML and the JSON form reduce to.

interface Node {
  name: string;
  text: string;
  children: Item[];
}
/** A bizTransaction/source/destination entry: its first two fields, in JSON order. */
interface Pair {
  pair: Node[];
}
type Item = Node | Pair;

const isNode = (i: Item): i is Node => (i as Node).name !== undefined;

/** Python's string order (code points), which JS's UTF-16 order differs from only for astral characters. */
function cmpStr(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa && !sb && cb >= 0xe000) return 1;
      if (sb && !sa && ca >= 0xe000) return -1;
      return ca - cb;
    }
  }
  return a.length - b.length;
}

const NON_BMP_ORDER = /[\uD800-\uFFFF]/;
/** Sorts in Python's order; the engine's (faster) UTF-16 order is the same unless a value has U+D800..U+FFFF. */
const sortStrings = (values: string[]): string[] =>
  values.length < 2 ? values : values.some((v) => NON_BMP_ORDER.test(v)) ? values.sort(cmpStr) : values.sort();

// ---------------------------------------------------------------------------------------------------------------
// Value canonicalisation

const OLD_CBV_URNS: [string, string][] = [
  ['urn:epcglobal:cbv:bizstep:', 'https://ref.gs1.org/cbv/BizStep-'],
  ['urn:epcglobal:cbv:disp:', 'https://ref.gs1.org/cbv/Disp-'],
  ['urn:epcglobal:cbv:btt:', 'https://ref.gs1.org/cbv/BTT-'],
  ['urn:epcglobal:cbv:sdt:', 'https://ref.gs1.org/cbv/SDT-'],
  ['urn:epcglobal:cbv:er:', 'https://ref.gs1.org/cbv/ER-'],
];

/** Python's float() syntax (after strip): what the reference treats as a number. */
const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_NAN_INF = /^[+-]?(?:nan|inf|infinity)$/i;

/** Python's repr() of a non-integral float: shortest round-trip digits, exponent form below 1e-4. */
function pyFloatRepr(x: number): string {
  if (Math.abs(x) >= 1e-4) return String(x);
  const [mant, exp] = x.toExponential().split('e') as [string, string];
  const sign = exp.startsWith('-') ? '-' : '+';
  const digits = exp.replace(/^[+-]/, '');
  return `${mant}e${sign}${digits.padStart(2, '0')}`;
}

/** reference: any value that parses as a number is respelled (`+1.50` -> `1.5`, `007` -> `7`, `2.0` -> `2`). */
function canonicalNumber(text: string): string {
  if (!PY_FLOAT.test(text)) return text; // NaN/Infinity and non-numbers are kept as written
  const x = Number(text.replaceAll('_', ''));
  if (!Number.isFinite(x)) return text;
  return Number.isInteger(x) ? BigInt(x).toString() : pyFloatRepr(x);
}

function canonicalValue(text: string): string {
  let t = text;
  for (const [from, to] of OLD_CBV_URNS) if (t.includes(from)) t = t.replaceAll(from, to);
  if (!PY_NAN_INF.test(t)) t = canonicalNumber(t);
  return normaliseGs1Uri(t) ?? t;
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(?:(Z|z)|([+-])(\d{2}):?(\d{2})?)?$/;

/** A timestamp in UTC at millisecond precision (`2019-04-02T14:00:00.000Z`); unparseable text is kept. */
function canonicalTime(text: string): string {
  const m = ISO_TIME.exec(text);
  if (!m) return text;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return text;
  if (d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return text;
  // reference: microseconds are the first 6 fraction digits, rounded half-even to milliseconds.
  const micros = m[7] === undefined ? 0 : Number(m[7].padEnd(6, '0').slice(0, 6));
  let ms = Math.floor(micros / 1000);
  const rest = micros % 1000;
  if (rest > 500 || (rest === 500 && ms % 2 === 1)) ms += 1;
  // Without a zone the reference uses its machine's zone; UTC here (a deterministic choice).
  const offsetMin = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11] ?? 0));
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi - offsetMin, s, ms));
  if (y < 100) date.setUTCFullYear(date.getUTCFullYear() - 1900); // Date.UTC reads 0..99 as 1900..1999
  const iso = date.toISOString();
  return iso.length === 24 ? iso : text;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON-LD bare names: `shipping` in bizStep means https://ref.gs1.org/cbv/BizStep-shipping (EPCIS 2.0 context).

const CBV = CBV_WEB_PREFIX;
const GS1_VOC = GS1_VOC_PREFIX;
const table = (words: readonly string[], base: string): Map<string, string> => new Map(words.map((w) => [w, base + w]));

/** The bare names the EPCIS 2.0 JSON-LD context defines, per `scope.field`. */
const VOCAB_FLAT: Record<string, Map<string, string>> = {
  'event.bizStep': table(BIZ_STEPS, `${CBV}BizStep-`),
  'event.disposition': table(DISPOSITIONS, `${CBV}Disp-`),
  'persistentDisposition.set': table(DISPOSITIONS, `${CBV}Disp-`),
  'persistentDisposition.unset': table(DISPOSITIONS, `${CBV}Disp-`),
  'bizTransactionList.type': table(BIZ_TRANSACTION_TYPES, `${CBV}BTT-`),
  'sourceList.type': table(SOURCE_DESTINATION_TYPES, `${CBV}SDT-`),
  'destinationList.type': table(SOURCE_DESTINATION_TYPES, `${CBV}SDT-`),
  'errorDeclaration.reason': table(ERROR_REASONS, `${CBV}ER-`),
  'sensorReport.type': table(MEASUREMENT_TYPES, GS1_VOC),
  'sensorReport.exception': table(SENSOR_ALERT_TYPES, GS1_VOC),
  'sensorReport.component': table(COMPONENTS, `${CBV}Comp-`),
};
/** Fields whose values are IRIs in the EPCIS context (compact IRIs such as `cbv:…` expand there). */
const IRI_FIELDS = new Set(
  'id epcList childEPCs inputEPCList outputEPCList parentID epcClass certificationInfo bizTransaction source destination deviceID deviceMetadata rawData dataProcessingMethod bizRules coordinateReferenceSystem microorganism chemicalSubstance uriValue transformationID correctiveEventIDs eventID type'.split(
    ' ',
  ),
);
/** Fields the EPCIS context defines; any other field without a prefix is dropped by JSON-LD expansion. */
const KNOWN_TERMS = new Set(
  `${[...IRI_FIELDS].join(' ')} member eventTime recordTime eventTimeZoneOffset action bizStep disposition bizLocation readPoint sourceList destinationList persistentDisposition quantity uom quantityList bizTransactionList childQuantityList inputQuantityList outputQuantityList sensorElementList errorDeclaration ilmd time sensorMetadata sensorReport startTime endTime exception value component stringValue booleanValue hexBinaryValue minValue maxValue meanValue sDev percRank percValue reason declarationTime set unset`.split(
    ' ',
  ),
);
/** Child scopes: the scope a field's value (object or array of objects) is read in. */
const CHILD_SCOPE_FLAT: Record<string, string> = {
  'event.persistentDisposition': 'persistentDisposition',
  'event.bizTransactionList': 'bizTransactionList',
  'event.sourceList': 'sourceList',
  'event.destinationList': 'destinationList',
  'event.errorDeclaration': 'errorDeclaration',
  'event.sensorElementList': 'sensorElement',
  'sensorElement.sensorReport': 'sensorReport',
  'sensorElement.sensorMetadata': 'sensorMetadata',
};

/** scope -> field -> value: nested maps, so a look-up builds no `scope.field` string per value. */
function nest<T>(flat: Record<string, T>): Map<string, Map<string, T>> {
  const out = new Map<string, Map<string, T>>();
  for (const [k, v] of Object.entries(flat)) {
    const [scope = '', field = ''] = k.split('.');
    const inner = out.get(scope) ?? new Map<string, T>();
    inner.set(field, v);
    out.set(scope, inner);
  }
  return out;
}
const VOCAB = nest(VOCAB_FLAT);
const CHILD_SCOPE = nest(CHILD_SCOPE_FLAT);

const WEB_VOCAB_PREFIXES = ['https://ref.gs1.org/cbv', 'https://gs1.org/voc'];

/** Expands a compact IRI (`cbv:BizStep-shipping`) with the context's prefixes, or returns undefined. */
function expandCurie(value: string, prefixes: Map<string, string>): string | undefined {
  const colon = value.indexOf(':');
  if (colon <= 0 || value.startsWith('//', colon + 1)) return undefined;
  const base = prefixes.get(value.slice(0, colon));
  return base === undefined ? undefined : base + value.slice(colon + 1);
}

/**
 * reference: the CBV Web URIs that JSON-LD expansion of the event yields (bare names in their fields, compact
 * IRIs, Web URIs written out). The reference then replaces EVERY string value `v` of the event for which
 * exactly one of these ends with `-v` or `/v`, in any field.
 */
function expandedWebVocabulary(event: unknown, prefixes: Map<string, string>, docTerms: Set<string>): Set<string> {
  const found = new Set<string>();
  const visit = (value: unknown, scope: string, field: string, depth: number): void => {
    if (depth > MAX_DEPTH) throw tooDeep();
    if (typeof value === 'string') {
      const vocab = VOCAB.get(scope)?.get(field);
      let expanded: string | undefined = vocab?.get(value);
      if (expanded === undefined && value.includes(':') && (vocab !== undefined || IRI_FIELDS.has(field))) {
        expanded = expandCurie(value, prefixes);
      }
      const full = expanded ?? value;
      if (full.charCodeAt(0) === 104 /* h */ && WEB_VOCAB_PREFIXES.some((p) => full.startsWith(p))) found.add(full);
      return;
    }
    if (Array.isArray(value)) {
      for (const v of value) visit(v, scope, field, depth + 1);
      return;
    }
    if (value !== null && typeof value === 'object') {
      const inner = CHILD_SCOPE.get(scope)?.get(field) ?? (scope === '' ? 'event' : 'other');
      const obj = value as Record<string, unknown>;
      for (const k in obj) {
        if (!Object.hasOwn(obj, k)) continue;
        if (!k.includes(':') && !k.startsWith('@') && !KNOWN_TERMS.has(k) && !docTerms.has(k)) continue;
        visit(obj[k], inner, k, depth + 1);
      }
    }
  };
  visit(event, '', '', 0);
  return found;
}

/** The replacement of one string value (see expandedWebVocabulary), applied while the tree is built. */
function bareNameReplacer(expanded: Set<string>): (value: string) => string {
  if (expanded.size === 0) return (value) => value;
  const memo = new Map<string, string>();
  return (value) => {
    let out = memo.get(value);
    if (out === undefined) {
      let count = 0;
      out = value;
      for (const e of expanded) {
        if (e.endsWith(`-${value}`) || e.endsWith(`/${value}`)) {
          out = e;
          count++;
        }
      }
      if (count !== 1) out = value;
      memo.set(value, out);
    }
    return out;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// JSON -> tree (the reference's json_to_py + json_xml_model_mismatch_correction)

const UNORDERED_MARKERS = ['bizTransaction', 'source', 'destination'];
const SKIPPED_KEYS = new Set(['#text', 'rdfs:comment', 'comment']);

/** Python's str() of a JSON scalar. */
function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    return Number.isInteger(value) ? BigInt(value).toString() : pyFloatRepr(value);
  }
  return String(value);
}

class TreeBuilder {
  private ownNamespaces = false;

  constructor(
    private namespaces: Map<string, string>,
    private readonly bare: (value: string) => string,
  ) {}

  /** Python's str() of a JSON scalar after the bare-name replacement (strings only). */
  private scalar(value: unknown): string {
    return typeof value === 'string' ? this.bare(value) : pyStr(value);
  }

  /** `example:field` -> `{http://ns.example.com/epcis/}field` for keys, `http://ns.example.com/epcis/field` for values. */
  private expandPrefix(text: string, isValue: boolean): string {
    const colon = text.indexOf(':');
    if (colon < 0) return text;
    const ns = this.namespaces.get(text.slice(0, colon));
    if (ns === undefined) return text;
    return (isValue ? ns : `{${ns}}`) + text.slice(colon + 1);
  }

  build(json: unknown, ignore: readonly string[] = [], depth = 0): Node {
    if (depth > MAX_DEPTH) throw tooDeep();
    if (Array.isArray(json)) {
      // The reference sorts a list's (and an object's) children here unless they hold a bizTransaction, source
      // or destination; every later step that could see that order sorts its output (or picks by name), so
      // the sort is left out: same result, less work.
      return { name: '', text: '', children: json.map((c) => this.build(c, [], depth + 1)) };
    }
    if (json !== null && typeof json === 'object') {
      const obj = json as Record<string, unknown>;
      const node: Node = {
        name: 'type' in obj ? this.scalar(obj.type) : '',
        text: '#text' in obj ? this.scalar(obj['#text']) : '',
        children: [],
      };
      for (const [rawKey, val] of Object.entries(obj)) {
        if (SKIPPED_KEYS.has(rawKey) || ignore.includes(rawKey)) continue;
        if (rawKey.startsWith('@xmlns')) {
          if (!this.ownNamespaces) {
            this.namespaces = new Map(this.namespaces); // the context's map is shared: copy before adding
            this.ownNamespaces = true;
          }
          this.namespaces.set(rawKey.slice(7), this.scalar(val));
          node.name = this.expandPrefix(node.name, false);
          continue;
        }
        const child = this.build(val, [], depth + 1);
        const key = this.expandPrefix(rawKey, false);
        if (Array.isArray(val)) {
          for (const el of child.children as Node[])
            node.children.push({ name: key, text: el.text, children: el.children });
        } else {
          node.children.push({ name: key, text: child.text, children: child.children });
        }
      }
      return node;
    }
    return {
      name: '',
      text: typeof json === 'string' ? this.expandPrefix(this.bare(json), true) : pyStr(json),
      children: [],
    };
  }
}

const PAIR_LISTS = new Set(['sourceList', 'destinationList', 'bizTransactionList']);

/** XML and JSON name lists differently; bring the JSON tree to the XML model the algorithm is defined on. */
function toXmlModel(node: Node): Node {
  const children = node.children;
  const lists = new Map<string, Node[]>();
  for (const el of children.filter((e): e is Node => isNode(e) && e.name.endsWith('List'))) {
    const group = lists.get(el.name) ?? [];
    lists.set(el.name, group);
    group.push({ name: el.name.slice(0, -4), text: el.text, children: el.children });
    children.splice(children.indexOf(el), 1);
  }
  for (const [name, elements] of lists) {
    if (PAIR_LISTS.has(name)) {
      // An entry hashes as its type, then its value. The reference takes an entry's first two fields in JSON
      // order, so its hash would change with key order (its vectors all put `type` first, which this keeps);
      // other fields of an entry are not hashed (nor by the reference); one without `type` would crash it.
      const valueName = name.slice(0, -4);
      children.push({
        name,
        text: '',
        children: elements.map((e) => {
          const fields = e.children.filter(isNode);
          const type = fields.find((f) => f.name === 'type');
          const value = fields.find((f) => f.name === valueName);
          return { pair: [type, value].filter((f): f is Node => f !== undefined) };
        }),
      });
    } else {
      children.push({ name, text: '', children: elements });
    }
  }
  const childEpcs: Node[] = [];
  for (const el of children.filter((e): e is Node => isNode(e) && e.name === 'childEPCs')) {
    childEpcs.push({ name: 'epc', text: el.text, children: [] });
    children.splice(children.indexOf(el), 1);
  }
  if (childEpcs.length > 0) children.push({ name: 'childEPCs', text: '', children: childEpcs });

  const corrected = children.map((el) => (isNode(el) && !PAIR_LISTS.has(el.name) ? toXmlModel(el) : el));
  let name = node.name;
  if (name === 'inputEPC' || name === 'outputEPC') name = 'epc';
  else if (
    name === 'inputQuantity' ||
    name === 'outputQuantity' ||
    name === 'childQuantity' ||
    (name === 'quantity' && corrected.length > 0)
  ) {
    name = 'quantityElement';
  }
  return { name, text: node.text, children: corrected };
}

// ---------------------------------------------------------------------------------------------------------------
// Tree -> pre-image

type Order = [string, Order | null][];

const QUANTITY: Order = [
  [
    'quantityElement',
    [
      ['epcClass', null],
      ['quantity', null],
      ['uom', null],
    ],
  ],
];
const EPCS: Order = [['epc', null]];
/** The CBV 2.0 field order (the reference's PROP_ORDER). Pair lists never match by name: an empty order. */
const ORDER: Order = [
  ['eventTime', null],
  ['eventTimeZoneOffset', null],
  ['certificationInfo', null],
  ['parentID', null],
  ['epcList', EPCS],
  ['inputEPCList', EPCS],
  ['childEPCs', EPCS],
  ['quantityList', QUANTITY],
  ['childQuantityList', QUANTITY],
  ['inputQuantityList', QUANTITY],
  ['outputEPCList', EPCS],
  ['outputQuantityList', QUANTITY],
  ['action', null],
  ['transformationID', null],
  ['bizStep', null],
  ['disposition', null],
  [
    'persistentDisposition',
    [
      ['set', null],
      ['unset', null],
    ],
  ],
  ['readPoint', [['id', null]]],
  ['bizLocation', [['id', null]]],
  ['bizTransactionList', []],
  ['sourceList', []],
  ['destinationList', []],
  [
    'sensorElementList',
    [
      [
        'sensorElement',
        [
          [
            'sensorMetadata',
            [
              'time',
              'startTime',
              'endTime',
              'deviceID',
              'deviceMetadata',
              'rawData',
              'dataProcessingMethod',
              'bizRules',
            ].map((n): [string, null] => [n, null]),
          ],
          [
            'sensorReport',
            [
              'type',
              'exception',
              'deviceID',
              'deviceMetadata',
              'rawData',
              'dataProcessingMethod',
              'time',
              'microorganism',
              'chemicalSubstance',
              'value',
              'component',
              'stringValue',
              'booleanValue',
              'hexBinaryValue',
              'uriValue',
              'minValue',
              'maxValue',
              'meanValue',
              'sDev',
              'percRank',
              'percValue',
              'uom',
              'coordinateReferenceSystem',
            ].map((n): [string, null] => [n, null]),
          ],
        ],
      ],
    ],
  ],
];

const NOT_HASHED = new Set(['recordTime', 'eventID', 'type', 'errorDeclaration']);

/** reference: a Python `x in name` test; for a pair, membership of its first field's name or text. */
function nameHas(item: Item, needle: string): boolean {
  if (isNode(item)) return item.name.includes(needle);
  const first = item.pair[0];
  return first !== undefined && (first.name === needle || first.text === needle);
}

/** User extensions nested in a standard field (readPoint, sensorReport, ...) go after that field's own parts. */
function takeUserExtensions(list: Item[]): Node[] {
  if (list.length <= 1) return [];
  if (list.some((c) => nameHas(c, 'eventTime') || nameHas(c, 'action'))) return []; // the event's top level
  const ext = list.filter((x): x is Node => isNode(x) && x.name.includes('{') && x.name.includes('/}'));
  for (const e of ext) list.splice(list.indexOf(e), 1);
  return ext;
}

function childPart(child: Node, subOrder: Order | null): string {
  const grand = subOrder ? orderedPart(child.children, subOrder) : '';
  let text = '';
  if (child.text) {
    text = child.text.trim();
    const lower = child.name.toLowerCase();
    text = lower.includes('time') && !lower.includes('offset') ? canonicalTime(text) : canonicalValue(text);
    if (text) text = `=${text}`;
  }
  return text || grand ? child.name + text + grand : '';
}

/** Parts of the fields the order names, consuming them from `list` (what is left is hashed generically). */
function orderedPart(list: Item[], order: Order): string {
  const ext = takeUserExtensions(list);
  const byName = new Map<string, Node[]>();
  for (const x of list) {
    if (!isNode(x)) continue;
    const same = byName.get(x.name);
    if (same) same.push(x);
    else byName.set(x.name, [x]);
  }
  let pre = '';
  let consumed = false;
  for (const [name, subOrder] of order) {
    const matching = byName.get(name);
    if (matching === undefined) continue;
    let values: string[] = [];
    for (const child of matching) {
      const part = childPart(child, subOrder);
      if (part) values.push(part);
      if (child.children.length === 0) {
        (child as Node & { consumed?: boolean }).consumed = true;
        consumed = true;
      }
    }
    values = sortStrings(values);
    const joined = values.join('');
    if (joined) pre += joined;
  }
  if (consumed) {
    let w = 0;
    for (const x of list) if (!(x as Node & { consumed?: boolean }).consumed) list[w++] = x;
    list.length = w;
  }
  if (ext.length > 0) pre += genericPart(ext);
  return pre;
}

function genericPart(items: Item[]): string {
  const values: string[] = [];
  for (const item of items) {
    if (!isNode(item)) {
      values.push(genericPart(item.pair));
      continue;
    }
    let text = item.text.trim();
    if (text) text = `=${canonicalValue(text)}`;
    values.push(item.name + text + genericPart(item.children));
  }
  const sortable = !items.some((i) => isNode(i) && UNORDERED_MARKERS.includes(i.name));
  if (items.length > 1 && sortable) sortStrings(values);
  return values.join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Context

interface ContextInfo {
  /** Prefix -> IRI, for user-extension names and values. */
  namespaces: Map<string, string>;
  /** Prefixes that can expand compact IRIs to CBV Web URIs during JSON-LD expansion. */
  prefixes: Map<string, string>;
  terms: Set<string>;
}

/** A document's events share its @context object: read it once (the tree builder copies before it adds). */
const contextCache = new WeakMap<object, ContextInfo>();

function readContext(context: JsonLdContext): ContextInfo {
  if (context === null || typeof context !== 'object') return parseContext(context);
  let info = contextCache.get(context);
  if (info === undefined) {
    info = parseContext(context);
    contextCache.set(context, info);
  }
  return info;
}

function parseContext(context: JsonLdContext): ContextInfo {
  const namespaces = new Map<string, string>();
  const prefixes = new Map<string, string>([
    ['cbv', CBV],
    ['gs1', GS1_VOC],
  ]);
  const terms = new Set<string>();
  const entries = Array.isArray(context) ? context : [];
  for (const c of entries) {
    if (typeof c === 'string') namespaces.set(c, c);
    else if (c !== null && typeof c === 'object') {
      for (const [k, v] of Object.entries(c)) {
        terms.add(k);
        if (typeof v !== 'string') continue;
        namespaces.set(k, v);
        if (!prefixes.has(k)) prefixes.set(k, v);
      }
    }
  }
  // A context given as a single object (not in a list) defines terms, though the reference reads no prefixes there.
  if (!Array.isArray(context) && context !== null && typeof context === 'object') {
    for (const [k, v] of Object.entries(context)) {
      terms.add(k);
      if (typeof v === 'string' && !prefixes.has(k)) prefixes.set(k, v);
    }
  }
  return { namespaces, prefixes, terms };
}

// ---------------------------------------------------------------------------------------------------------------
// API

/** The canonical pre-hash string of an EPCIS 2.0 event (JSON/JSON-LD form). */
export function eventHashPreImage(
  event: Record<string, unknown>,
  context?: JsonLdContext,
  options: EventHashOptions = {},
): string {
  const ctx = readContext(context);
  const expanded = expandedWebVocabulary(event, ctx.prefixes, ctx.terms);
  const builder = new TreeBuilder(ctx.namespaces, bareNameReplacer(expanded));
  const tree = toXmlModel(builder.build(event, options.ignoreFields ?? []));
  const ordered = orderedPart(tree.children, ORDER);
  const rest = tree.children.filter((c) => !isNode(c) || !NOT_HASHED.has(c.name));
  return `eventType=${tree.name}${ordered}${rest.length > 0 ? genericPart(rest) : ''}`;
}

const ENCODER = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `ni:///sha-256;<hex>?ver=CBV2.0` (RFC 6920 named information) of the event's pre-image. */
export function epcisEventHash(
  event: Record<string, unknown>,
  context?: JsonLdContext,
  options: EventHashOptions = {},
): string {
  const digest = (options.sha256 ?? sha256Sync)(ENCODER.encode(eventHashPreImage(event, context, options)));
  let hex = '';
  for (const b of digest) hex += HEX[b];
  return `ni:///sha-256;${hex}?ver=CBV2.0`;
}

/**
 * The events of an EPCISDocument or EPCISQueryDocument with the document's @context, as the reference reads
 * them: epcisBody.eventList, epcisBody.queryResults.resultsBody.eventList, or a single epcisBody.event.
 */
export function documentEvents(doc: Record<string, unknown>): {
  context: JsonLdContext;
  events: Record<string, unknown>[];
} {
  const rawContext = doc['@context'];
  // reference: empty objects in the context list are dropped.
  const context = Array.isArray(rawContext)
    ? rawContext.filter((c) => !(c !== null && typeof c === 'object' && Object.keys(c).length === 0))
    : rawContext;
  const body = (doc.epcisBody ?? {}) as Record<string, unknown>;
  let events: unknown;
  if (body.eventList !== undefined) events = body.eventList;
  else if (body.queryResults !== undefined) {
    const qr = body.queryResults as { resultsBody?: { eventList?: unknown } };
    events = qr.resultsBody?.eventList;
  } else if (body.event !== undefined) events = [body.event];
  return { context, events: Array.isArray(events) ? (events as Record<string, unknown>[]) : [] };
}
