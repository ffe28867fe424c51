import { createHash } from 'node:crypto';
import { CodedError, DeviceStatuses, ErrorCodes } from '@c2m/shared';
import type pg from 'pg';
import { visibleWorkOrdersSql } from '../auth/work-order-access.js';
import type { AuthUser } from '../plugins/auth.js';
import { sgtinUri } from './from-device.js';
import { accessSql } from './query.js';
import { keyOfCanonical, parseTraceKey, type TraceKey } from './trace-key.js';

/**
 * The trace graph: from one serial, lot or SSCC backward to the work order, factory, line, devices (with their
 * certification at event time), QC results and input material lots, and up to the cartons, pallets and
 * shipments that carried it; or forward from a material lot, a device or a line (within a time window) to every
 * lot, serial, carton and shipment affected, each with its last known location.
 *
 * It walks the EPCIS event store one hop per query, set at a time: every identifier reached at one level is
 * looked up in epcis_event_epcs in ONE statement (a join of `unnest($1)` on its primary key: `= ANY($1)` would
 * have the planner estimate each of 10,000 array elements, or a sequential scan test each row against all of
 * them), so a trace costs as many
 * round trips as the graph is deep, not as many as it has nodes (bench/src/epcis/trace-bench.ts compares both).
 * The hops follow the standard's semantics:
 *
 * - AggregationEvent / AssociationEvent ADD puts a child in a parent from its event time until a later DELETE
 *   of that parent naming the child (or naming no children: everything out); a container's events count for
 *   what it held only inside that interval, so a carton unpacked before it shipped did not ship its old contents;
 * - TransformationEvent turns its inputs into its outputs: backward from an output to the inputs, forward from an
 *   input to the outputs;
 * - a serial belongs to its lot (work_order_lots serial ranges), whose QC (inspecting) events and inputs apply
 *   to it, and a lot reached forward stands for every serial of it that an event names.
 *
 * Only events the caller may see count (the EPCIS query's rule, `eventAccessSql`), and events declared in error
 * are left out. A start nobody let the caller see is 404, the same answer as one that does not exist.
 */

export type TraceDirection = 'backward' | 'forward';

export interface TraceOptions {
  readonly direction: TraceDirection;
  readonly from?: Date;
  readonly to?: Date;
  /** Stop adding identifier nodes past this many (the answer then says `truncated`). */
  readonly maxNodes?: number;
}

export type NodeKind =
  | 'serial'
  | 'lot'
  | 'sscc'
  | 'product'
  | 'location'
  | 'device'
  | 'epc'
  | 'workOrder'
  | 'factory'
  | 'qc'
  | 'shipment';

export interface TraceEventRef {
  readonly eventID: string;
  readonly eventType: string;
  readonly action: string | null;
  readonly bizStep: string | null;
  readonly disposition: string | null;
  readonly eventTime: string;
  readonly readPoint: string | null;
  readonly bizLocation: string | null;
  /** The event's proof bundle (the EPCIS capture's route). */
  readonly proof: string;
}

export interface TraceNode {
  readonly id: string;
  readonly kind: NodeKind;
  readonly label: string;
  /** The EPC (canonical Digital Link) for an identifier node. */
  readonly uri?: string;
  /** eventIDs of the events that name this node (details in the graph's `events`). */
  readonly events: string[];
  readonly data: Record<string, unknown>;
  /** Identifier nodes: the last event naming it or a container holding it, with its bizLocation or readPoint. */
  lastLocation?: { uri: string; name?: string; eventID: string; eventTime: string } | null;
}

export type EdgeKind =
  | 'contains'
  | 'associated'
  | 'transformed'
  | 'lotOf'
  | 'producedUnder'
  | 'madeBy'
  | 'producedBy'
  | 'inspectedBy'
  | 'madeAt'
  | 'qc'
  | 'shipped'
  | 'observed';

export interface TraceEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  readonly eventID?: string;
  readonly since?: string;
  readonly until?: string;
}

export interface TraceGraph {
  readonly root: string;
  readonly direction: TraceDirection;
  readonly window: { from: string | null; to: string | null };
  readonly nodes: TraceNode[];
  readonly edges: TraceEdge[];
  readonly events: Record<string, TraceEventRef>;
  readonly truncated: boolean;
  /** Round trips to the database this trace took. */
  readonly queries: number;
}

/**
 * Which events a caller may see, as SQL over `epcis_events e`: the EPCIS query's rule itself (`accessSql` in
 * query.ts), with the caller's MSP id bound to `mspParam`.
 */
export function eventAccessSql(user: AuthUser, mspParam: string): string {
  return accessSql(user, () => mspParam);
}

export const eventProofPath = (eventID: string) => `/api/epcis/events/${encodeURIComponent(eventID)}/proof`;

