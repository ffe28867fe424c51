import type pg from 'pg';

/**
 * The EPCIS event store: the columns the standard query filters on, read off an event once, and a bulk insert
 * that is idempotent on eventID (re-capturing an identical event stores nothing new).
 *
 * Every URI that names a thing (EPCs, EPC classes, locations) is indexed in one canonical form, given by the
 * caller's `canonical` function (GS1 keys as canonical Digital Link, anything else as given), so that a query
 * in URN or Digital Link form finds the same rows and a class-level pattern is a prefix of its instances.
 */

export type EventType =
  | 'ObjectEvent'
  | 'AggregationEvent'
  | 'TransactionEvent'
  | 'TransformationEvent'
  | 'AssociationEvent';

export type EpcRole =
  | 'epc'
  | 'parent'
  | 'child'
  | 'input'
  | 'output'
  | 'epcClass'
  | 'childEpcClass'
  | 'inputEpcClass'
  | 'outputEpcClass';

export type Canonicalize = (uri: string) => string;

/** What the query filters on, read off one EPCIS 2.0 JSON(-LD) event. */
export interface IndexedEvent {
  readonly eventType: EventType;
  readonly eventTime: string;
  readonly action: string | null;
  readonly bizStep: string | null;
  readonly disposition: string | null;
  readonly readPoint: string | null;
  readonly bizLocation: string | null;
  readonly bizTransactions: string[];
  readonly sources: string[];
  readonly destinations: string[];
  readonly measurementTypes: string[];
  readonly epcs: { epc: string; role: EpcRole }[];
  readonly errorDeclaration: Record<string, unknown> | null;
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);
const idOf = (v: unknown): string | null => str(v) ?? str(obj(v)?.id);

const EPC_LISTS: readonly [string, EpcRole][] = [
  ['epcList', 'epc'],
  ['childEPCs', 'child'],
  ['inputEPCList', 'input'],
  ['outputEPCList', 'output'],
];
const QUANTITY_LISTS: readonly [string, EpcRole][] = [
  ['quantityList', 'epcClass'],
  ['childQuantityList', 'childEpcClass'],
  ['inputQuantityList', 'inputEpcClass'],
  ['outputQuantityList', 'outputEpcClass'],
];

/**
 * The indexed columns of one event. The event is expected to have passed schema validation; anything of the
 * wrong shape here is skipped rather than thrown, so that indexing never refuses what validation accepted.
 */
export function indexEvent(event: Json, canonical: Canonicalize): IndexedEvent {
  const type = str(event.type) as EventType;
  const epcs: { epc: string; role: EpcRole }[] = [];
  const seen = new Set<string>();
  const add = (uri: unknown, role: EpcRole) => {
    if (typeof uri !== 'string' || uri.length === 0) return;
    const epc = canonical(uri);
    const key = `${role} ${epc}`;
    if (seen.has(key)) return;
    seen.add(key);
    epcs.push({ epc, role });
  };
  for (const [field, role] of EPC_LISTS) for (const e of list(event[field])) add(e, role);
  for (const [field, role] of QUANTITY_LISTS) for (const q of list(event[field])) add(obj(q)?.epcClass, role);
  add(event.parentID, 'parent');

  const typed = (v: unknown, idField: string) => {
    const o = obj(v);
    const id = o ? str(o[idField]) : null;
    // Canonical like every other URI, so that EQ_source_<type> / EQ_bizTransaction_<type> given a URN finds
    // an id captured as Digital Link and the other way round.
    return id === null ? null : `${str(o?.type) ?? ''} ${canonical(id)}`;
  };
  const measurementTypes = new Set<string>();
  for (const element of list(event.sensorElementList)) {
    for (const report of list(obj(element)?.sensorReport)) {
      const t = str(obj(report)?.type);
      if (t) measurementTypes.add(t);
    }
  }
  const readPoint = idOf(event.readPoint);
  const bizLocation = idOf(event.bizLocation);
  return {
    eventType: type,
    eventTime: String(event.eventTime),
    action: str(event.action),
    bizStep: str(event.bizStep),
    disposition: str(event.disposition),
    readPoint: readPoint === null ? null : canonical(readPoint),
    bizLocation: bizLocation === null ? null : canonical(bizLocation),
    bizTransactions: list(event.bizTransactionList)
      .map((t) => typed(t, 'bizTransaction'))
      .filter((s): s is string => s !== null),
    sources: list(event.sourceList)
      .map((t) => typed(t, 'source'))
      .filter((s): s is string => s !== null),
    destinations: list(event.destinationList)
      .map((t) => typed(t, 'destination'))
      .filter((s): s is string => s !== null),
    measurementTypes: [...measurementTypes].sort(),
    epcs,
    errorDeclaration: obj(event.errorDeclaration),
  };
}

