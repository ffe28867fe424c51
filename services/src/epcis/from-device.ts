import { DeviceEventTypes, EPCIS_MESSAGE_TAG, epcisEventHash, epcisMessage } from '@c2m/shared';
import type pg from 'pg';
import { leafHash } from '../trace/merkle.js';
import { type Canonicalize, type EventRow, indexEvent, insertEvents, type StoredEvent } from './store.js';

/**
 * Device messages become EPCIS 2.0 events (CBV 2.0 vocabulary), so a brand's quality team, a retailer or
 * another traceability system reads the factory floor in the standard they speak:
 *
 * - `production.count` -> commissioning ObjectEvent (ADD, active): the next serials of the work order's lots
 *   (SGTINs, in canonical GS1 Digital Link form), or the lot's class and a quantity past 1,000 units or once the
 *   lots are used up (then marked `c2m:overProduction`);
 * - `quality.measurement` -> inspecting ObjectEvent (OBSERVE, conformant / non_conformant) of the lot, with the
 *   measurement as a sensor report;
 * - `sensor.reading` and `machine.state` -> sensor_reporting ObjectEvents with a sensor report;
 *
 * each at the line's SGLN (read point) and its site (business location) where the factory registered them.
 * Every derived event names the device-signed message it came from (`c2m:sourceMessages`: its Merkle leaf
 * hash) and is signed by the platform, whose statement it is; its proof reaches the device's signature and its
 * certification at event time through that message.
 */

export const C2M_NAMESPACE = 'https://ns.c2m.network/epcis/';
export const C2M_CONTEXT: Record<string, string> = { c2m: C2M_NAMESPACE };
/** The JSON-LD context of a derived event, as a captured document would carry it: EPCIS 2.0's and ours. */
export const DERIVED_CONTEXT = ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', C2M_CONTEXT];
const DL = 'https://id.gs1.org';
/** Past this many units a commissioning event names the lot's class and a quantity, not each serial. */
export const MAX_SERIALS_PER_EVENT = 1000;

/** Who signs an event: an org's identity held by the platform. Signatures are DER ECDSA P-256, base64. */
export interface EventSigner {
  readonly mspId: string;
  /** The user (or service) the signature is made for. */
  readonly name: string;
  readonly certificatePem: string;
  sign(message: string): Promise<string>;
}

/** A stored device message, as the anchorer reads it. */
export interface DeviceRow {
  readonly id: string | number;
  readonly device_id: string;
  readonly factory_msp: string;
  readonly event_time: Date;
  readonly type: string;
  readonly work_order_id: string | null;
  readonly data: Record<string, unknown>;
  readonly leaf_hash: string;
}

interface Lot {
  readonly workOrderId: string;
  readonly gtin: string;
  readonly lot: string;
  readonly serialTo: number;
  nextSerial: number;
  touched: boolean;
}

interface LineLocation {
  readonly readPoint: string;
  readonly bizLocation: string | null;
}

const MEASUREMENT_TYPES: Record<string, { type: string; uom?: string }> = {
  length_mm: { type: 'gs1:MT-Length', uom: 'MMT' },
  width_mm: { type: 'gs1:MT-Length', uom: 'MMT' },
  weight_g: { type: 'gs1:MT-Mass', uom: 'GRM' },
  mass_g: { type: 'gs1:MT-Mass', uom: 'GRM' },
  temperature_c: { type: 'gs1:MT-Temperature', uom: 'CEL' },
  humidity_pct: { type: 'gs1:MT-Humidity', uom: 'P1' },
  pressure_kpa: { type: 'gs1:MT-Pressure', uom: 'KPA' },
  speed_rpm: { type: 'gs1:MT-Speed', uom: 'RPM' },
};

/** A CBV measurement type for a device's characteristic or sensor name, ours (c2m:) where CBV has none. */
export function measurementType(name: string): { type: string; uom?: string } {
  return MEASUREMENT_TYPES[name] ?? { type: `c2m:MT-${name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64)}` };
}

export const deviceUri = (deviceId: string) => `${C2M_NAMESPACE}devices/${encodeURIComponent(deviceId)}`;
export const sgtinUri = (gtin: string, serial: number | string) => `${DL}/01/${gtin}/21/${serial}`;
export const lgtinUri = (gtin: string, lot: string) => `${DL}/01/${gtin}/10/${encodeURIComponent(lot)}`;

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Takes up to `units` serials from the work order's lots, in lot order; what is left has no serial. */
function takeSerials(
  lots: Lot[],
  units: number,
): { epcs: string[]; classes: { epcClass: string; quantity: number }[]; over: number } {
  const epcs: string[] = [];
  const classes: { epcClass: string; quantity: number }[] = [];
  let left = units;
  for (const lot of lots) {
    if (left === 0) break;
    const available = lot.serialTo - lot.nextSerial + 1;
    if (available <= 0) continue;
    const n = Math.min(left, available);
    if (units <= MAX_SERIALS_PER_EVENT) {
      for (let s = lot.nextSerial; s < lot.nextSerial + n; s++) epcs.push(sgtinUri(lot.gtin, s));
    } else {
      classes.push({ epcClass: lgtinUri(lot.gtin, lot.lot), quantity: n });
    }
    lot.nextSerial += n;
    lot.touched = true;
    left -= n;
  }
  if (left > 0 && lots.length > 0) {
    const last = lots[lots.length - 1] as Lot;
    classes.push({ epcClass: lgtinUri(last.gtin, last.lot), quantity: left });
  }
  return { epcs, classes, over: lots.length > 0 ? left : 0 };
}