// Moves a node may make, by why it was reached.
const UP = 1; // to the containers that held it
const DOWN = 2; // to what it contains
const ORIGIN = 4; // to the inputs it was made from, and its lot
const FORWARD = 8; // to the outputs made from it, and (a lot) to its serials

const NEVER = Number.POSITIVE_INFINITY;
const EVER = Number.NEGATIVE_INFINITY;

interface Visit {
  moves: number;
  from: number;
  to: number;
}

interface EventRow {
  id: number;
  eventId: string;
  type: string;
  action: string | null;
  bizStep: string | null;
  disposition: string | null;
  time: number;
  readPoint: string | null;
  bizLocation: string | null;
  workOrderId: string | null;
  ownerMsp: string;
  device: string | null;
  sensors: unknown;
  destinations: string[];
  bizTransactions: string[];
}

// Time as epoch milliseconds and arrays only where they are used: 10,000 rows of dates and arrays parsed in
// JavaScript cost more than the query itself.
const EVENT_COLUMNS = `e.id, e.event_id, e.event_type, e.action, e.biz_step, e.disposition,
  (extract(epoch FROM e.event_time) * 1000)::float8 AS event_ms, e.read_point, e.biz_location, e.work_order_id,
  e.owner_msp, CASE WHEN e.event ? 'c2m:device' THEN e.event->>'c2m:device' END AS device,
  CASE WHEN e.biz_step = 'inspecting' THEN e.event->'sensorElementList' END AS sensors,
  CASE WHEN e.biz_step IN ('shipping', 'receiving') THEN e.destinations END AS destinations,
  CASE WHEN e.biz_step IN ('shipping', 'receiving') THEN e.biz_transactions END AS biz_transactions`;
const LIVE = 'e.error_declaration IS NULL AND e.error_declared_by IS NULL';

function eventOf(r: pg.QueryResultRow): EventRow {
  return {
    id: Number(r.id),
    eventId: r.event_id,
    type: r.event_type,
    action: r.action,
    bizStep: r.biz_step,
    disposition: r.disposition,
    time: Number(r.event_ms),
    readPoint: r.read_point,
    bizLocation: r.biz_location,
    workOrderId: r.work_order_id,
    ownerMsp: r.owner_msp,
    device: r.device,
    sensors: r.sensors,
    destinations: r.destinations ?? [],
    bizTransactions: r.biz_transactions ?? [],
  };
}

const bare = (v: string | null) => (v ? v.replace(/^.*[:/]/, '') : v);
const isContainerEvent = (t: string) => t === 'AggregationEvent' || t === 'AssociationEvent';
const CHILD = new Set(['child', 'childEpcClass']);
const INPUT = new Set(['input', 'inputEpcClass']);
const OUTPUT = new Set(['output', 'outputEpcClass']);

export interface TraceGraphDeps {
  readonly pool: pg.Pool;
  /** Most identifier nodes a trace adds before it stops (default 50,000). */
  readonly maxNodes?: number;
  /** Sees each query's text, rows and milliseconds (the bench's profile). */
  readonly onQuery?: (text: string, rows: number, ms: number) => void;
}

