import type { Milestone } from '@c2m/shared';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AuthUser } from '../plugins/auth.js';

/**
 * Logistics on EPCIS: a shipping event (bizStep shipping) captured by a work order's factory, and a receiving
 * event captured by its brand, record the SHIPPED and DELIVERED milestones on the ledger once they cover the
 * work order: every unit of its lots, named one by one (serials), inside the cartons and pallets packed by
 * AggregationEvents (disaggregated ones taken out), or as the whole lot (its class). The milestone's evidence
 * names the events by their CBV 2.0 hash, so a financier finds them through the EPCIS query and their proofs.
 * The milestone button stays for what no event covers.
 */

const SERIAL = /^https:\/\/id\.gs1\.org\/01\/([0-9]{14})\/21\/([0-9]{1,15})$/;
const LOT_CLASS = /^https:\/\/id\.gs1\.org\/01\/([0-9]{14})\/10\/([^/?#]+)$/;

interface Coverage {
  workOrderId: string;
  factoryMsp: string;
  brandMsp: string;
  status: string;
  quantity: number;
  units: number;
  wholeLot: boolean;
}

/**
 * EPCs an event moved, with the contents of every carton and pallet among them (AggregationEvents with that
 * parent, ADD before the event and not taken out by a later DELETE before it), four levels deep.
 */
async function contents(client: pg.Pool | pg.PoolClient, eventPk: number): Promise<string[]> {
  const { rows } = await client.query(
    `WITH RECURSIVE ev AS (SELECT event_time FROM epcis_events WHERE id = $1),
     moved(epc, depth) AS (
       SELECT epc, 0 FROM epcis_event_epcs WHERE event_pk = $1 AND role IN ('epc', 'parent', 'child', 'epcClass', 'childEpcClass')
       UNION
       SELECT c.epc, m.depth + 1
       FROM moved m
       JOIN epcis_event_epcs p ON p.epc = m.epc AND p.role = 'parent'
       JOIN epcis_events a ON a.id = p.event_pk AND a.event_type = 'AggregationEvent' AND a.action = 'ADD'
         AND a.error_declared_by IS NULL AND a.event_time <= (SELECT event_time FROM ev)
       JOIN epcis_event_epcs c ON c.event_pk = a.id AND c.role IN ('child', 'childEpcClass')
       WHERE m.depth < 4 AND NOT EXISTS (
         SELECT 1 FROM epcis_event_epcs dp
         JOIN epcis_events d ON d.id = dp.event_pk AND d.event_type = 'AggregationEvent' AND d.action = 'DELETE'
           AND d.error_declared_by IS NULL AND d.event_time > a.event_time AND d.event_time <= (SELECT event_time FROM ev)
         WHERE dp.epc = m.epc AND dp.role = 'parent' AND (
           NOT EXISTS (SELECT 1 FROM epcis_event_epcs dc WHERE dc.event_pk = d.id AND dc.role IN ('child', 'childEpcClass'))
           OR EXISTS (SELECT 1 FROM epcis_event_epcs dc WHERE dc.event_pk = d.id AND dc.role IN ('child', 'childEpcClass') AND dc.epc = c.epc))
       )
     )
     SELECT DISTINCT epc FROM moved`,
    [eventPk],
  );
  return rows.map((r) => r.epc as string);
}

/** Work orders whose units (or whole lots) the EPCs name, with how many units of each. */
async function workOrdersOf(client: pg.Pool | pg.PoolClient, epcs: readonly string[]): Promise<Map<string, Coverage>> {
  const serials: { gtin: string; serial: number }[] = [];
  const lots: { gtin: string; lot: string }[] = [];
  for (const e of epcs) {
    const s = SERIAL.exec(e);
    if (s) serials.push({ gtin: s[1] as string, serial: Number(s[2]) });
    const l = LOT_CLASS.exec(e);
    if (l) lots.push({ gtin: l[1] as string, lot: decodeURIComponent(l[2] as string) });
  }
  const out = new Map<string, Coverage>();
  if (serials.length === 0 && lots.length === 0) return out;
  const { rows } = await client.query(
    `WITH s AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS s(gtin, serial)),
          l AS (SELECT * FROM unnest($3::text[], $4::text[]) AS l(gtin, lot))
     SELECT w.id, w.factory_msp, w.brand_msp, w.status, w.quantity,
       (SELECT count(*) FROM s JOIN work_order_lots x ON x.gtin = s.gtin AND s.serial BETWEEN x.serial_from AND x.serial_to
          WHERE x.work_order_id = w.id)::int AS units,
       EXISTS (SELECT 1 FROM l JOIN work_order_lots x ON x.gtin = l.gtin AND x.lot = l.lot WHERE x.work_order_id = w.id)
         AS whole_lot
     FROM work_orders w
     WHERE w.id IN (
       SELECT x.work_order_id FROM work_order_lots x JOIN s ON x.gtin = s.gtin AND s.serial BETWEEN x.serial_from AND x.serial_to
       UNION SELECT x.work_order_id FROM work_order_lots x JOIN l ON x.gtin = l.gtin AND x.lot = l.lot)`,
    [serials.map((s) => s.gtin), serials.map((s) => s.serial), lots.map((l) => l.gtin), lots.map((l) => l.lot)],
  );
  for (const r of rows) {
    out.set(r.id, {
      workOrderId: r.id,
      factoryMsp: r.factory_msp,
      brandMsp: r.brand_msp,
      status: r.status,
      quantity: r.quantity,
      units: r.units,
      wholeLot: r.whole_lot,
    });
  }
  return out;
}

export interface LogisticsDeps {
  readonly pool: pg.Pool;
  readonly logger: Logger;
  /** Records a milestone as the user (milestones.ts `record`). */
  readonly record: (
    user: AuthUser,
    workOrderId: string,
    milestone: Milestone,
    input: { note?: string; evidence?: Record<string, unknown> },
  ) => Promise<unknown>;
}

/** Follows new shipping and receiving events once each; returns how many it followed. */
export function createLogisticsFollower(deps: LogisticsDeps) {
  const { pool } = deps;

  /**
   * The shipping (or receiving) events of `org` that cover units of the work order, with the units covered: the
   * event being followed and those followed before that touched the work order (`epcis_logistics_followed`
   * keeps which), not every such event the org ever captured.
   */
  async function covered(workOrderId: string, bizStep: string, org: string, current: { id: number; epcs: string[] }) {
    const { rows } = await pool.query(
      `SELECT e.id FROM epcis_logistics_followed f JOIN epcis_events e ON e.id = f.event_pk
       WHERE f.work_orders @> ARRAY[$1]::text[] AND e.biz_step = $2 AND e.owner_msp = $3
         AND e.error_declared_by IS NULL AND e.error_declaration IS NULL AND e.id <> $4
       ORDER BY e.id`,
      [workOrderId, bizStep, org, current.id],
    );
    const all = new Set<string>();
    const ids: number[] = [];
    let whole = false;
    const sets = [
      current,
      ...(await Promise.all(rows.map(async (r) => ({ id: Number(r.id), epcs: await contents(pool, Number(r.id)) })))),
    ];
    for (const set of sets) {
      const cov = (await workOrdersOf(pool, set.epcs)).get(workOrderId);
      if (!cov) continue;
      ids.push(set.id);
      if (cov.wholeLot) whole = true;
      for (const e of set.epcs) if (SERIAL.test(e)) all.add(e);
    }
    const { rows: hashes } = await pool.query('SELECT event_hash FROM epcis_events WHERE id = ANY($1) ORDER BY id', [
      ids,
    ]);
    const units = (await workOrdersOf(pool, [...all])).get(workOrderId)?.units ?? 0;
    return { events: hashes.map((h) => h.event_hash as string), units, whole };
  }

  async function followOne(e: Record<string, unknown>): Promise<{ workOrders: string[]; outcome: string }> {
    const bizStep = e.biz_step as string;
    const milestone: Milestone = bizStep === 'shipping' ? 'SHIPPED' : 'DELIVERED';
    const before = bizStep === 'shipping' ? 'qc_passed' : 'shipped';
    const epcs = await contents(pool, Number(e.id));
    const touched = await workOrdersOf(pool, epcs);
    const outcomes: string[] = [];
    for (const w of touched.values()) {
      const party = milestone === 'SHIPPED' ? w.factoryMsp : w.brandMsp;
      if (e.owner_msp !== party) {
        outcomes.push(`${w.workOrderId}: captured by ${e.owner_msp}, not ${party}`);
        continue;
      }
      if (w.status !== before) {
        outcomes.push(`${w.workOrderId}: ${w.status}, ${milestone} needs ${before}`);
        continue;
      }
      const c = await covered(w.workOrderId, bizStep, party, { id: Number(e.id), epcs });
      if (!c.whole && c.units < w.quantity) {
        outcomes.push(
          `${w.workOrderId}: ${c.units} of ${w.quantity} units ${bizStep === 'shipping' ? 'shipped' : 'received'}`,
        );
        continue;
      }
      const user: AuthUser = {
        username: e.captured_by as string,
        mspId: party,
        orgKind: milestone === 'SHIPPED' ? 'factory' : 'brand',
        role: milestone === 'SHIPPED' ? 'factory-manager' : 'brand-manager',
        displayName: e.captured_by as string,
      };
      try {
        await deps.record(user, w.workOrderId, milestone, {
          note: `from EPCIS ${bizStep} events`,
          evidence: { epcisEvents: c.events, units: c.whole ? w.quantity : c.units },
        });
        outcomes.push(`${w.workOrderId}: ${milestone}`);
      } catch (err) {
        outcomes.push(`${w.workOrderId}: ${milestone} refused (${(err as Error).message})`);
      }
    }
    return { workOrders: [...touched.keys()], outcome: outcomes.join('; ') || 'no work order touched' };
  }

  async function tick(): Promise<number> {
    const { rows } = await pool.query(
      `SELECT e.id, e.biz_step, e.owner_msp, j.captured_by FROM epcis_events e
       JOIN epcis_capture_jobs j ON j.id = e.capture_id
       WHERE e.biz_step IN ('shipping', 'receiving') AND e.error_declaration IS NULL
         AND NOT EXISTS (SELECT 1 FROM epcis_logistics_followed f WHERE f.event_pk = e.id)
       ORDER BY e.id LIMIT 50`,
    );
    for (const e of rows) {
      let result: { workOrders: string[]; outcome: string };
      try {
        result = await followOne(e);
      } catch (err) {
        deps.logger.warn({ err, eventPk: e.id }, 'logistics event not followed yet');
        continue;
      }
      await pool.query(
        `INSERT INTO epcis_logistics_followed (event_pk, work_orders, outcome) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
        [e.id, result.workOrders, result.outcome.slice(0, 2000)],
      );
    }
    return rows.length;
  }

  return { tick, contents: (eventPk: number) => contents(pool, eventPk) };
}

export type LogisticsFollower = ReturnType<typeof createLogisticsFollower>;