/** The EPCIS event for one device message, or undefined where it says nothing EPCIS can carry. */
export function deviceEvent(
  row: DeviceRow,
  lots: Lot[],
  location: LineLocation | undefined,
): Record<string, unknown> | undefined {
  const data = row.data ?? {};
  const time = row.event_time.toISOString();
  const common: Record<string, unknown> = {
    eventTime: time,
    eventTimeZoneOffset: '+00:00',
    ...(location ? { readPoint: { id: location.readPoint } } : {}),
    ...(location?.bizLocation ? { bizLocation: { id: location.bizLocation } } : {}),
  };
  const ours: Record<string, unknown> = {
    'c2m:device': row.device_id,
    'c2m:sourceMessages': [row.leaf_hash],
    ...(row.work_order_id ? { 'c2m:workOrder': row.work_order_id } : {}),
  };
  const lotClasses = lots.map((l) => ({ epcClass: lgtinUri(l.gtin, l.lot) }));
  const sensorElement = (report: Record<string, unknown>) => ({
    sensorElementList: [{ sensorMetadata: { time, deviceID: deviceUri(row.device_id) }, sensorReport: [report] }],
  });

  switch (row.type) {
    case DeviceEventTypes.productionCount: {
      const units = num(data.units);
      if (!row.work_order_id || units === undefined || units <= 0) return undefined;
      const taken = takeSerials(lots, units);
      return {
        type: 'ObjectEvent',
        ...common,
        epcList: taken.epcs,
        ...(taken.classes.length > 0 ? { quantityList: taken.classes } : {}),
        action: 'ADD',
        bizStep: 'commissioning',
        disposition: 'active',
        ...ours,
        'c2m:units': units,
        ...(taken.over > 0 ? { 'c2m:overProduction': taken.over } : {}),
        ...(lots.length === 0 ? { 'c2m:lotsPending': true } : {}),
      };
    }
    case DeviceEventTypes.qualityMeasurement: {
      const characteristic = typeof data.characteristic === 'string' ? data.characteristic : 'measurement';
      const m = measurementType(characteristic);
      const value = num(data.value);
      return {
        type: 'ObjectEvent',
        ...common,
        epcList: [],
        ...(lots.length > 0 ? { quantityList: lotClasses } : {}),
        action: 'OBSERVE',
        bizStep: 'inspecting',
        disposition: data.pass === true ? 'conformant' : 'non_conformant',
        ...sensorElement({
          type: m.type,
          ...(value !== undefined ? { value } : {}),
          ...(m.uom ? { uom: m.uom } : {}),
          'c2m:characteristic': characteristic,
          ...(num(data.lowerLimit) !== undefined ? { 'c2m:lowerLimit': data.lowerLimit } : {}),
          ...(num(data.upperLimit) !== undefined ? { 'c2m:upperLimit': data.upperLimit } : {}),
          'c2m:pass': data.pass === true,
        }),
        ...ours,
      };
    }
    case DeviceEventTypes.sensorReading:
    case DeviceEventTypes.machineState: {
      const isState = row.type === DeviceEventTypes.machineState;
      const name = isState ? 'MachineState' : typeof data.sensor === 'string' ? data.sensor : 'reading';
      const m = isState ? { type: 'c2m:MT-MachineState' } : measurementType(name);
      const value = num(data.value);
      const state = typeof data.state === 'string' ? data.state.slice(0, 64) : undefined;
      if (!isState && value === undefined) return undefined;
      return {
        type: 'ObjectEvent',
        ...common,
        epcList: [],
        action: 'OBSERVE',
        bizStep: 'sensor_reporting',
        ...sensorElement({
          type: m.type,
          ...(value !== undefined ? { value } : {}),
          ...(state !== undefined ? { stringValue: state } : {}),
          ...('uom' in m && m.uom ? { uom: m.uom } : {}),
          ...(isState ? {} : { 'c2m:sensor': name }),
        }),
        ...ours,
      };
    }
    default:
      return undefined;
  }
}