export function createTraceGraph(deps: TraceGraphDeps) {
  const { pool } = deps;

  async function trace(user: AuthUser, rawKey: string | TraceKey, options: TraceOptions): Promise<TraceGraph> {
    const key = typeof rawKey === 'string' ? parseTraceKey(rawKey) : rawKey;
    const direction = options.direction;
    const winFrom = options.from ? options.from.getTime() : EVER;
    const winTo = options.to ? options.to.getTime() : NEVER;
    if (winFrom > winTo) throw new CodedError(ErrorCodes.VALIDATION_FAILED, '`from` is after `to`', 400);
    if ((key.kind === 'device' || key.kind === 'location') && direction === 'backward') {
      throw new CodedError(
        ErrorCodes.VALIDATION_FAILED,
        'a device or a line is traced forward (direction=forward, with from and to)',
        400,
      );
    }
    if (key.kind === 'product') {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'trace a serial, lot or SSCC, not a whole product', 400);
    }
    const maxNodes = options.maxNodes ?? deps.maxNodes ?? 50_000;
    const client = await pool.connect();
    let queries = 0;
    // Named statements: PostgreSQL plans each once per connection (planning costs more than running these).
    const q = async (text: string, values: unknown[]) => {
      queries++;
      const t0 = deps.onQuery ? performance.now() : 0;
      const rows = (await client.query({ name: statementName(text), text, values })).rows;
      deps.onQuery?.(text, rows.length, performance.now() - t0);
      return rows;
    };
    // `$2` (the caller's MSP id) is referenced whatever the rule, so PostgreSQL always knows its type.
    const access = `($2::text IS NOT NULL AND ${eventAccessSql(user, '$2')})`;

    const visits = new Map<string, Visit>();
    const nodeEvents = new Map<string, Set<string>>();
    const events = new Map<number, EventRow>();
    /** Events the caller may not see (or declared in error): never read again. */
    const hidden = new Set<number>();
    const edges = new Map<string, TraceEdge>();
    /** Up-edges with the interval the child was inside: for last locations. */
    const heldIn = new Map<string, { parent: string; from: number; to: number }[]>();
    let truncated = false;

    const addEdge = (e: TraceEdge) => {
      const k = `${e.from}|${e.to}|${e.kind}|${e.eventID ?? ''}`;
      if (!edges.has(k)) edges.set(k, e);
    };
    const attach = (epc: string, ev: EventRow) => {
      let s = nodeEvents.get(epc);
      if (!s) {
        s = new Set();
        nodeEvents.set(epc, s);
      }
      s.add(ev.eventId);
    };
    let frontier: string[] = [];
    const visit = (epc: string, moves: number, from: number, to: number): void => {
      const v = visits.get(epc);
      if (!v) {
        if (visits.size >= maxNodes) {
          truncated = true;
          return;
        }
        visits.set(epc, { moves, from, to });
        frontier.push(epc);
        return;
      }
      const merged = { moves: v.moves | moves, from: Math.min(v.from, from), to: Math.max(v.to, to) };
      if (merged.moves !== v.moves || merged.from !== v.from || merged.to !== v.to) {
        visits.set(epc, merged);
        frontier.push(epc);
      }
    };

    try {
      // The start.
      const startMoves = direction === 'backward' ? UP | DOWN | ORIGIN : UP | DOWN | FORWARD;
      if (key.kind === 'device' || key.kind === 'location') {
        // Everything the device said, or that was read at the line (or any line of a site), in the window.
        const column =
          key.kind === 'device'
            ? `e.event->>'c2m:device' = $1 AND e.event ? 'c2m:device'`
            : `(e.read_point = $1 OR e.read_point IN (SELECT uri FROM gs1_locations WHERE parent_uri = $1))`;
        const rows = await q(
          `SELECT ${EVENT_COLUMNS} FROM epcis_events e
           WHERE ${column} AND e.event_time >= $3 AND e.event_time < $4 AND ${LIVE} AND ${access}
           ORDER BY e.event_time LIMIT 10000`,
          [
            key.kind === 'device' ? key.deviceId : key.uri,
            user.mspId,
            new Date(Number.isFinite(winFrom) ? winFrom : 0),
            new Date(Number.isFinite(winTo) ? winTo : 8.64e15),
          ],
        );
        if (rows.length === 0) throw notFound(key.uri);
        for (const r of rows) events.set(Number(r.id), eventOf(r));
        visits.set(key.uri, { moves: 0, from: winFrom, to: winTo });
        const said = await q(
          `SELECT m.epc, m.role, m.event_pk FROM unnest($1::bigint[]) AS k(pk)
           JOIN epcis_event_epcs m ON m.event_pk = k.pk
           WHERE m.role IN ('epc', 'epcClass', 'output', 'outputEpcClass', 'parent')`,
          [[...events.keys()]],
        );
        for (const r of said) {
          const ev = events.get(Number(r.event_pk)) as EventRow;
          attach(key.uri, ev);
          attach(r.epc, ev);
          addEdge({
            from: key.uri,
            to: r.epc,
            kind: ev.bizStep === 'inspecting' ? 'inspectedBy' : key.kind === 'device' ? 'producedBy' : 'madeAt',
            eventID: ev.eventId,
          });
          visit(r.epc, UP | FORWARD, ev.time, NEVER);
        }
      } else {
        visits.set(key.uri, { moves: startMoves, from: winFrom, to: winTo });
        frontier.push(key.uri);
      }

      for (let depth = 0; frontier.length > 0 && depth < 16; depth++) {
        const level = [...new Set(frontier)];
        frontier = [];
        await hop(level);
      }
    } finally {
      client.release();
    }

    /** One level: every event naming any identifier of the level, then the moves each allows. */
    async function hop(level: string[]): Promise<void> {
      // Lots named by serials (backward), and serials of lots (forward), from the work orders' lot ranges.
      const serials = level.filter((e) => (visits.get(e)?.moves ?? 0) & ORIGIN).map(keyOfCanonical);
      const lotsForward = level
        .filter((e) => (visits.get(e)?.moves ?? 0) & FORWARD)
        .map(keyOfCanonical)
        .filter((k): k is TraceKey => k?.kind === 'lot');
      const [named, lotRows, serialLots] = await Promise.all([
        q(
          `SELECT ee.epc, ee.role, ee.event_pk FROM unnest($1::text[]) AS k(epc)
           JOIN epcis_event_epcs ee ON ee.epc = k.epc`,
          [level],
        ),
        serialsToLots(serials.filter((k): k is TraceKey => k?.kind === 'serial' && /^\d{1,15}$/.test(k.serial ?? ''))),
        lotsToSerials(lotsForward),
      ]);
      // The events named, each read once (and only those the caller may see).
      const unread = [...new Set(named.map((r) => Number(r.event_pk)))].filter(
        (id) => !events.has(id) && !hidden.has(id),
      );
      if (unread.length > 0) {
        const found = await q(
          `SELECT ${EVENT_COLUMNS} FROM unnest($1::bigint[]) AS k(id) JOIN epcis_events e ON e.id = k.id
           WHERE ${LIVE} AND ${access}`,
          [unread, user.mspId],
        );
        for (const r of found) events.set(Number(r.id), eventOf(r));
        for (const id of unread) if (!events.has(id)) hidden.add(id);
      }
      const rows = named.filter((r) => events.has(Number(r.event_pk)));
      for (const l of lotRows) {
        addEdge({ from: l.lot, to: l.serial, kind: 'lotOf' });
        visit(l.lot, ORIGIN, EVER, NEVER);
      }

      // Which container / transformation events need their other members.
      const needMembers = new Set<number>();
      const byRow: { epc: string; role: string; ev: EventRow }[] = [];
      for (const r of rows) {
        const id = Number(r.event_pk);
        const ev = events.get(id) as EventRow;
        const v = visits.get(r.epc) as Visit;
        if (ev.time < v.from || ev.time > v.to) {
          // A container's DELETE after the window still ends an interval: handled by `deletes` below.
          continue;
        }
        byRow.push({ epc: r.epc, role: r.role, ev });
        if (isContainerEvent(ev.type) || ev.type === 'TransformationEvent') needMembers.add(id);
      }
      const members = new Map<number, { epc: string; role: string }[]>();
      if (needMembers.size > 0) {
        const m = await q(
          `SELECT m.event_pk, m.epc, m.role FROM unnest($1::bigint[]) AS k(pk)
           JOIN epcis_event_epcs m ON m.event_pk = k.pk
           WHERE m.role NOT IN ('child', 'childEpcClass') OR k.pk = ANY($2::bigint[])`,
          [
            [...needMembers],
            // Children are needed where the level holds the parent (down) or the event is a DELETE.
            [
              ...new Set(
                byRow
                  .filter(
                    (b) =>
                      isContainerEvent(b.ev.type) &&
                      ((b.role === 'parent' && ((visits.get(b.epc)?.moves ?? 0) & DOWN) !== 0) ||
                        b.ev.action === 'DELETE'),
                  )
                  .map((b) => b.ev.id),
              ),
            ],
          ],
        );
        for (const r of m) {
          const pk = Number(r.event_pk);
          let list = members.get(pk);
          if (!list) {
            list = [];
            members.set(pk, list);
          }
          list.push({ epc: r.epc, role: r.role });
        }
      }

      // When did each container reached upward let go of what the level put in it?
      const adds: { child: string; parent: string; ev: EventRow; associated: boolean }[] = [];
      for (const { epc, role, ev } of byRow) {
        const v = visits.get(epc) as Visit;
        attach(epc, ev);
        const list = members.get(ev.id) ?? [];
        if (isContainerEvent(ev.type)) {
          const associated = ev.type === 'AssociationEvent';
          if (CHILD.has(role)) {
            const parent = list.find((x) => x.role === 'parent')?.epc;
            if (!parent) continue;
            if (ev.action === 'ADD' && v.moves & UP) adds.push({ child: epc, parent, ev, associated });
            else if (ev.action === 'OBSERVE') {
              addEdge({ from: parent, to: epc, kind: 'observed', eventID: ev.eventId, since: iso(ev.time) });
            }
          } else if (role === 'parent' && ev.action === 'ADD' && v.moves & DOWN) {
            for (const c of list.filter((x) => CHILD.has(x.role))) {
              addEdge({
                from: epc,
                to: c.epc,
                kind: associated ? 'associated' : 'contains',
                eventID: ev.eventId,
                since: iso(ev.time),
              });
              visit(c.epc, (v.moves & ~UP) | ORIGIN, ev.time, v.to);
            }
          }
        } else if (ev.type === 'TransformationEvent') {
          if (INPUT.has(role) && v.moves & FORWARD) {
            for (const o of list.filter((x) => OUTPUT.has(x.role))) {
              addEdge({ from: epc, to: o.epc, kind: 'transformed', eventID: ev.eventId, since: iso(ev.time) });
              visit(o.epc, UP | FORWARD, ev.time, NEVER);
              attach(o.epc, ev);
            }
          } else if (OUTPUT.has(role) && v.moves & ORIGIN) {
            for (const i of list.filter((x) => INPUT.has(x.role))) {
              addEdge({ from: i.epc, to: epc, kind: 'transformed', eventID: ev.eventId, since: iso(ev.time) });
              visit(i.epc, ORIGIN, EVER, ev.time);
              attach(i.epc, ev);
            }
          }
        }
      }
      if (adds.length > 0) {
        const ends = await deletes([...new Set(adds.map((a) => a.parent))]);
        for (const a of adds) {
          const end =
            ends
              .get(a.parent)
              ?.find((d) => d.time > a.ev.time && (d.children.length === 0 || d.children.includes(a.child))) ??
            undefined;
          const until = end ? end.time : NEVER;
          const v = visits.get(a.child) as Visit;
          const from = Math.max(a.ev.time, v.from);
          const to = Math.min(until, v.to);
          addEdge({
            from: a.parent,
            to: a.child,
            kind: a.associated ? 'associated' : 'contains',
            eventID: a.ev.eventId,
            since: iso(a.ev.time),
            ...(end ? { until: iso(end.time) } : {}),
          });
          if (end) {
            events.set(end.row.id, end.row);
            attach(a.child, end.row);
            attach(a.parent, end.row);
          }
          const list = heldIn.get(a.child) ?? [];
          list.push({ parent: a.parent, from, to });
          heldIn.set(a.child, list);
          visit(a.parent, UP, from, to);
        }
      }
      for (const s of serialLots) {
        addEdge({ from: s.lot, to: s.serial, kind: 'lotOf' });
        const v = visits.get(s.lot) as Visit;
        visit(s.serial, UP | FORWARD, v.from, v.to);
      }
    }

    /** DELETEs of the given parents, oldest first, with the children each names (none: all). */
    async function deletes(parents: string[]) {
      const rows = await q(
        `SELECT p.epc AS parent, ${EVENT_COLUMNS},
           ARRAY(SELECT c.epc FROM epcis_event_epcs c WHERE c.event_pk = e.id AND c.role IN ('child', 'childEpcClass'))
             AS children
         FROM unnest($1::text[]) AS k(epc)
         JOIN epcis_event_epcs p ON p.epc = k.epc AND p.role = 'parent'
         JOIN epcis_events e ON e.id = p.event_pk
         WHERE e.action = 'DELETE'
           AND e.event_type IN ('AggregationEvent', 'AssociationEvent') AND ${LIVE} AND ${access}
         ORDER BY e.event_time`,
        [parents, user.mspId],
      );
      const out = new Map<string, { time: number; children: string[]; row: EventRow }[]>();
      for (const r of rows) {
        const list = out.get(r.parent) ?? [];
        list.push({ time: Number(r.event_ms), children: r.children ?? [], row: eventOf(r) });
        out.set(r.parent, list);
      }
      return out;
    }

    /** The lot each numeric serial falls in (by its work order's serial range). */
    async function serialsToLots(keys: TraceKey[]): Promise<{ serial: string; lot: string }[]> {
      if (keys.length === 0) return [];
      const rows = await q(
        `SELECT s.uri, x.gtin, x.lot FROM unnest($1::text[], $2::text[], $3::bigint[]) AS s(uri, gtin, serial)
         JOIN work_order_lots x ON x.gtin = s.gtin AND s.serial BETWEEN x.serial_from AND x.serial_to
         JOIN work_orders w ON w.id = x.work_order_id
         WHERE $4::text IS NOT NULL AND ${visibleWorkOrdersSql(user, () => '$4')}`,
        [keys.map((k) => k.uri), keys.map((k) => k.gtin), keys.map((k) => Number(k.serial)), user.mspId],
      );
      return rows.map((r) => ({ serial: r.uri as string, lot: lotUri(r.gtin, r.lot) }));
    }

    /** Every serial of each lot (its work order's range); those no visible event names drop out later. */
    async function lotsToSerials(keys: TraceKey[]): Promise<{ lot: string; serial: string }[]> {
      if (keys.length === 0) return [];
      const rows = await q(
        `SELECT x.gtin, x.lot, x.serial_from, x.serial_to FROM work_order_lots x
         JOIN unnest($1::text[], $2::text[]) AS l(gtin, lot) ON x.gtin = l.gtin AND x.lot = l.lot`,
        [keys.map((k) => k.gtin), keys.map((k) => k.lot)],
      );
      const out: { lot: string; serial: string }[] = [];
      for (const r of rows) {
        const lot = lotUri(r.gtin, r.lot);
        const to = Math.min(Number(r.serial_to), Number(r.serial_from) + maxNodes);
        for (let s = Number(r.serial_from); s <= to; s++) out.push({ lot, serial: sgtinUri(r.gtin, s) });
      }
      return out;
    }

    // Nothing the caller may see names the start: 404, as for an EPC that does not exist.
    const startEvents = nodeEvents.get(key.uri);
    if (!startEvents || startEvents.size === 0) throw notFound(key.uri);

    // Identifier nodes: those some visible event names (a lot's unnamed serials drop out).
    const nodes = new Map<string, TraceNode>();
    for (const uri of visits.keys()) {
      const evs = nodeEvents.get(uri);
      if (!evs || evs.size === 0) continue;
      const k = keyOfCanonical(uri);
      nodes.set(uri, {
        id: uri,
        kind: k ? k.kind : uri.startsWith('https://ns.c2m.network/epcis/devices/') ? 'device' : 'epc',
        label: labelOf(uri),
        uri,
        events: [...evs],
        data: {},
      });
    }
    const liveEdges = [...edges.values()].filter((e) => nodes.has(e.from) && nodes.has(e.to));
    edges.clear();
    for (const e of liveEdges) addEdge(e);

    // Context: work orders, factories, lines, devices, QC results and shipments of the events found.
    const byEventId = new Map<string, EventRow>();
    for (const ev of events.values()) byEventId.set(ev.eventId, ev);
    const workOrderIds = new Set<string>();
    const deviceIds = new Set<string>();
    const locationUris = new Set<string>();
    const gtins = new Set<string>();
    for (const n of nodes.values()) {
      const k = keyOfCanonical(n.id);
      if (k?.gtin) gtins.add(k.gtin);
      for (const id of n.events) {
        const ev = byEventId.get(id) as EventRow;
        if (ev.workOrderId) workOrderIds.add(ev.workOrderId);
        if (ev.device) deviceIds.add(ev.device);
        if (ev.readPoint) locationUris.add(ev.readPoint);
        if (ev.bizLocation) locationUris.add(ev.bizLocation);
      }
    }
    const lotKeys = [...nodes.values()].map((n) => keyOfCanonical(n.id)).filter((k) => k?.kind === 'lot') as TraceKey[];
    const ctx = await context(user, [...workOrderIds], lotKeys, [...deviceIds], [...locationUris], [...gtins]);
    queries += ctx.queries;

    for (const wo of ctx.workOrders.values()) {
      const id = `workOrder:${wo.id}`;
      nodes.set(id, { id, kind: 'workOrder', label: wo.id, events: [], data: { ...wo } });
      const fid = `factory:${wo.factoryMsp}`;
      if (!nodes.has(fid)) {
        nodes.set(fid, { id: fid, kind: 'factory', label: wo.factoryMsp, events: [], data: { mspId: wo.factoryMsp } });
      }
      addEdge({ from: fid, to: id, kind: 'madeBy' });
    }
    for (const l of ctx.lots) {
      if (nodes.has(l.uri) && ctx.workOrders.has(l.workOrderId)) {
        addEdge({ from: `workOrder:${l.workOrderId}`, to: l.uri, kind: 'producedUnder' });
      }
    }
    for (const n of [...nodes.values()]) {
      if (!n.uri) continue;
      // Forward, a serial's own provenance is its lot's: thousands of identical edges would say nothing more.
      const provenance = direction === 'backward' || n.kind !== 'serial';
      for (const id of n.events) {
        const ev = byEventId.get(id) as EventRow;
        if (!provenance && ev.bizStep !== 'shipping') continue;
        if (ev.workOrderId && ctx.workOrders.has(ev.workOrderId) && ev.bizStep === 'commissioning') {
          addEdge({ from: `workOrder:${ev.workOrderId}`, to: n.id, kind: 'producedUnder', eventID: ev.eventId });
        }
        if (ev.device && (ev.bizStep === 'commissioning' || ev.bizStep === 'inspecting')) {
          const did = `device:${ev.device}`;
          const d = ctx.devices.get(ev.device);
          if (!nodes.has(did)) {
            nodes.set(did, {
              id: did,
              kind: 'device',
              label: ev.device,
              events: [],
              data: { deviceId: ev.device, ...(d ?? {}), certifiedAtEventTime: {} },
            });
          }
          const node = nodes.get(did) as TraceNode;
          if (!node.events.includes(ev.eventId)) node.events.push(ev.eventId);
          (node.data.certifiedAtEventTime as Record<string, boolean>)[ev.eventId] = certifiedAt(d, ev.time);
          addEdge({
            from: did,
            to: n.id,
            kind: ev.bizStep === 'inspecting' ? 'inspectedBy' : 'producedBy',
            eventID: ev.eventId,
          });
        }
        if (ev.readPoint && ev.bizStep === 'commissioning') {
          const loc = ctx.locations.get(ev.readPoint);
          if (!nodes.has(ev.readPoint)) {
            nodes.set(ev.readPoint, {
              id: ev.readPoint,
              kind: 'location',
              label: loc?.name || ev.readPoint,
              uri: ev.readPoint,
              events: [],
              data: loc ?? {},
            });
          }
          addEdge({ from: ev.readPoint, to: n.id, kind: 'madeAt', eventID: ev.eventId });
        }
        if (ev.bizStep === 'inspecting') {
          const qid = `event:${ev.eventId}`;
          if (!nodes.has(qid)) {
            nodes.set(qid, {
              id: qid,
              kind: 'qc',
              label: ev.disposition ?? 'inspecting',
              events: [ev.eventId],
              data: {
                disposition: bare(ev.disposition),
                pass: ev.disposition?.endsWith('conformant') && !ev.disposition.endsWith('non_conformant'),
                reports: reportsOf(ev.sensors),
                device: ev.device,
              },
            });
          }
          addEdge({ from: qid, to: n.id, kind: 'qc', eventID: ev.eventId });
        }
        // Forward, a store receiving one unit is its last location, not a shipment of its own.
        if (ev.bizStep === 'shipping' || (ev.bizStep === 'receiving' && provenance)) {
          const sid = `event:${ev.eventId}`;
          if (!nodes.has(sid)) {
            nodes.set(sid, {
              id: sid,
              kind: 'shipment',
              label: `${bare(ev.bizStep)} ${iso(ev.time).slice(0, 10)}`,
              events: [ev.eventId],
              data: {
                bizStep: bare(ev.bizStep),
                destinations: ev.destinations,
                bizTransactions: ev.bizTransactions,
                by: ev.ownerMsp,
              },
            });
          }
          addEdge({ from: n.id, to: sid, kind: 'shipped', eventID: ev.eventId });
        }
      }
    }

    // Last known location: the latest event naming it, or naming a container while it was inside.
    const located = (uri: string, from: number, to: number, depth: number): EventRow | undefined => {
      let best: EventRow | undefined;
      for (const id of nodeEvents.get(uri) ?? []) {
        const ev = byEventId.get(id) as EventRow;
        if (ev.time < from || ev.time > to || !(ev.bizLocation || ev.readPoint)) continue;
        if (!best || ev.time > best.time) best = ev;
      }
      if (depth < 4) {
        for (const h of heldIn.get(uri) ?? []) {
          const f = Math.max(from, h.from);
          const t = Math.min(to, h.to);
          if (f > t) continue;
          const c = located(h.parent, f, t, depth + 1);
          if (c && (!best || c.time > best.time)) best = c;
        }
      }
      return best;
    };
    for (const n of nodes.values()) {
      if (!n.uri || n.kind === 'location' || n.kind === 'device') continue;
      const ev = located(n.uri, EVER, NEVER, 0);
      const uri = ev ? ((ev.bizLocation ?? ev.readPoint) as string) : undefined;
      n.lastLocation =
        ev && uri
          ? {
              uri,
              ...(ctx.locations.get(uri)?.name ? { name: ctx.locations.get(uri)?.name as string } : {}),
              eventID: ev.eventId,
              eventTime: iso(ev.time),
            }
          : null;
    }

    const eventsOut: Record<string, TraceEventRef> = {};
    const used = new Set<string>();
    for (const n of nodes.values()) for (const id of n.events) used.add(id);
    for (const id of used) {
      const ev = byEventId.get(id);
      if (!ev) continue;
      eventsOut[id] = {
        eventID: ev.eventId,
        eventType: ev.type,
        action: ev.action,
        bizStep: bare(ev.bizStep),
        disposition: bare(ev.disposition),
        eventTime: iso(ev.time),
        readPoint: ev.readPoint,
        bizLocation: ev.bizLocation,
        proof: eventProofPath(ev.eventId),
      };
    }
    return {
      root: key.uri,
      direction,
      window: { from: options.from?.toISOString() ?? null, to: options.to?.toISOString() ?? null },
      nodes: [...nodes.values()],
      edges: [...edges.values()],
      events: eventsOut,
      truncated,
      queries,
    };
  }

  /** Work orders (those the caller may see), their lots, devices (ledger projection), locations and products. */
  async function context(
    user: AuthUser,
    workOrderIds: string[],
    lots: TraceKey[],
    deviceIds: string[],
    locationUris: string[],
    gtins: string[],
  ) {
    const [wos, lotRows, devs, locs] = await Promise.all([
      pool.query(
        `SELECT w.id, w.brand_msp, w.factory_msp, w.product, w.quantity, w.status FROM work_orders w
         WHERE (w.id = ANY($1) OR w.id IN (SELECT x.work_order_id FROM work_order_lots x
             JOIN unnest($3::text[], $4::text[]) AS l(gtin, lot) ON x.gtin = l.gtin AND x.lot = l.lot))
           AND $2::text IS NOT NULL AND ${visibleWorkOrdersSql(user, () => '$2')}`,
        [workOrderIds, user.mspId, lots.map((l) => l.gtin), lots.map((l) => l.lot)],
      ),
      pool.query(
        `SELECT x.work_order_id, x.gtin, x.lot FROM work_order_lots x
         JOIN unnest($1::text[], $2::text[]) AS l(gtin, lot) ON x.gtin = l.gtin AND x.lot = l.lot`,
        [lots.map((l) => l.gtin), lots.map((l) => l.lot)],
      ),
      pool.query(
        `SELECT d.device_id, d.owner_msp, d.status, d.valid_until, d.record->>'certifiedAt' AS certified_at,
           d.record->>'model' AS model, d.record->>'line' AS line
         FROM ledger_devices d WHERE d.device_id = ANY($1)`,
        [deviceIds],
      ),
      pool.query(
        `SELECT l.uri, l.kind, l.name, l.owner_msp, l.line, l.parent_uri FROM gs1_locations l WHERE l.uri = ANY($1)`,
        [locationUris],
      ),
    ]);
    void gtins;
    const workOrders = new Map<string, WorkOrderView>(
      wos.rows.map((w) => [
        w.id,
        {
          id: w.id,
          brandMsp: w.brand_msp,
          factoryMsp: w.factory_msp,
          product: w.product,
          quantity: w.quantity,
          status: w.status,
        },
      ]),
    );
    const devices = new Map<string, DeviceView>(
      devs.rows.map((d) => [
        d.device_id,
        {
          ownerMsp: d.owner_msp,
          status: d.status,
          certifiedAt: d.certified_at ?? null,
          validUntil: d.valid_until ? (d.valid_until as Date).toISOString() : null,
          model: d.model ?? null,
          line: d.line ?? null,
        },
      ]),
    );
    const locations = new Map<string, Record<string, unknown> & { name?: string }>(
      locs.rows.map((l) => [
        l.uri,
        { kind: l.kind, name: l.name, ownerMsp: l.owner_msp, line: l.line, parentUri: l.parent_uri },
      ]),
    );
    return {
      workOrders,
      lots: lotRows.rows.map((r) => ({ workOrderId: r.work_order_id as string, uri: lotUri(r.gtin, r.lot) })),
      devices,
      locations,
      queries: 4,
    };
  }

  return { trace };
}

