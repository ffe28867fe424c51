import { createHash } from 'node:crypto';
import type { RecallRecord, RecallStatus } from '@c2m/network';
import { CodedError, canonicalJson, ErrorCodes, OrgKinds } from '@c2m/shared';
import type pg from 'pg';
import { visibleWorkOrdersSql } from '../auth/work-order-access.js';
import { withTransaction } from '../db/database.js';
import { newId } from '../ids.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { AuthUser } from '../plugins/auth.js';
import { eventAccessSql, type TraceGraph, type TraceGraphService } from './trace-graph.js';
import { deviceKeyUri, keyOfCanonical, parseTraceKey } from './trace-key.js';

/**
 * Recalls: a brand opens one from a lot, a device and time window, or a failing QC event; the platform traces
 * forward from there (trace-graph.ts) to every lot, serial, carton and shipment affected, with its last known
 * location, and records the recall on the ledger (chaincode Recalls:OpenRecall) with the lots, GTINs and work
 * orders in scope, the reason and the sha256 of the full scope, so that financiers (who freeze the work orders
 * named) and consumers (the recall banner) read it from the ledger. Each step to closure goes to the ledger too.
 * Only the brand's own products enter a recall: units of another brand's work orders reached through a shared
 * material lot are left out (and counted as `excluded`).
 */

export type RecallStart =
  | { readonly kind: 'lot'; readonly lot: string }
  | { readonly kind: 'device'; readonly deviceId: string; readonly from: Date; readonly to: Date }
  | { readonly kind: 'qc'; readonly eventId: string };

export interface RecallItem {
  epc: string;
  kind: string;
  lastLocation: string | null;
  lastLocationName: string | null;
  lastEventId: string | null;
  lastEventTime: string | null;
}

export interface RecallView {
  id: string;
  brandMsp: string;
  openedBy: string;
  start: { kind: string; id: string; from: string | null; to: string | null };
  reason: string;
  status: string;
  summary: Record<string, unknown>;
  scopeHash: string;
  /** The work orders the recall touches (the finance side freezes their tranches). */
  workOrders: string[];
  ledger: { txId: string; blockNumber: number };
  createdAt: string;
  updatedAt: string;
}

const ITEM_KINDS = new Set(['serial', 'lot', 'sscc', 'epc']);
const bad = (m: string) => new CodedError(ErrorCodes.VALIDATION_FAILED, m, 400);

export interface RecallDeps {
  readonly pool: pg.Pool;
  readonly traceGraph: TraceGraphService;
  readonly ledger: LedgerAccess;
  /** The platform user that reads recalls from the ledger for consumers. */
  readonly readerUser: string;
}

