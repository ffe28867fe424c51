import type pg from 'pg';
import type { Logger } from 'pino';
import type { ApiSession } from './api-client.js';

/**
 * The demo's logistics on EPCIS 2.0: the factory packs commissioned serials into cartons (SSCC) and the cartons
 * onto a pallet (AggregationEvents), ships the pallet to the brand's distribution centre (ObjectEvent, bizStep
 * shipping, with the order as purchase-order business transaction); the brand receives it there. Captured
 * through the standard capture interface as each org's users, like any logistics system would. Runs once per
 * work order (a re-run finds the shipment).
 */

const CONTEXT = [
  'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
  { c2m: 'https://ns.c2m.network/epcis/' },
];
const PER_CARTON = 24;
const MAX_CARTONS = 10;

function document(events: readonly Record<string, unknown>[]) {
  return {
    '@context': CONTEXT,
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date().toISOString(),
    epcisBody: { eventList: events },
  };
}

async function waitForJob(session: ApiSession, location: string, log: Logger): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const job = await session.get<{ status: string; errors?: unknown[] }>(location);
    if (job.status === 'succeeded') return;
    if (job.status === 'failed') {
      log.warn({ location, errors: job.errors }, 'demo: an EPCIS capture job failed');
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Location {
  uri: string;
  kind: string;
  line: string | null;
}

export async function demoLogistics(input: {
  pool: pg.Pool;
  log: Logger;
  orderId: string;
  workOrderId: string;
  factory: ApiSession;
  brand: ApiSession;
}): Promise<{ cartons: number; units: number } | undefined> {
  const { pool, log, workOrderId, factory, brand } = input;
  const { rows: shipped } = await pool.query(
    `SELECT 1 FROM epcis_events WHERE biz_step = 'shipping' AND event->>'c2m:workOrder' = $1 LIMIT 1`,
    [workOrderId],
  );
  if (shipped.length > 0) return undefined;
  const { rows } = await pool.query(
    `SELECT x.epc FROM epcis_events e JOIN epcis_event_epcs x ON x.event_pk = e.id AND x.role = 'epc'
     WHERE e.work_order_id = $1 AND e.biz_step = 'commissioning' ORDER BY e.id, x.epc LIMIT $2`,
    [workOrderId, PER_CARTON * MAX_CARTONS],
  );
  const serials = rows.map((r) => r.epc as string);
  const cartonCount = Math.floor(serials.length / PER_CARTON);
  if (cartonCount === 0) {
    log.info({ workOrderId }, 'demo: no commissioned serials to pack yet');
    return undefined;
  }
  const sites = await factory.get<{ items: Location[] }>('/api/gs1/locations');
  const site = sites.items.find((l) => l.kind === 'site');
  const line = sites.items.find((l) => l.kind === 'line');
  const dcs = await brand.get<{ items: Location[] }>('/api/gs1/locations');
  const dc = dcs.items.find((l) => l.kind === 'warehouse');
  if (!site || !dc) return undefined;
  const { items: ssccs } = await factory.post<{ items: { uri: string }[] }>('/api/gs1/sscc', {
    count: cartonCount + 1,
  });
  const pallet = ssccs[cartonCount]?.uri as string;
  // Packed and shipped yesterday morning, received in the evening (all in the past: capture takes history).
  const t0 = Date.now() - 30 * 3600_000;
  const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();
  const ours = { 'c2m:workOrder': workOrderId };
  const packing = ssccs.slice(0, cartonCount).map((carton, i) => ({
    type: 'AggregationEvent',
    eventTime: at(i),
    eventTimeZoneOffset: '+08:00',
    parentID: carton.uri,
    childEPCs: serials.slice(i * PER_CARTON, (i + 1) * PER_CARTON),
    action: 'ADD',
    bizStep: 'packing',
    disposition: 'in_progress',
    readPoint: { id: line?.uri ?? site.uri },
    bizLocation: { id: site.uri },
    ...ours,
  }));
  const palletising = {
    type: 'AggregationEvent',
    eventTime: at(cartonCount + 1),
    eventTimeZoneOffset: '+08:00',
    parentID: pallet,
    childEPCs: ssccs.slice(0, cartonCount).map((c) => c.uri),
    action: 'ADD',
    bizStep: 'packing',
    disposition: 'in_progress',
    readPoint: { id: site.uri },
    bizLocation: { id: site.uri },
    ...ours,
  };
  const po = { type: 'po', bizTransaction: `urn:c2m:order:${input.orderId}` };
  const shipping = {
    type: 'ObjectEvent',
    eventTime: at(cartonCount + 5),
    eventTimeZoneOffset: '+08:00',
    epcList: [pallet],
    action: 'OBSERVE',
    bizStep: 'shipping',
    disposition: 'in_transit',
    readPoint: { id: site.uri },
    bizTransactionList: [po],
    sourceList: [{ type: 'location', source: site.uri }],
    destinationList: [{ type: 'location', destination: dc.uri }],
    ...ours,
  };
  const capture = async (session: ApiSession, events: Record<string, unknown>[]) => {
    const job = await session.post<{ captureID?: string }>('/api/epcis/capture', document(events));
    const id = job.captureID;
    if (id) await waitForJob(session, `/api/epcis/capture/${encodeURIComponent(id)}`, log);
  };
  await capture(factory, [...packing, palletising, shipping]);
  const receiving = {
    type: 'ObjectEvent',
    eventTime: at(cartonCount + 60 * 10),
    eventTimeZoneOffset: '+08:00',
    epcList: [pallet],
    action: 'OBSERVE',
    bizStep: 'receiving',
    disposition: 'in_progress',
    readPoint: { id: dc.uri },
    bizLocation: { id: dc.uri },
    bizTransactionList: [po],
    ...ours,
  };
  await capture(brand, [receiving]);
  log.info({ workOrderId, cartons: cartonCount, units: cartonCount * PER_CARTON, pallet }, 'demo: packed, shipped');
  return { cartons: cartonCount, units: cartonCount * PER_CARTON };
}
