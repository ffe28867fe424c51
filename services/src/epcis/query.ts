import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { CodedError, ErrorCodes, OrgKinds, Roles } from '@c2m/shared';
import type pg from 'pg';
import { visibleWorkOrdersSql } from '../auth/work-order-access.js';
import type { AuthUser } from '../plugins/auth.js';
import type { CbvVocabulary } from './cbv.js';
import { canonicalUri, cbvBare, cbvForms, epcPattern, isUnsupportedPattern } from './query-uris.js';
import type { EpcRole } from './store.js';

/**
 * The EPCIS 2.0 query interface (SimpleEventQuery over the REST binding): standard query parameters parsed
 * strictly into SQL over epcis_events / epcis_event_epcs, access per caller, keyset paging with a signed
 * `nextPageToken`, and the EPCISQueryDocument the binding answers with.
 *
 * Every parameter the repository does not understand is refused with QUERY_PARAMETER_INVALID naming it
 * (the standard's QueryParameterException): silently ignoring a filter would return more than was asked for.
 */

export const EPCIS_VERSION = '2.0.0';
export const CBV_VERSION = '2.0.0';
export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
export const C2M_NAMESPACE = 'https://ns.c2m.network/epcis/';
export const DOCUMENT_CONTEXT = [EPCIS_CONTEXT, { c2m: C2M_NAMESPACE }] as const;

export const EVENT_TYPES = [
  'ObjectEvent',
  'AggregationEvent',
  'TransactionEvent',
  'TransformationEvent',
  'AssociationEvent',
] as const;

/** Largest page; the REST binding's default page is 30. */
export const MAX_PER_PAGE = 1000;
export const DEFAULT_PER_PAGE = 30;