export function createRecalls(deps: RecallDeps) {
  const { pool } = deps;

  /** The forward trace(s) a start calls for. */
  async function traces(user: AuthUser, start: RecallStart): Promise<{ graphs: TraceGraph[]; startId: string }> {
    if (start.kind === 'lot') {
      const key = parseTraceKey(start.lot);
      if (key.kind !== 'lot') throw bad('a recall from a lot names the lot (/01/{gtin}/10/{lot})');
      return { graphs: [await deps.traceGraph.trace(user, key, { direction: 'forward' })], startId: key.uri };
    }
    if (start.kind === 'device') {
      if (!(start.from < start.to)) throw bad('from must be before to');
      const uri = deviceKeyUri(start.deviceId);
      const g = await deps.traceGraph.trace(user, uri, { direction: 'forward', from: start.from, to: start.to });
      return { graphs: [g], startId: start.deviceId };
    }
    // A failing QC result: every lot it inspected, forward.
    const { rows } = await pool.query(
      `SELECT e.id, e.biz_step, e.disposition FROM epcis_events e
       WHERE e.event_id = $1 AND e.error_declaration IS NULL AND e.error_declared_by IS NULL
         AND $2::text IS NOT NULL AND ${eventAccessSql(user, '$2')}`,
      [start.eventId, user.mspId],
    );
    const ev = rows[0];
    if (!ev) throw new CodedError(ErrorCodes.NOT_FOUND, `no event ${start.eventId}`, 404);
    if (!String(ev.biz_step ?? '').endsWith('inspecting') || !String(ev.disposition ?? '').endsWith('non_conformant')) {
      throw new CodedError(
        ErrorCodes.INVALID_STATE,
        `event ${start.eventId} is not a failing QC result (inspecting, non_conformant)`,
        409,
      );
    }
    const { rows: lots } = await pool.query(
      `SELECT DISTINCT epc FROM epcis_event_epcs WHERE event_pk = $1 AND role IN ('epc', 'epcClass')`,
      [ev.id],
    );
    const graphs: TraceGraph[] = [];
    for (const l of lots) graphs.push(await deps.traceGraph.trace(user, l.epc as string, { direction: 'forward' }));
    if (graphs.length === 0) throw new CodedError(ErrorCodes.INVALID_STATE, 'the QC event names no lot or unit', 409);
    return { graphs, startId: start.eventId };
  }

  async function open(user: AuthUser, start: RecallStart, reason: string): Promise<RecallView> {
    if (user.orgKind !== OrgKinds.brand) throw new CodedError(ErrorCodes.FORBIDDEN, 'only a brand opens a recall', 403);
    const text = reason.trim();
    if (text.length === 0 || text.length > 1000) throw bad('reason: 1 to 1000 characters');
    const { graphs, startId } = await traces(user, start);

    // Identifiers affected, each with its last known location; shipments counted.
    const items = new Map<string, RecallItem>();
    let shipments = 0;
    for (const g of graphs) {
      for (const n of g.nodes) {
        if (n.kind === 'shipment') shipments++;
        if (!n.uri || !ITEM_KINDS.has(n.kind) || items.has(n.uri)) continue;
        items.set(n.uri, {
          epc: n.uri,
          kind: n.kind,
          lastLocation: n.lastLocation?.uri ?? null,
          lastLocationName: n.lastLocation?.name ?? null,
          lastEventId: n.lastLocation?.eventID ?? null,
          lastEventTime: n.lastLocation?.eventTime ?? null,
        });
      }
    }
    // The work-order lots of the items: the brand's own stay, another brand's units leave the scope.
    const serials: { uri: string; gtin: string; serial: number }[] = [];
    const lotKeys: { uri: string; gtin: string; lot: string }[] = [];
    for (const i of items.values()) {
      const k = keyOfCanonical(i.epc);
      if (k?.kind === 'serial' && /^\d{1,15}$/.test(k.serial ?? '')) {
        serials.push({ uri: i.epc, gtin: k.gtin as string, serial: Number(k.serial) });
      }
      if (k?.kind === 'lot') lotKeys.push({ uri: i.epc, gtin: k.gtin as string, lot: k.lot as string });
    }
    const { rows: owned } = await pool.query(
      `SELECT s.uri, x.gtin, x.lot, x.work_order_id, w.brand_msp
       FROM unnest($1::text[], $2::text[], $3::bigint[]) AS s(uri, gtin, serial)
       JOIN work_order_lots x ON x.gtin = s.gtin AND s.serial BETWEEN x.serial_from AND x.serial_to
       JOIN work_orders w ON w.id = x.work_order_id
       UNION ALL
       SELECT l.uri, x.gtin, x.lot, x.work_order_id, w.brand_msp
       FROM unnest($4::text[], $5::text[], $6::text[]) AS l(uri, gtin, lot)
       JOIN work_order_lots x ON x.gtin = l.gtin AND x.lot = l.lot
       JOIN work_orders w ON w.id = x.work_order_id`,
      [
        serials.map((s) => s.uri),
        serials.map((s) => s.gtin),
        serials.map((s) => s.serial),
        lotKeys.map((l) => l.uri),
        lotKeys.map((l) => l.gtin),
        lotKeys.map((l) => l.lot),
      ],
    );
    const lots = new Map<string, { gtin: string; lot: string }>();
    const workOrders = new Set<string>();
    let excluded = 0;
    for (const r of owned) {
      if (r.brand_msp !== user.mspId) {
        if (items.delete(r.uri)) excluded++;
        continue;
      }
      lots.set(`${r.gtin}|${r.lot}`, { gtin: r.gtin, lot: r.lot });
      workOrders.add(r.work_order_id);
    }
    if (workOrders.size === 0) {
      throw new CodedError(ErrorCodes.INVALID_STATE, 'the trace reaches none of your own work orders to recall', 409);
    }
    const list = [...items.values()].sort((a, b) => (a.epc < b.epc ? -1 : a.epc > b.epc ? 1 : 0));
    const count = (kind: string) => list.filter((i) => i.kind === kind).length;
    const id = newId('RCL');
    const startJson = {
      kind: start.kind,
      id: startId,
      ...(start.kind === 'device' ? { from: start.from.toISOString(), to: start.to.toISOString() } : {}),
    };
    const lotList = [...lots.values()].sort((a, b) => (`${a.gtin}|${a.lot}` < `${b.gtin}|${b.lot}` ? -1 : 1));
    const scope = {
      start: startJson,
      lots: lotList,
      gtins: [...new Set(lotList.map((l) => l.gtin))].sort(),
      workOrders: [...workOrders].sort(),
      counts: {
        serials: count('serial'),
        lots: count('lot'),
        cartons: count('sscc'),
        other: count('epc'),
        shipments,
        excluded,
      },
    };
    const scopeHash = createHash('sha256')
      .update(scopeDocument(id, scope.start, list))
      .digest('hex');
    return withTransaction(pool, async (client) => {
      const written = await deps.ledger.openRecall(user.username, { recallId: id, scopeHash, scope, reason: text });
      await client.query(
        `INSERT INTO recalls (id, brand_msp, opened_by, start_kind, start_id, window_from, window_to, reason, status,
           summary, scope_hash, work_orders, ledger_tx_id, ledger_block)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          id,
          user.mspId,
          user.username,
          start.kind,
          startId,
          start.kind === 'device' ? start.from : null,
          start.kind === 'device' ? start.to : null,
          text,
          written.record.status,
          JSON.stringify(scope),
          scopeHash,
          scope.workOrders,
          written.txId,
          written.blockNumber,
        ],
      );
      await client.query(
        `INSERT INTO recall_items (recall_id, epc, kind, last_location, last_location_name, last_event_id,
           last_event_time)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])`,
        [
          id,
          list.map((i) => i.epc),
          list.map((i) => i.kind),
          list.map((i) => i.lastLocation),
          list.map((i) => i.lastLocationName),
          list.map((i) => i.lastEventId),
          list.map((i) => i.lastEventTime),
        ],
      );
      return view((await client.query('SELECT * FROM recalls WHERE id = $1', [id])).rows[0]);
    });
  }

  /** Who sees a recall: its brand, the platform, financiers, and factories whose work orders it touches. */
  function visibleSql(user: AuthUser, p: string): string {
    if (user.orgKind === OrgKinds.platform || user.orgKind === OrgKinds.finance) return `${p}::text IS NOT NULL`;
    if (user.orgKind === OrgKinds.brand) return `r.brand_msp = ${p}`;
    return `r.work_orders && ARRAY(SELECT w.id FROM work_orders w WHERE ${visibleWorkOrdersSql(user, () => p)})`;
  }

  async function list(user: AuthUser): Promise<RecallView[]> {
    const { rows } = await pool.query(
      `SELECT * FROM recalls r WHERE ${visibleSql(user, '$1')} ORDER BY created_at DESC LIMIT 200`,
      [user.mspId],
    );
    return rows.map(view);
  }

  async function get(user: AuthUser, id: string): Promise<RecallView & { onLedger: RecallRecord }> {
    const { rows } = await pool.query(`SELECT * FROM recalls r WHERE r.id = $1 AND ${visibleSql(user, '$2')}`, [
      id,
      user.mspId,
    ]);
    if (!rows[0]) throw new CodedError(ErrorCodes.NOT_FOUND, `recall ${id} not found`, 404);
    const onLedger = await deps.ledger.readRecall(deps.readerUser, id);
    return { ...view(rows[0]), status: onLedger.status, onLedger };
  }

  async function advance(user: AuthUser, id: string, status: RecallStatus, note: string): Promise<RecallView> {
    const r = await get(user, id);
    if (r.brandMsp !== user.mspId)
      throw new CodedError(ErrorCodes.FORBIDDEN, `only ${r.brandMsp} moves this recall`, 403);
    const written = await deps.ledger.updateRecall(user.username, id, status, note);
    const { rows } = await pool.query('UPDATE recalls SET status = $2, updated_at = now() WHERE id = $1 RETURNING *', [
      id,
      written.record.status,
    ]);
    return view(rows[0]);
  }

  async function items(user: AuthUser, id: string): Promise<{ recall: RecallView; items: RecallItem[] }> {
    const recall = await get(user, id);
    const { rows } = await pool.query(
      `SELECT epc, kind, last_location, last_location_name, last_event_id, last_event_time FROM recall_items
       WHERE recall_id = $1 ORDER BY epc`,
      [id],
    );
    return {
      recall,
      items: rows.map((r) => ({
        epc: r.epc,
        kind: r.kind,
        lastLocation: r.last_location,
        lastLocationName: r.last_location_name,
        lastEventId: r.last_event_id,
        lastEventTime: r.last_event_time ? (r.last_event_time as Date).toISOString() : null,
      })),
    };
  }

  /** The scope as CSV (RFC 4180), in the order whose canonical JSON the ledger's scopeHash hashes. */
  async function csv(user: AuthUser, id: string): Promise<string> {
    const { items: list } = await items(user, id);
    const cell = (v: string | null) => {
      const s = v ?? '';
      const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s; // no formula injection when opened in a spreadsheet
      return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
    };
    const lines = ['epc,kind,last_location,last_location_name,last_event_id,last_event_time'];
    for (const i of list) {
      lines.push(
        [i.epc, i.kind, i.lastLocation, i.lastLocationName, i.lastEventId, i.lastEventTime].map(cell).join(','),
      );
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  /**
   * The EPCIS query (GET /api/epcis/events, SimpleEventQuery parameters) whose answer holds the scope's events:
   * the lots as EPC classes, the units, cartons and pallets as EPCs (listed while there are at most 1,000 of
   * them; past that the lots' class patterns stand for their units).
   */
  async function epcisQuery(user: AuthUser, id: string) {
    const { recall, items: list } = await items(user, id);
    const summary = recall.summary as { lots?: { gtin: string; lot: string }[] };
    const classes = (summary.lots ?? []).map((l) => `https://id.gs1.org/01/${l.gtin}/10/${encodeURIComponent(l.lot)}`);
    const epcs = list.filter((i) => i.kind !== 'lot').map((i) => i.epc);
    const patterns = [...new Set((summary.lots ?? []).map((l) => `https://id.gs1.org/01/${l.gtin}/21/*`))];
    const params: Record<string, string> = { MATCH_anyEPCClass: classes.join(',') };
    if (epcs.length <= 1000) params.MATCH_anyEPC = epcs.join(',');
    else params.MATCH_anyEPC = [...patterns, ...list.filter((i) => i.kind === 'sscc').map((i) => i.epc)].join(',');
    if (recall.start.from) params.GE_eventTime = recall.start.from;
    const url = `/api/epcis/events?${new URLSearchParams(params).toString()}`;
    return { recallId: id, path: '/api/epcis/events', params, url, identifiers: list.length };
  }

  /**
   * Open recalls of a serial's lot, read from the LEDGER as the platform (a consortium member), not from this
   * database: what a consumer's page shows.
   */
  async function openRecallsForLot(gtin: string, lot: string): Promise<RecallRecord[]> {
    const records = await deps.ledger.recallsByLot(deps.readerUser, gtin, lot);
    return records.filter((r) => r.status !== 'CLOSED');
  }

  return { open, list, get, advance, items, csv, epcisQuery, openRecallsForLot };
}

export type RecallService = ReturnType<typeof createRecalls>;

/** The full scope whose sha256 is on the ledger: the recall, its start and every identifier, canonical JSON. */
export function scopeDocument(recallId: string, start: Record<string, unknown>, items: readonly RecallItem[]): string {
  return canonicalJson({ recallId, start, items });
}

function view(r: pg.QueryResultRow): RecallView {
  return {
    id: r.id,
    brandMsp: r.brand_msp,
    openedBy: r.opened_by,
    start: {
      kind: r.start_kind,
      id: r.start_id,
      from: r.window_from ? (r.window_from as Date).toISOString() : null,
      to: r.window_to ? (r.window_to as Date).toISOString() : null,
    },
    reason: r.reason,
    status: r.status,
    summary: r.summary,
    scopeHash: r.scope_hash,
    workOrders: r.work_orders,
    ledger: { txId: r.ledger_tx_id, blockNumber: Number(r.ledger_block) },
    createdAt: (r.created_at as Date).toISOString(),
    updatedAt: (r.updated_at as Date).toISOString(),
  };
}
