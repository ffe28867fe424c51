import { DeviceEventTypes } from '@c2m/shared';

// ES2024 string methods, present in Node 20 (V8 11.3) but not in this project's TypeScript lib setting.
declare global {
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

/**
 * The strict input rules every device message body meets before anything
 * else looks at it. Each rule exists because a value that broke it once
 * reached PostgreSQL or a recursive function and stopped the whole ingest:
 * a NUL in text or jsonb, a `Date.toString()` time in timestamptz, JSON nested
 * 5,000 levels deep in a recursive key check. Everything here is iterative and
 * bounded, and returns a reason instead of throwing.
 */
export const MessageLimits = {
  /** Deepest nesting of objects and arrays in a body (the body itself is depth 1). */
  maxDepth: 8,
  /** Objects, arrays and scalars in a body, all counted. */
  maxNodes: 512,
  /** Longest string value or key, in UTF-16 code units. */
  maxStringLength: 2048,
  /** Largest unit count one production message may report. */
  maxUnits: 1_000_000,
} as const;

/** ISO 8601 in UTC, as `Date.toISOString()` writes it (milliseconds optional, up to microseconds accepted). */
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const EVENT_TYPES = new Set<string>(Object.values(DeviceEventTypes));

/** Milliseconds since the epoch of a strict ISO 8601 UTC time, or undefined when it is not one (no rollover: 02-30 is refused). */
export function parseIsoUtc(text: string): number | undefined {
  const m = ISO_UTC.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const back = new Date(ms);
  if (
    Number.isNaN(ms) ||
    back.getUTCFullYear() !== Number(y) ||
    back.getUTCMonth() !== Number(mo) - 1 ||
    back.getUTCDate() !== Number(d) ||
    back.getUTCHours() !== Number(h) ||
    back.getUTCMinutes() !== Number(mi) ||
    back.getUTCSeconds() !== Number(s)
  ) {
    return undefined;
  }
  // Year 0000 is valid ISO but not a time any device reports; the skew rule refuses it anyway.
  return ms + (frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0);
}

/** A string PostgreSQL stores unchanged: no NUL (text and jsonb refuse it) and no lone surrogate (jsonb refuses it, UTF-8 encoding would alter it). */
export function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes('\u0000');
}

/**
 * Walks a parsed JSON value without recursion and returns what is wrong with
 * it, or undefined. Checks depth, size, string and key content and numbers.
 */
export function structureProblem(value: unknown): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  let nodes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (++nodes > MessageLimits.maxNodes) return `more than ${MessageLimits.maxNodes} values`;
    if (typeof v === 'string') {
      if (v.length > MessageLimits.maxStringLength) return `a string longer than ${MessageLimits.maxStringLength}`;
      if (!isStorableText(v)) return 'a string with NUL or a lone surrogate';
      continue;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return 'a number out of range';
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth > MessageLimits.maxDepth) return `nested deeper than ${MessageLimits.maxDepth}`;
    if (Array.isArray(v)) {
      for (const item of v) stack.push([item, depth + 1]);
      continue;
    }
    for (const k of Object.keys(v)) {
      if (k.length > MessageLimits.maxStringLength || !isStorableText(k))
        return 'a key with NUL, a lone surrogate or too long';
      stack.push([(v as Record<string, unknown>)[k], depth + 1]);
    }
  }
  return undefined;
}

/**
 * Are every object's keys in strictly ascending order (code unit order, as
 * canonical JSON sorts them)? Iterative, for the same reason as above; call it
 * after `structureProblem` has bounded the value.
 */
export function keysSorted(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
      continue;
    }
    let previous: string | undefined;
    for (const k in v) {
      if (previous !== undefined && !(previous < k)) return false;
      previous = k;
      stack.push((v as Record<string, unknown>)[k]);
    }
  }
  return true;
}

/**
 * The body's own fields and, per event type, the data fields that queries
 * read with casts (`units::bigint`, `pass::boolean`): a value that fails such a
 * cast later would make every query over its work order fail, so it is
 * refused here. Returns what is wrong, or undefined.
 */
export function bodyProblem(b: Record<string, unknown>): string | undefined {
  const allowed = new Set(['v', 'deviceId', 'seq', 'time', 'type', 'data']);
  for (const k of Object.keys(b)) if (!allowed.has(k)) return `unknown field ${JSON.stringify(k.slice(0, 40))}`;
  if (b.v !== 1) return 'v must be 1';
  if (typeof b.deviceId !== 'string' || !ID_PATTERN.test(b.deviceId)) return 'deviceId must match [A-Za-z0-9._-]{1,64}';
  if (!Number.isSafeInteger(b.seq) || (b.seq as number) < 1) return 'seq must be a positive safe integer';
  if (typeof b.time !== 'string' || parseIsoUtc(b.time) === undefined) {
    return 'time must be ISO 8601 UTC (YYYY-MM-DDTHH:mm:ss[.sss]Z)';
  }
  if (typeof b.type !== 'string' || !EVENT_TYPES.has(b.type))
    return `type must be one of ${[...EVENT_TYPES].join(', ')}`;
  const data = b.data as Record<string, unknown> | null;
  if (!data || typeof data !== 'object' || Array.isArray(data)) return 'data must be an object';
  if (data.workOrderId !== undefined && (typeof data.workOrderId !== 'string' || !ID_PATTERN.test(data.workOrderId))) {
    return 'data.workOrderId must be an id';
  }
  switch (b.type) {
    case DeviceEventTypes.productionCount:
      if (
        !Number.isSafeInteger(data.units) ||
        (data.units as number) < 0 ||
        (data.units as number) > MessageLimits.maxUnits
      ) {
        return `data.units must be an integer from 0 to ${MessageLimits.maxUnits}`;
      }
      break;
    case DeviceEventTypes.qualityMeasurement:
      if (typeof data.pass !== 'boolean') return 'data.pass must be a boolean';
      if (data.value !== undefined && typeof data.value !== 'number') return 'data.value must be a number';
      break;
    case DeviceEventTypes.sensorReading:
      if (data.value !== undefined && typeof data.value !== 'number') return 'data.value must be a number';
      break;
  }
  return undefined;
}
