/**
 * TEMPORARY SHIMS (epcis-capture branch): stand-ins for the gs1 helper's modules until branch `gs1` is merged,
 * then this file is deleted and capture.ts imports the real ones:
 *   validateEpcisDocument -> services/src/epcis/schema.ts (EPCIS 2.0 JSON schema with ajv)
 *   normaliseCbvEvent     -> services/src/epcis/cbv.ts (CBV 2.0 vocabularies, bare name / URN / Web URI)
 *   canonicalUri          -> services/src/gs1/ (GS1 keys as canonical Digital Link)
 * They check and convert only what the capture tests need.
 */

export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

const EVENT_TYPES = new Set([
  'ObjectEvent',
  'AggregationEvent',
  'TransactionEvent',
  'TransformationEvent',
  'AssociationEvent',
]);
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function validateEpcisDocument(doc: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  if (!isRecord(doc)) return [{ path: '', message: 'must be object' }];
  if (doc.type !== 'EPCISDocument')
    problems.push({ path: '/type', message: 'must be equal to constant EPCISDocument' });
  if (typeof doc.schemaVersion !== 'string') problems.push({ path: '/schemaVersion', message: 'must be string' });
  if (typeof doc.creationDate !== 'string') problems.push({ path: '/creationDate', message: 'must be string' });
  const body = doc.epcisBody;
  if (!isRecord(body) || !Array.isArray(body.eventList)) {
    problems.push({ path: '/epcisBody/eventList', message: 'must be array' });
    return problems;
  }
  body.eventList.forEach((e, i) => {
    const at = `/epcisBody/eventList/${i}`;
    if (!isRecord(e)) {
      problems.push({ path: at, message: 'must be object' });
      return;
    }
    if (typeof e.type !== 'string' || !EVENT_TYPES.has(e.type))
      problems.push({ path: `${at}/type`, message: 'unknown event type' });
    if (typeof e.eventTime !== 'string' || Number.isNaN(Date.parse(e.eventTime))) {
      problems.push({ path: `${at}/eventTime`, message: 'must match format "date-time"' });
    }
    if (typeof e.eventTimeZoneOffset !== 'string' || !/^[+-]\d{2}:\d{2}$/.test(e.eventTimeZoneOffset)) {
      problems.push({ path: `${at}/eventTimeZoneOffset`, message: 'must match pattern' });
    }
    if (e.eventID !== undefined && (typeof e.eventID !== 'string' || e.eventID.length === 0)) {
      problems.push({ path: `${at}/eventID`, message: 'must be string' });
    }
    if (
      e.type !== 'TransformationEvent' &&
      e.type !== undefined &&
      !['ADD', 'OBSERVE', 'DELETE'].includes(String(e.action))
    ) {
      problems.push({ path: `${at}/action`, message: 'must be equal to one of the allowed values' });
    }
    for (const f of ['readPoint', 'bizLocation']) {
      if (e[f] !== undefined && (!isRecord(e[f]) || typeof (e[f] as Record<string, unknown>).id !== 'string')) {
        problems.push({ path: `${at}/${f}`, message: "must have required property 'id'" });
      }
    }
    for (const f of ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList', 'quantityList', 'bizTransactionList']) {
      if (e[f] !== undefined && !Array.isArray(e[f])) problems.push({ path: `${at}/${f}`, message: 'must be array' });
    }
    if (Array.isArray(e.epcList) && e.epcList.some((x) => typeof x !== 'string')) {
      problems.push({ path: `${at}/epcList`, message: 'items must be string' });
    }
  });
  return problems;
}

const CBV_PREFIXES: readonly [string, string][] = [
  ['bizStep', 'urn:epcglobal:cbv:bizstep:'],
  ['disposition', 'urn:epcglobal:cbv:disp:'],
];

/** CBV values as bare names (the EPCIS 2.0 JSON form) where given as CBV URNs. */
export function normaliseCbvEvent(event: Record<string, unknown>): Record<string, unknown> {
  const out = { ...event };
  for (const [field, prefix] of CBV_PREFIXES) {
    const v = out[field];
    if (typeof v === 'string' && v.startsWith(prefix)) out[field] = v.slice(prefix.length);
  }
  return out;
}

function checkDigit(digits: string): number {
  let sum = 0;
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += (digits.charCodeAt(i) - 48) * w;
  return (10 - (sum % 10)) % 10;
}
const withCheck = (d: string) => d + String(checkDigit(d));

/** GS1 keys in EPC URN form as canonical Digital Link on id.gs1.org; anything else as given. */
export function canonicalUri(uri: string): string {
  let m = /^urn:epc:id:sgln:(\d+)\.(\d*)\.(.+)$/.exec(uri);
  if (m) {
    const gln = withCheck(m[1]! + m[2]!);
    return m[3] === '0' ? `https://id.gs1.org/414/${gln}` : `https://id.gs1.org/414/${gln}/254/${m[3]}`;
  }
  m = /^urn:epc:id:sgtin:(\d+)\.(\d+)\.(.+)$/.exec(uri);
  if (m) return `https://id.gs1.org/01/${withCheck(m[2]!.slice(0, 1) + m[1]! + m[2]!.slice(1))}/21/${m[3]}`;
  m = /^urn:epc:class:lgtin:(\d+)\.(\d+)\.(.+)$/.exec(uri);
  if (m) return `https://id.gs1.org/01/${withCheck(m[2]!.slice(0, 1) + m[1]! + m[2]!.slice(1))}/10/${m[3]}`;
  m = /^urn:epc:id:sscc:(\d+)\.(\d+)$/.exec(uri);
  if (m) return `https://id.gs1.org/00/${withCheck(m[2]!.slice(0, 1) + m[1]! + m[2]!.slice(1))}`;
  return uri;
}