export function queryParameterError(parameter: string, message: string): CodedError {
  return new CodedError(ErrorCodes.QUERY_PARAMETER_INVALID, `${parameter}: ${message}`, 400, {
    epcis: { exception: 'QueryParameterException', parameter },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Access

/**
 * Which events a caller may see, as an SQL predicate over `epcis_events e`:
 * - the platform's administrator: every event;
 * - the platform's certifier: device-derived events only (their proofs reach the devices it certified), not the
 *   business events orgs capture (shipments, receipts, transactions);
 * - a brand: events of its products (brand_msp), events it captured, and events of its work orders;
 * - a factory: events it said (owner_msp) and events of its work orders;
 * - a financier: events of the work orders it may see (auth/work-order-access.ts: every work order);
 * - anyone else (a logistics org): the events it captured.
 */
export function accessSql(user: AuthUser, p: (v: unknown) => string): string {
  if (user.orgKind === OrgKinds.platform) {
    if (user.role === Roles.admin) return 'TRUE';
    if (user.role === Roles.certifier) return `e.source = 'device'`;
    return `e.owner_msp = ${p(user.mspId)}`;
  }
  // Bound once, and only when the predicate uses it (PostgreSQL refuses a parameter nobody names).
  let bound: string | undefined;
  const mine = () => {
    bound ??= p(user.mspId);
    return bound;
  };
  const workOrders = `e.work_order_id IN (SELECT w.id FROM work_orders w WHERE ${visibleWorkOrdersSql(user, mine)})`;
  const me = user.orgKind === OrgKinds.finance ? '' : mine();
  if (user.orgKind === OrgKinds.brand) return `(e.brand_msp = ${me} OR e.owner_msp = ${me} OR ${workOrders})`;
  if (user.orgKind === OrgKinds.factory) return `(e.owner_msp = ${me} OR ${workOrders})`;
  if (user.orgKind === OrgKinds.finance) return workOrders;
  return `e.owner_msp = ${me}`;
}

/**
 * Our own extension fields (`c2m:` namespace) that may leave the platform. Anything else under our namespace
 * (a `c2m:terms`, a `c2m:price`) is stripped from every event answered, whoever asks: commercial terms live
 * in work_orders.terms and never in an event, and this keeps it so even if a producer puts them there.
 * Other user extensions are the capturer's own statement and are answered as captured.
 */
export const PUBLIC_C2M_FIELDS: ReadonlySet<string> = new Set([
  'c2m:workOrder',
  'c2m:sourceMessages',
  'c2m:lot',
  'c2m:deviceId',
  'c2m:line',
  // What device-derived events carry (epcis/from-device.ts): the device, the units a count reported and
  // how many of them went beyond the lots, and a measurement's characteristic, limits and verdict.
  'c2m:device',
  'c2m:units',
  'c2m:overProduction',
  'c2m:lotsPending',
  'c2m:characteristic',
  'c2m:sensor',
  'c2m:lowerLimit',
  'c2m:upperLimit',
  'c2m:pass',
]);

const C2M_KEY = /^(c2m:|https:\/\/ns\.c2m\.network\/epcis\/)/;

/** A copy of the event without the c2m: fields that are not public, at any depth. */
export function redactEvent(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactEvent);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (C2M_KEY.test(k) && !PUBLIC_C2M_FIELDS.has(k.replace(C2M_NAMESPACE, 'c2m:'))) continue;
      out[k] = redactEvent(v);
    }
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters

interface EpcFilter {
  readonly roles: readonly EpcRole[];
  readonly exact: string[];
  readonly stems: string[];
  readonly prefixes: string[];
}

export interface ParsedQuery {
  readonly conditions: ((p: (v: unknown) => string) => string)[];
  readonly orderBy: 'event_time' | 'record_time';
  readonly direction: 'ASC' | 'DESC';
  readonly eventCountLimit?: number;
  readonly maxEventCount?: number;
  readonly perPage: number;
  readonly nextPageToken?: string;
  /** Canonical text of the filters (not perPage, not the token): what a page token is bound to. */
  readonly fingerprint: string;
}

const EPC_PARAMS: Record<string, readonly EpcRole[]> = {
  MATCH_epc: ['epc', 'child'],
  MATCH_parentID: ['parent'],
  MATCH_inputEPC: ['input'],
  MATCH_outputEPC: ['output'],
  MATCH_anyEPC: ['epc', 'child', 'parent', 'input', 'output'],
  MATCH_epcClass: ['epcClass', 'childEpcClass'],
  MATCH_inputEPCClass: ['inputEpcClass'],
  MATCH_outputEPCClass: ['outputEpcClass'],
  MATCH_anyEPCClass: ['epcClass', 'childEpcClass', 'inputEpcClass', 'outputEpcClass'],
};

/** RFC 3339 date-time with a zone, as the binding's `format: date-time`; PostgreSQL keeps its microseconds. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;
const SENSOR_PARAM = /^(EQ|GT|GE|LT|LE)_(value|minValue|maxValue|meanValue|sDev|percValue)_([A-Z0-9]{2,4})$/;
const TYPED_PARAM = /^EQ_(bizTransaction|source|destination)_([a-z][a-zA-Z0-9_]*)$/;
const JSONPATH_OP: Record<string, string> = { EQ: '==', GT: '>', GE: '>=', LT: '<', LE: '<=' };
const MAX_VALUES = 100;
const MAX_VALUE_LENGTH = 2048;

/** The standard parameters this repository answers; any other name is refused. */
const FIXED = new Set([
  'eventType',
  'GE_eventTime',
  'LT_eventTime',
  'GE_recordTime',
  'LT_recordTime',
  'EQ_action',
  'EQ_bizStep',
  'EQ_disposition',
  'EQ_persistentDisposition_set',
  'EQ_persistentDisposition_unset',
  'EQ_readPoint',
  'WD_readPoint',
  'EQ_bizLocation',
  'WD_bizLocation',
  'EQ_transformationID',
  ...Object.keys(EPC_PARAMS),
  'EQ_eventID',
  'EXISTS_errorDeclaration',
  'EQ_errorReason',
  'EQ_correctiveEventID',
  'EQ_type',
  'EXISTS_sensorElementList',
  'orderBy',
  'orderDirection',
  'eventCountLimit',
  'maxEventCount',
  'perPage',
  'nextPageToken',
]);

/** One value or a pipe-delimited list (the binding's `style: pipeDelimited`). */
function list(name: string, raw: string): string[] {
  const values = raw.split('|');
  if (values.length > MAX_VALUES) throw queryParameterError(name, `at most ${MAX_VALUES} values`);
  for (const v of values) {
    if (v.length === 0) throw queryParameterError(name, 'an empty value');
    // PostgreSQL text holds no NUL; refused here rather than by the database.
    if (v.includes('\u0000')) throw queryParameterError(name, 'a value with a NUL character');
    if (v.length > MAX_VALUE_LENGTH) throw queryParameterError(name, `a value longer than ${MAX_VALUE_LENGTH}`);
  }
  return values;
}

function positiveInt(name: string, raw: string, max = 1_000_000_000): number {
  if (!/^[0-9]{1,10}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw queryParameterError(name, `a positive integer up to ${max}`);
  }
  return Number(raw);
}

/**
 * A date-time PostgreSQL will take: every field in range (year 1-9999, a day the month has, no leap second,
 * an offset within 14 hours), checked here so that the database never refuses it with a 500.
 */
function dateTime(name: string, raw: string): string {
  const m = DATE_TIME.exec(raw);
  const [y, mo, d, h, mi, sec, oh, om] = [m?.[1], m?.[2], m?.[3], m?.[4], m?.[5], m?.[6], m?.[9], m?.[10]].map((x) =>
    Number(x ?? 0),
  ) as [number, number, number, number, number, number, number, number];
  const valid =
    m !== null &&
    y >= 1 &&
    mo >= 1 &&
    mo <= 12 &&
    d >= 1 &&
    new Date(Date.UTC(2000, mo - 1, d)).getUTCDate() === d &&
    (mo !== 2 || d !== 29 || new Date(Date.UTC(y, 1, 29)).getUTCDate() === 29) &&
    h <= 23 &&
    mi <= 59 &&
    sec <= 59 &&
    oh <= 14 &&
    om <= 59;
  if (!valid) throw queryParameterError(name, 'an RFC 3339 date-time with a time zone (2026-12-01T10:00:00Z)');
  return raw;
}

const isUri = (v: string) => /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(v) && !v.includes('\u0000');

function uris(name: string, raw: string): string[] {
  const values = list(name, raw);
  for (const v of values) if (!isUri(v)) throw queryParameterError(name, `${JSON.stringify(v)} is not a URI`);
  return values;
}

/** Every spelling of a CBV value; a value that is neither a CBV name nor a URI is the parameter's fault. */
function spellings(name: string, vocabulary: CbvVocabulary, value: string): string[] {
  try {
    return cbvForms(vocabulary, value);
  } catch (err) {
    throw queryParameterError(name, (err as Error).message);
  }
}

/** EPCs or patterns of one MATCH_ parameter as exact canonical URIs, class stems and prefixes. */
function epcFilter(name: string, raw: string): EpcFilter {
  const filter: EpcFilter = { roles: EPC_PARAMS[name] as EpcRole[], exact: [], stems: [], prefixes: [] };
  for (const v of uris(name, raw)) {
    if (isUnsupportedPattern(v)) throw queryParameterError(name, `${JSON.stringify(v)} is not a supported pattern`);
    const pattern = epcPattern(v);
    if (pattern) {
      filter.stems.push(...pattern.stems);
      filter.prefixes.push(...pattern.prefixes);
    } else filter.exact.push(canonicalUri(v));
  }
  return filter;
}

/**
 * The next string after every string that starts with `prefix` under the C collation: the upper bound of a
 * prefix range scan of the (epc COLLATE "C") index.
 */
function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

function epcCondition(f: EpcFilter, p: (v: unknown) => string): string {
  const alternatives: string[] = [];
  const exact = [...f.exact, ...f.stems];
  if (exact.length > 0) alternatives.push(`x.epc = ANY(${p(exact)}::text[])`);
  for (const prefix of [...f.stems.map((s) => `${s}/`), ...f.prefixes]) {
    alternatives.push(`(x.epc >= ${p(prefix)} AND x.epc < ${p(prefixEnd(prefix))})`);
  }
  return `e.id IN (SELECT x.event_pk FROM epcis_event_epcs x WHERE x.role = ANY(${p(f.roles)}::text[])
    AND (${alternatives.join(' OR ')}))`;
}

/** Locations named and, for WD_, every descendant in the gs1_locations hierarchy. */
function locationCondition(column: 'read_point' | 'biz_location', values: string[], withDescendants: boolean) {
  return (p: (v: unknown) => string) => {
    const roots = p(values.map(canonicalUri));
    if (!withDescendants) return `e.${column} = ANY(${roots}::text[])`;
    return `e.${column} IN (WITH RECURSIVE d(uri) AS (
        SELECT u COLLATE "C" FROM unnest(${roots}::text[]) AS u
        UNION SELECT l.uri FROM gs1_locations l JOIN d ON l.parent_uri = d.uri)
      SELECT uri FROM d)`;
  };
}

/**
 * Parses the query string of GET /events (and of the sub-resources that add a filter of their own) into SQL
 * conditions. Throws QUERY_PARAMETER_INVALID naming the first parameter that is unknown, repeated, empty or
 * malformed.
 */
export function parseQuery(params: URLSearchParams): ParsedQuery {
  const seen = new Map<string, string>();
  for (const [name, value] of params) {
    if (seen.has(name)) throw queryParameterError(name, 'given more than once (use one value, | between values)');
    seen.set(name, value);
  }
  const conditions: ParsedQuery['conditions'] = [];
  const sensorReport: { op: string; field: string; uom: string; value: number }[] = [];
  let measurementTypes: string[] | undefined;
  let orderBy: ParsedQuery['orderBy'] | undefined;
  let direction: ParsedQuery['direction'] = 'DESC';
  let eventCountLimit: number | undefined;
  let maxEventCount: number | undefined;
  let perPage = DEFAULT_PER_PAGE;
  let nextPageToken: string | undefined;
  const fingerprint: [string, string][] = [];

  for (const [name, raw] of seen) {
    if (name !== 'perPage' && name !== 'nextPageToken') fingerprint.push([name, raw]);
    const sensor = SENSOR_PARAM.exec(name);
    const typed = TYPED_PARAM.exec(name);
    if (sensor) {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw queryParameterError(name, 'a number');
      sensorReport.push({ op: sensor[1] as string, field: sensor[2] as string, uom: sensor[3] as string, value });
      continue;
    }
    if (typed) {
      const [, field, type] = typed as unknown as [string, 'bizTransaction' | 'source' | 'destination', string];
      const kind: CbvVocabulary = field === 'bizTransaction' ? 'bizTransactionType' : 'sourceDestType';
      const column = field === 'bizTransaction' ? 'biz_transactions' : field === 'source' ? 'sources' : 'destinations';
      const ids = uris(name, raw);
      const wanted = spellings(name, kind, type).flatMap((t) =>
        ids.flatMap((id) => [...new Set([id, canonicalUri(id)])].map((i) => `${t} ${i}`)),
      );
      conditions.push((p) => `e.${column} && ${p(wanted)}::text[]`);
      continue;
    }
    if (!FIXED.has(name)) {
      throw queryParameterError(name, 'not a query parameter this repository supports');
    }
    switch (name) {
      case 'eventType': {
        const types = list(name, raw);
        for (const t of types) {
          if (!(EVENT_TYPES as readonly string[]).includes(t)) {
            throw queryParameterError(name, `${JSON.stringify(t)} is not one of ${EVENT_TYPES.join(', ')}`);
          }
        }
        conditions.push((p) => `e.event_type = ANY(${p(types)}::text[])`);
        break;
      }
      case 'GE_eventTime':
      case 'LT_eventTime':
      case 'GE_recordTime':
      case 'LT_recordTime': {
        const t = dateTime(name, raw);
        const column = name.endsWith('eventTime') ? 'event_time' : 'record_time';
        const op = name.startsWith('GE') ? '>=' : '<';
        conditions.push((p) => `e.${column} ${op} ${p(t)}::timestamptz`);
        break;
      }
      case 'EQ_action': {
        const actions = list(name, raw);
        for (const a of actions) {
          if (!['ADD', 'OBSERVE', 'DELETE'].includes(a)) throw queryParameterError(name, 'ADD, OBSERVE or DELETE');
        }
        conditions.push((p) => `e.action = ANY(${p(actions)}::text[])`);
        break;
      }
      case 'EQ_bizStep':
      case 'EQ_disposition': {
        const kind: CbvVocabulary = name === 'EQ_bizStep' ? 'bizStep' : 'disposition';
        const forms = list(name, raw).flatMap((v) => spellings(name, kind, v));
        const column = name === 'EQ_bizStep' ? 'biz_step' : 'disposition';
        conditions.push((p) => `e.${column} = ANY(${p(forms)}::text[])`);
        break;
      }
      case 'EQ_persistentDisposition_set':
      case 'EQ_persistentDisposition_unset': {
        const forms = list(name, raw).flatMap((v) => spellings(name, 'disposition', v));
        const key = name.endsWith('_set') ? 'set' : 'unset';
        conditions.push((p) => `(e.event->'persistentDisposition'->'${key}') ?| ${p(forms)}::text[]`);
        break;
      }
      case 'EQ_readPoint':
      case 'WD_readPoint':
      case 'EQ_bizLocation':
      case 'WD_bizLocation': {
        const column = name.endsWith('readPoint') ? 'read_point' : 'biz_location';
        conditions.push(locationCondition(column, uris(name, raw), name.startsWith('WD')));
        break;
      }
      case 'EQ_transformationID': {
        const ids = uris(name, raw);
        conditions.push((p) => `(e.event->>'transformationID') = ANY(${p(ids)}::text[])`);
        break;
      }
      case 'EQ_eventID': {
        const ids = list(name, raw);
        conditions.push((p) => `e.event_id = ANY(${p(ids)}::text[])`);
        break;
      }
      case 'EXISTS_errorDeclaration':
      case 'EXISTS_sensorElementList': {
        if (raw !== 'true' && raw !== 'false' && raw !== '') throw queryParameterError(name, 'true or false');
        // The standard: a value of false (or none) returns events whether or not they have one.
        if (raw !== 'false') {
          conditions.push(() =>
            name === 'EXISTS_errorDeclaration'
              ? 'e.error_declaration IS NOT NULL'
              : `jsonb_typeof(e.event->'sensorElementList') = 'array'`,
          );
        }
        break;
      }
      case 'EQ_errorReason': {
        const forms = list(name, raw).flatMap((v) => spellings(name, 'errorReason', v));
        conditions.push((p) => `(e.error_declaration->>'reason') = ANY(${p(forms)}::text[])`);
        break;
      }
      case 'EQ_correctiveEventID': {
        const ids = list(name, raw);
        conditions.push((p) => `(e.error_declaration->'correctiveEventIDs') ?| ${p(ids)}::text[]`);
        break;
      }
      case 'EQ_type':
        measurementTypes = list(name, raw).flatMap((v) => spellings(name, 'measurementType', v));
        break;
      case 'orderBy':
        if (raw === 'eventTime') orderBy = 'event_time';
        else if (raw === 'recordTime') orderBy = 'record_time';
        else throw queryParameterError(name, 'eventTime or recordTime');
        break;
      case 'orderDirection':
        if (raw !== 'ASC' && raw !== 'DESC') throw queryParameterError(name, 'ASC or DESC');
        direction = raw;
        break;
      case 'eventCountLimit':
        eventCountLimit = positiveInt(name, raw);
        break;
      case 'maxEventCount':
        maxEventCount = positiveInt(name, raw, 100_000);
        break;
      case 'perPage':
        perPage = positiveInt(name, raw, MAX_PER_PAGE);
        break;
      case 'nextPageToken':
        if (raw.length === 0 || raw.length > 2048) throw queryParameterError(name, 'not a page token');
        nextPageToken = raw;
        break;
      default: {
        const roles = EPC_PARAMS[name];
        if (!roles) throw queryParameterError(name, 'not a query parameter this repository supports');
        const f = epcFilter(name, raw);
        conditions.push((p) => epcCondition(f, p));
      }
    }
  }

  if (eventCountLimit !== undefined && maxEventCount !== undefined) {
    throw queryParameterError('eventCountLimit', 'eventCountLimit and maxEventCount exclude each other');
  }
  if (eventCountLimit !== undefined && orderBy === undefined) {
    throw queryParameterError('eventCountLimit', 'eventCountLimit needs orderBy');
  }
  if (seen.has('orderDirection') && orderBy === undefined) {
    throw queryParameterError('orderDirection', 'orderDirection needs orderBy');
  }

  // Sensor filters: every condition on the same sensorReport (a temperature above 30 CEL, not a temperature
  // and, elsewhere, anything above 30 CEL). EQ_type alone uses the indexed measurement_types column.
  if (sensorReport.length > 0) {
    const types = measurementTypes;
    conditions.push((p) => {
      const vars: Record<string, unknown> = {};
      const parts: string[] = [];
      sensorReport.forEach((s, i) => {
        vars[`u${i}`] = s.uom;
        vars[`v${i}`] = s.value;
        parts.push(`(@.uom == $u${i} && @.${s.field} ${JSONPATH_OP[s.op]} $v${i})`);
      });
      if (types) {
        const alternatives = types.map((t, i) => {
          vars[`t${i}`] = t;
          return `@.type == $t${i}`;
        });
        parts.push(`(${alternatives.join(' || ')})`);
      }
      const path = `$.sensorElementList[*].sensorReport[*] ? (${parts.join(' && ')})`;
      return `jsonb_path_exists(e.event, ${p(path)}::jsonpath, ${p(JSON.stringify(vars))}::jsonb)`;
    });
  } else if (measurementTypes) {
    const types = measurementTypes;
    conditions.push((p) => `e.measurement_types && ${p(types)}::text[]`);
  }

  fingerprint.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    conditions,
    // Without orderBy the order is ours to choose (the standard): oldest first, a product's history in order.
    orderBy: orderBy ?? 'event_time',
    direction: orderBy === undefined ? 'ASC' : direction,
    ...(eventCountLimit !== undefined ? { eventCountLimit } : {}),
    ...(maxEventCount !== undefined ? { maxEventCount } : {}),
    perPage,
    ...(nextPageToken !== undefined ? { nextPageToken } : {}),
    fingerprint: JSON.stringify(fingerprint),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Page tokens

interface TokenBody {
  /** Format version. */
  readonly v: 1;
  /** What the token pages through: the route, the filters and the caller, hashed. */
  readonly q: string;
  /** The last row answered: its sort key (text) and id. */
  readonly k: [string, string];
  /** Events still allowed by eventCountLimit. */
  readonly r?: number;
  /** Expiry, seconds since the epoch. */
  readonly x: number;
}

/**
 * Opaque, tamper-evident page tokens: base64url(JSON) "." base64url(HMAC-SHA256). The key is the platform's
 * API token secret put through HMAC with a label of its own, so a page token is never a valid access token or
 * the other way round. A token is bound to its query and caller; another query, another caller, a changed byte
 * or an expired token is refused (400 QUERY_PARAMETER_INVALID naming nextPageToken).
 */
export function createPageTokens(secret: Uint8Array, ttlSec = 3600) {
  const key = createHmac('sha256', secret).update('c2m epcis nextPageToken v1').digest();
  const mac = (body: string) => createHmac('sha256', key).update(body).digest();
  const bind = (scope: string) => createHash('sha256').update(scope).digest('base64url').slice(0, 22);
  return {
    ttlSec,
    sign(scope: string, last: [string, string], remaining?: number, now = Date.now()): string {
      const body: TokenBody = {
        v: 1,
        q: bind(scope),
        k: last,
        ...(remaining !== undefined ? { r: remaining } : {}),
        x: Math.floor(now / 1000) + ttlSec,
      };
      const encoded = Buffer.from(JSON.stringify(body)).toString('base64url');
      return `${encoded}.${mac(encoded).toString('base64url')}`;
    },
    verify(scope: string, token: string, now = Date.now()): { last: [string, string]; remaining?: number } {
      const refuse = (why: string) => queryParameterError('nextPageToken', why);
      const [encoded, signature, ...rest] = token.split('.');
      if (!encoded || !signature || rest.length > 0) throw refuse('not a page token of this repository');
      // Compared as text: base64 decoders skip stray characters and ignore trailing bits, so two different
      // strings could decode to the same bytes.
      const given = Buffer.from(signature);
      const expected = Buffer.from(mac(encoded).toString('base64url'));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw refuse('not a page token of this repository');
      }
      let body: TokenBody;
      try {
        body = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as TokenBody;
      } catch {
        throw refuse('not a page token of this repository');
      }
      if (body.v !== 1 || !Array.isArray(body.k) || body.k.length !== 2) throw refuse('unknown token format');
      if (body.q !== bind(scope)) throw refuse('the token belongs to another query or caller');
      if (typeof body.x !== 'number' || body.x * 1000 < now) throw refuse('the token has expired');
      return { last: body.k, ...(typeof body.r === 'number' ? { remaining: body.r } : {}) };
    },
  };
}

export type PageTokens = ReturnType<typeof createPageTokens>;

// ---------------------------------------------------------------------------------------------------------------
// The query

export interface EventsPage {
  readonly events: Record<string, unknown>[];
  readonly nextPageToken?: string;
}

export interface EpcisQueryDeps {
  readonly pool: pg.Pool;
  readonly tokens: PageTokens;
}

/** Extra conditions a sub-resource adds (GET /epcs/{epc}/events): built like a parameter. */
export type ExtraCondition = ParsedQuery['conditions'][number];

function collector() {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  return { params, p };
}

export function createEpcisQuery(deps: EpcisQueryDeps) {
  const { pool, tokens } = deps;

  /**
   * One page of the events the caller may see that match the query. `scope` names the resource (route and its
   * fixed filters) so that a page token of one resource is refused by another.
   */
  async function events(
    user: AuthUser,
    query: ParsedQuery,
    options: { scope: string; extra?: readonly ExtraCondition[] },
  ): Promise<EventsPage> {
    const scope = `${options.scope}\n${user.username}\n${user.mspId}\n${query.fingerprint}\n${query.orderBy} ${query.direction}`;
    const cursor = query.nextPageToken ? tokens.verify(scope, query.nextPageToken) : undefined;
    const remaining = cursor?.remaining ?? query.eventCountLimit;
    const { params, p } = collector();
    const where = [accessSql(user, p), ...query.conditions.map((c) => c(p)), ...(options.extra ?? []).map((c) => c(p))];

    if (query.maxEventCount !== undefined && !cursor) {
      const counted = collector();
      const countWhere = [
        accessSql(user, counted.p),
        ...query.conditions.map((c) => c(counted.p)),
        ...(options.extra ?? []).map((c) => c(counted.p)),
      ];
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM (SELECT 1 FROM epcis_events e WHERE ${countWhere.join(' AND ')}
         LIMIT ${query.maxEventCount + 1}) m`,
        counted.params,
      );
      if ((rows[0]?.n as number) > query.maxEventCount) {
        throw new CodedError(
          ErrorCodes.QUERY_TOO_LARGE,
          `more than maxEventCount (${query.maxEventCount}) events match`,
          413,
          { epcis: { exception: 'QueryTooLargeException', parameter: 'maxEventCount' } },
        );
      }
    }

    const column = `e.${query.orderBy}`;
    const cmp = query.direction === 'ASC' ? '>' : '<';
    if (cursor)
      where.push(`(${column}, e.id) ${cmp} (${p(cursor.last[0])}::timestamptz, ${p(cursor.last[1])}::bigint)`);
    const pageSize = remaining !== undefined ? Math.min(query.perPage, remaining) : query.perPage;
    if (pageSize <= 0) return { events: [] };
    const { rows } = await pool.query(
      `SELECT e.id::text AS id, e.event, ${column}::text AS k FROM epcis_events e
       WHERE ${where.join(' AND ')}
       ORDER BY ${column} ${query.direction}, e.id ${query.direction}
       LIMIT ${pageSize + 1}`,
      params,
    );
    const page = rows.slice(0, pageSize);
    const left = remaining !== undefined ? remaining - page.length : undefined;
    const more = rows.length > pageSize && (left === undefined || left > 0);
    const last = page[page.length - 1];
    return {
      events: page.map((r) => redactEvent(r.event) as Record<string, unknown>),
      ...(more && last ? { nextPageToken: tokens.sign(scope, [last.k as string, last.id as string], left) } : {}),
    };
  }

  /** An event (and its error declaration, if any) by eventID; undefined when there is none the caller may see. */
  async function eventById(user: AuthUser, eventId: string): Promise<Record<string, unknown>[] | undefined> {
    if (eventId.includes('\u0000')) return undefined; // no such id can be stored
    const { params, p } = collector();
    const { rows } = await pool.query(
      `SELECT e.event FROM epcis_events e WHERE e.event_id = ${p(eventId)} AND ${accessSql(user, p)}
       ORDER BY e.id`,
      params,
    );
    return rows.length === 0 ? undefined : rows.map((r) => redactEvent(r.event) as Record<string, unknown>);
  }

  /**
   * The values of one vocabulary among the events the caller may see (GET /eventTypes, /bizSteps, ...), in
   * value order, paged with the same signed tokens. CBV values are answered as bare names (the binding's
   * collections list standard values that way); locations in canonical form.
   */
  async function vocabulary(
    user: AuthUser,
    kind: 'eventTypes' | 'bizSteps' | 'dispositions' | 'bizLocations' | 'readPoints',
    page: { perPage: number; nextPageToken?: string },
  ): Promise<{ members: string[]; nextPageToken?: string }> {
    const column = {
      eventTypes: 'event_type',
      bizSteps: 'biz_step',
      dispositions: 'disposition',
      bizLocations: 'biz_location',
      readPoints: 'read_point',
    }[kind];
    const cbv: CbvVocabulary | undefined =
      kind === 'bizSteps' ? 'bizStep' : kind === 'dispositions' ? 'disposition' : undefined;
    const scope = `vocabulary ${kind}\n${user.username}\n${user.mspId}`;
    const after = page.nextPageToken ? tokens.verify(scope, page.nextPageToken).last[0] : undefined;
    const { params, p } = collector();
    const { rows } = await pool.query(
      `SELECT DISTINCT e.${column} AS v FROM epcis_events e WHERE e.${column} IS NOT NULL AND ${accessSql(user, p)}`,
      params,
    );
    const all = [...new Set(rows.map((r) => (cbv ? cbvBare(cbv, r.v as string) : (r.v as string))))].sort();
    const from = after === undefined ? 0 : all.findIndex((v) => v > after);
    const members = from < 0 ? [] : all.slice(from, from + page.perPage);
    const last = members[members.length - 1];
    const more = from >= 0 && from + page.perPage < all.length;
    return { members, ...(more && last !== undefined ? { nextPageToken: tokens.sign(scope, [last, '0']) } : {}) };
  }

  return { events, eventById, vocabulary };
}

export type EpcisQuery = ReturnType<typeof createEpcisQuery>;

/** The EPCISQueryDocument the REST binding answers a query with. */
export function queryDocument(eventList: Record<string, unknown>[], now = new Date()) {
  return {
    '@context': DOCUMENT_CONTEXT,
    type: 'EPCISQueryDocument' as const,
    schemaVersion: '2.0',
    creationDate: now.toISOString(),
    epcisBody: { queryResults: { queryName: 'SimpleEventQuery', resultsBody: { eventList } } },
  };
}

/** The filter GET /epcs/{epc}/events adds: the EPC (or pattern) in any EPC role or as an EPC class. */
export function epcPathCondition(epc: string): ExtraCondition {
  if (!isUri(epc) || epc.length > MAX_VALUE_LENGTH) throw queryParameterError('epc', 'not a URI');
  if (epc.includes('|')) throw queryParameterError('epc', 'one EPC');
  // One scan of the EPC index over every role (MATCH_anyEPC and MATCH_anyEPCClass at once).
  const f = epcFilter('MATCH_anyEPC', epc);
  const all = { ...f, roles: [...(EPC_PARAMS.MATCH_anyEPC ?? []), ...(EPC_PARAMS.MATCH_anyEPCClass ?? [])] };
  return (p) => epcCondition(all, p);
}