/**
 * Derives, signs and stores the EPCIS events of a set of stored device messages, inside the caller's
 * transaction (the anchorer's, so each event lands in the batch of the message it came from). Commissioning
 * takes serials from the work order's lots, whose next serial is advanced here under a row lock.
 */
export async function deriveFromDeviceEvents(
  client: pg.PoolClient,
  input: readonly DeviceRow[],
  signer: EventSigner,
  canonical: Canonicalize,
): Promise<StoredEvent[]> {
  let rows = input;
  // Exactly once per message: a message whose events exist already is skipped (a second derivation would
  // commission other serials for the same units).
  const { rows: done } = await client.query(
    `SELECT DISTINCT unnest(source_leaves) AS leaf FROM epcis_events
     WHERE source = 'device' AND source_leaves && $1::text[]`,
    [rows.map((r) => r.leaf_hash)],
  );
  const derived = new Set(done.map((d) => d.leaf as string));
  rows = rows.filter((r) => !derived.has(r.leaf_hash));
  if (rows.length === 0) return [];
  const workOrders = [...new Set(rows.map((r) => r.work_order_id).filter((w): w is string => !!w))];
  const lotsByWo = new Map<string, Lot[]>();
  if (workOrders.length > 0) {
    const { rows: lots } = await client.query(
      `SELECT work_order_id, gtin, lot, serial_to, next_serial FROM work_order_lots
       WHERE work_order_id = ANY($1) ORDER BY work_order_id, created_at, gtin, lot FOR UPDATE`,
      [workOrders],
    );
    for (const l of lots) {
      const list = lotsByWo.get(l.work_order_id) ?? [];
      list.push({
        workOrderId: l.work_order_id,
        gtin: l.gtin,
        lot: l.lot,
        serialTo: Number(l.serial_to),
        nextSerial: Number(l.next_serial),
        touched: false,
      });
      lotsByWo.set(l.work_order_id, list);
    }
  }
  const brandOf = new Map<string, string>();
  if (workOrders.length > 0) {
    const { rows: wos } = await client.query('SELECT id, brand_msp FROM work_orders WHERE id = ANY($1)', [workOrders]);
    for (const w of wos) brandOf.set(w.id as string, w.brand_msp as string);
  }
  const factories = [...new Set(rows.map((r) => r.factory_msp))];
  const deviceIds = [...new Set(rows.map((r) => r.device_id))];
  const { rows: lines } = await client.query(
    `SELECT d.device_id, l.uri, l.parent_uri FROM devices d
     JOIN gs1_locations l ON l.owner_msp = d.factory_msp AND l.line = d.line
     WHERE d.device_id = ANY($1) AND d.factory_msp = ANY($2)`,
    [deviceIds, factories],
  );
  const locationOf = new Map<string, LineLocation>(
    lines.map((l) => [
      l.device_id as string,
      { readPoint: l.uri as string, bizLocation: l.parent_uri as string | null },
    ]),
  );

  const out: EventRow[] = [];
  const recordTime = new Date().toISOString();
  for (const row of rows) {
    const lots = (row.work_order_id && lotsByWo.get(row.work_order_id)) || [];
    const event = deviceEvent(row, lots, locationOf.get(row.device_id));
    if (!event) continue;
    // The `c2m:` prefix is bound by the context the hash reads, here as for a captured document.
    const eventHash = epcisEventHash(event, DERIVED_CONTEXT);
    const stored = { ...event, eventID: eventHash, recordTime };
    const message = epcisMessage({
      tag: EPCIS_MESSAGE_TAG,
      eventID: eventHash,
      eventIdFrom: 'hash',
      eventHash,
      event: stored,
      context: DERIVED_CONTEXT,
      ownerMspId: row.factory_msp,
      signer: { mspId: signer.mspId, username: signer.name },
      recordTime,
      sourceLeaves: [row.leaf_hash],
    });
    out.push({
      eventId: eventHash,
      eventHash,
      event: stored,
      index: indexEvent(stored, canonical),
      ownerMsp: row.factory_msp,
      source: 'device',
      workOrderId: row.work_order_id,
      brandMsp: row.work_order_id ? (brandOf.get(row.work_order_id) ?? null) : null,
      recordTime,
      message,
      signature: await signer.sign(message),
      signerCertificate: signer.certificatePem,
      sourceLeaves: [row.leaf_hash],
      leafHash: '',
    });
  }
  for (const lots of lotsByWo.values()) {
    for (const l of lots.filter((x) => x.touched)) {
      await client.query(
        'UPDATE work_order_lots SET next_serial = $4 WHERE work_order_id = $1 AND gtin = $2 AND lot = $3',
        [l.workOrderId, l.gtin, l.lot, l.nextSerial],
      );
    }
  }
  return insertEvents(client, out.map(withLeaf));
}

function withLeaf(r: EventRow): EventRow {
  return { ...r, leafHash: leafHash(r.message) };
}