export type TraceGraphService = ReturnType<typeof createTraceGraph>;

interface WorkOrderView {
  id: string;
  brandMsp: string;
  factoryMsp: string;
  product: string;
  quantity: number;
  status: string;
}

interface DeviceView {
  ownerMsp: string;
  status: string;
  certifiedAt: string | null;
  validUntil: string | null;
  model: string | null;
  line: string | null;
}

/**
 * Was the device certified when it said the event? From its ledger record (the projection of the latest
 * state): certified since `certifiedAt`, until `validUntil`, and not revoked or suspended since. The proof
 * bundle of the event carries the device's whole ledger history for a verifier who wants more than this.
 */
function certifiedAt(d: DeviceView | undefined, time: number): boolean {
  if (!d?.certifiedAt) return false;
  if (Date.parse(d.certifiedAt) > time) return false;
  if (d.validUntil && Date.parse(d.validUntil) < time) return false;
  return d.status === DeviceStatuses.certified;
}

function reportsOf(sensors: unknown): Record<string, unknown>[] {
  if (!Array.isArray(sensors)) return [];
  const out: Record<string, unknown>[] = [];
  for (const el of sensors) {
    for (const r of (el as { sensorReport?: unknown[] })?.sensorReport ?? []) {
      if (r && typeof r === 'object') out.push(r as Record<string, unknown>);
    }
  }
  return out.slice(0, 20);
}

const isoCache = new Map<number, string>();
function iso(t: number): string {
  let s = isoCache.get(t);
  if (s === undefined) {
    s = new Date(t).toISOString();
    if (isoCache.size > 100_000) isoCache.clear();
    isoCache.set(t, s);
  }
  return s;
}
const names = new Map<string, string>();
function statementName(text: string): string {
  let n = names.get(text);
  if (!n) {
    n = `trace_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, n);
  }
  return n;
}
export const lotUri = (gtin: string, lot: string) => `https://id.gs1.org/01/${gtin}/10/${encodeURIComponent(lot)}`;

function labelOf(uri: string): string {
  const k = keyOfCanonical(uri);
  if (!k) return uri.replace(/^https:\/\/ns\.c2m\.network\/epcis\/devices\//, 'device ');
  switch (k.kind) {
    case 'serial':
      return `${k.gtin} #${k.serial}`;
    case 'lot':
      return `lot ${k.lot}`;
    case 'sscc':
      return `SSCC ${k.sscc}`;
    default:
      return uri.replace('https://id.gs1.org', '');
  }
}

function notFound(uri: string): CodedError {
  return new CodedError(ErrorCodes.NOT_FOUND, `nothing to trace for ${uri}`, 404);
}