/** One event ready to store: the event, its hash, what the signer signed, and who signed it. */
export interface EventRow {
  readonly eventId: string;
  readonly eventHash: string;
  readonly event: Json;
  readonly index: IndexedEvent;
  readonly ownerMsp: string;
  readonly source: 'capture' | 'device';
  readonly captureId?: string;
  readonly workOrderId?: string | null;
  readonly brandMsp?: string | null;
  readonly recordTime: string;
  readonly message: string;
  readonly signature: string;
  readonly signerCertificate: string;
  readonly sourceLeaves?: readonly string[];
  readonly leafHash: string;
}

export interface StoredEvent {
  readonly id: number;
  readonly eventId: string;
  readonly eventHash: string;
  /** False when an event with this eventID (and the same declaration state) was already stored. */
  readonly inserted: boolean;
}

/**
 * Stores events in one statement (and their EPCs in a second), inside the caller's transaction. An event whose
 * eventID is already stored is not stored again: the existing row is returned with `inserted: false`, and the
 * caller decides whether a different hash under the same eventID is a conflict. An error declaration marks the
 * original event (same eventID) as declared in error by the new row.
 */
export async function insertEvents(client: pg.PoolClient, rows: readonly EventRow[]): Promise<StoredEvent[]> {
  if (rows.length === 0) return [];
  const col = <T>(f: (r: EventRow) => T) => rows.map(f);
  const { rows: inserted } = await client.query(
    `INSERT INTO epcis_events (event_id, event_hash, event_type, event_time, record_time, action, biz_step,
       disposition, read_point, biz_location, owner_msp, source, capture_id, work_order_id, brand_msp, event,
       message, signature, signer_certificate, source_leaves, biz_transactions, sources, destinations,
       measurement_types, error_declaration, leaf_hash)
     SELECT u.event_id, u.event_hash, u.event_type, u.event_time, u.record_time, u.action, u.biz_step,
       u.disposition, u.read_point, u.biz_location, u.owner_msp, u.source, u.capture_id, u.work_order_id,
       u.brand_msp, u.event, u.message, u.signature, u.signer_certificate,
       ARRAY(SELECT jsonb_array_elements_text(u.source_leaves)),
       ARRAY(SELECT jsonb_array_elements_text(u.biz_transactions)),
       ARRAY(SELECT jsonb_array_elements_text(u.sources)),
       ARRAY(SELECT jsonb_array_elements_text(u.destinations)),
       ARRAY(SELECT jsonb_array_elements_text(u.measurement_types)),
       u.error_declaration, u.leaf_hash
     FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[],
       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
       $16::jsonb[], $17::text[], $18::text[], $19::text[], $20::jsonb[], $21::jsonb[], $22::jsonb[], $23::jsonb[],
       $24::jsonb[], $25::jsonb[], $26::text[])
       WITH ORDINALITY AS u(event_id, event_hash, event_type, event_time, record_time, action, biz_step,
         disposition, read_point, biz_location, owner_msp, source, capture_id, work_order_id, brand_msp, event,
         message, signature, signer_certificate, source_leaves, biz_transactions, sources, destinations,
         measurement_types, error_declaration, leaf_hash, ord)
     ORDER BY u.ord
     ON CONFLICT DO NOTHING
     RETURNING id, event_id, event_hash, error_declaration IS NOT NULL AS declaration`,
    [
      col((r) => r.eventId),
      col((r) => r.eventHash),
      col((r) => r.index.eventType),
      col((r) => r.index.eventTime),
      col((r) => r.recordTime),
      col((r) => r.index.action),
      col((r) => r.index.bizStep),
      col((r) => r.index.disposition),
      col((r) => r.index.readPoint),
      col((r) => r.index.bizLocation),
      col((r) => r.ownerMsp),
      col((r) => r.source),
      col((r) => r.captureId ?? null),
      col((r) => r.workOrderId ?? null),
      col((r) => r.brandMsp ?? null),
      col((r) => JSON.stringify(r.event)),
      col((r) => r.message),
      col((r) => r.signature),
      col((r) => r.signerCertificate),
      col((r) => JSON.stringify(r.sourceLeaves ?? [])),
      col((r) => JSON.stringify(r.index.bizTransactions)),
      col((r) => JSON.stringify(r.index.sources)),
      col((r) => JSON.stringify(r.index.destinations)),
      col((r) => JSON.stringify(r.index.measurementTypes)),
      col((r) => (r.index.errorDeclaration ? JSON.stringify(r.index.errorDeclaration) : null)),
      col((r) => r.leafHash),
    ],
  );
  const key = (eventId: string, declaration: boolean) => `${declaration ? 'D' : 'E'} ${eventId}`;
  const fresh = new Map<string, { id: number; eventHash: string }>();
  for (const r of inserted) {
    fresh.set(key(r.event_id as string, r.declaration as boolean), {
      id: Number(r.id),
      eventHash: r.event_hash as string,
    });
  }

  // EPC rows of the events stored now.
  const epcs: string[] = [];
  const roles: string[] = [];
  const pks: number[] = [];
  for (const r of rows) {
    const f = fresh.get(key(r.eventId, r.index.errorDeclaration !== null));
    if (!f) continue;
    for (const e of r.index.epcs) {
      epcs.push(e.epc);
      roles.push(e.role);
      pks.push(f.id);
    }
  }
  if (epcs.length > 0) {
    await client.query(
      `INSERT INTO epcis_event_epcs (epc, role, event_pk)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`,
      [epcs, roles, pks],
    );
  }
  // Error declarations mark their originals.
  const declared = rows.filter((r) => r.index.errorDeclaration !== null && fresh.has(key(r.eventId, true)));
  if (declared.length > 0) {
    await client.query(
      `UPDATE epcis_events o SET error_declared_by = d.id
       FROM epcis_events d
       WHERE d.event_id = o.event_id AND d.error_declaration IS NOT NULL AND o.error_declaration IS NULL
         AND d.id = ANY($1)`,
      [declared.map((r) => fresh.get(key(r.eventId, true))?.id)],
    );
  }

  // Events already stored: return their rows.
  const missing = rows.filter((r) => !fresh.has(key(r.eventId, r.index.errorDeclaration !== null)));
  const existing = new Map<string, { id: number; eventHash: string }>();
  if (missing.length > 0) {
    const { rows: found } = await client.query(
      `SELECT id, event_id, event_hash, error_declaration IS NOT NULL AS declaration FROM epcis_events
       WHERE event_id = ANY($1)`,
      [missing.map((r) => r.eventId)],
    );
    for (const r of found) {
      existing.set(key(r.event_id as string, r.declaration as boolean), {
        id: Number(r.id),
        eventHash: r.event_hash as string,
      });
    }
  }
  return rows.map((r) => {
    const k = key(r.eventId, r.index.errorDeclaration !== null);
    const f = fresh.get(k);
    if (f) return { id: f.id, eventId: r.eventId, eventHash: f.eventHash, inserted: true };
    const e = existing.get(k);
    if (!e) throw new Error(`event ${r.eventId} was neither stored nor found`);
    return { id: e.id, eventId: r.eventId, eventHash: e.eventHash, inserted: false };
  });
}
