import { canonicalJson, epcisEventHash, gs1CheckDigit, normaliseGs1Uri } from '@c2m/shared';
import request from 'supertest';
import { withTransaction } from '../src/db/database.js';
import { type EventRow, indexEvent, insertEvents } from '../src/epcis/store.js';
import { leafHash } from '../src/trace/merkle.js';
import type { TestPlatform } from './helpers.js';
import { acceptedWorkOrder, certifiedDevicePerFactory, login } from './ingest-fixtures.js';

/**
 * A small supply chain in the EPCIS store, for trace, recall and resolver tests: a work order started under a
 * lot of a brand's GTIN, its serials commissioned by a certified device at the factory's line, the lot inspected,
 * made from a yarn lot (TransformationEvent), packed into cartons (one serial taken out again: disaggregation),
 * the cartons onto a pallet, the pallet shipped, and one serial associated with a returnable crate that ships.
 */

const DL = 'https://id.gs1.org';
export const canonical = (u: string) => normaliseGs1Uri(u) ?? u;
export const withCheck = (body: string) => `${body}${gs1CheckDigit(body)}`;
export const sgtin = (gtin: string, serial: number | string) => `${DL}/01/${gtin}/21/${serial}`;
export const lgtin = (gtin: string, lot: string) => `${DL}/01/${gtin}/10/${lot}`;
export const sscc = (digits17: string) => `${DL}/00/${withCheck(digits17)}`;

/** Stores fixture events as `owner`, each with the columns the store indexes. */
export async function storeEvents(
  t: TestPlatform,
  owner: string,
  events: Record<string, unknown>[],
  extra: { workOrderId?: string | null; brandMsp?: string | null; source?: 'capture' | 'device' } = {},
): Promise<string[]> {
  const rows: EventRow[] = events.map((e) => {
    const eventHash = epcisEventHash(e);
    const stored = {
      ...e,
      eventID: (e.eventID as string | undefined) ?? eventHash,
      recordTime: new Date().toISOString(),
    };
    const message = canonicalJson({ kind: 'c2m.epcis-event/1', event: stored, eventHash });
    return {
      eventId: stored.eventID,
      eventHash,
      event: stored,
      index: indexEvent(stored, canonical),
      ownerMsp: owner,
      source: extra.source ?? 'device',
      workOrderId: (e['c2m:workOrder'] as string | undefined) ?? extra.workOrderId ?? null,
      brandMsp: extra.brandMsp ?? null,
      recordTime: stored.recordTime,
      message,
      signature: 'fixture',
      signerCertificate: 'fixture',
      leafHash: leafHash(message),
    };
  });
  await withTransaction(t.platform.pool, (c) => insertEvents(c, rows));
  return rows.map((r) => r.eventId);
}

export interface Chain {
  workOrderId: string;
  factoryUser: string;
  factoryMsp: string;
  otherFactoryUser: string;
  deviceId: string;
  gtin: string;
  lot: string;
  lotUri: string;
  serials: string[];
  material: string;
  carton1: string;
  carton2: string;
  pallet: string;
  crate: string;
  line: string;
  site: string;
  warehouse: string;
  times: Record<string, string>;
  /** eventIDs by name. */
  ids: Record<string, string>;
}

let prefixesSet = false;

export async function buildChain(t: TestPlatform, name: string, base = Date.now() + 60_000): Promise<Chain> {
  const api = () => request(t.app.server);
  const brand = await login(t, 'brand');
  if (!prefixesSet) {
    await api().put('/api/gs1/company-prefix').set(brand).send({ companyPrefix: '6941410' }).expect(200);
    await api()
      .put('/api/gs1/company-prefix')
      .set(await login(t, 'factory1'))
      .send({ companyPrefix: '6941420' })
      .expect(200);
    await api()
      .put('/api/gs1/company-prefix')
      .set(await login(t, 'factory2'))
      .send({ companyPrefix: '6941430' })
      .expect(200);
    prefixesSet = true;
  }
  const fleet = await certifiedDevicePerFactory(t, name);
  const { workOrderId, factoryUser, factory } = await acceptedWorkOrder(t, `${name} sock`, 300);
  const started = await api().post(`/api/work-orders/${workOrderId}/start`).set(factory).expect(200);
  const lot = started.body.items[0];
  const me = await api().get('/api/me').set(factory).expect(200);
  const factoryMsp = me.body.mspId as string;
  const site = await api()
    .post('/api/gs1/locations')
    .set(factory)
    .send({ kind: 'site', name: `${name} plant` });
  const siteUri = site.body.uri as string;
  const lineName = `line-${name}`;
  const line = await api()
    .post('/api/gs1/locations')
    .set(factory)
    .send({ kind: 'line', name: `${name} line`, parentUri: siteUri, extension: name.slice(0, 10), line: lineName })
    .expect(200);
  const warehouse = await api()
    .post('/api/gs1/locations')
    .set(factory)
    .send({ kind: 'warehouse', name: `${name} warehouse` })
    .expect(200);
  const deviceId = (fleet[factoryUser] as { deviceId: string }).deviceId;
  const prefix = factoryMsp === 'Factory1Org' ? '6941420' : '6941430';
  const n = Math.floor(Math.random() * 1e6)
    .toString()
    .padStart(6, '0');
  const material = lgtin(withCheck(`0${prefix}99999`), `YARN-${name.slice(0, 10)}`);
  const serials = Array.from({ length: 6 }, (_, i) => sgtin(lot.gtin, lot.serialFrom + i));
  const carton1 = sscc(`0${prefix}1${n}01`.slice(0, 17));
  const carton2 = sscc(`0${prefix}1${n}02`.slice(0, 17));
  const pallet = sscc(`0${prefix}2${n}03`.slice(0, 17));
  const crate = `${DL}/8004/${prefix}CRATE${n}`;
  const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
  const times = {
    transform: at(1),
    commission: at(2),
    inspect: at(3),
    pack: at(4),
    unpack: at(5),
    palletise: at(6),
    ship: at(7),
  };
  const common = { eventTimeZoneOffset: '+00:00', 'c2m:workOrder': workOrderId };
  const where = { readPoint: { id: line.body.uri }, bizLocation: { id: siteUri } };
  const ev = (e: Record<string, unknown>) => ({ '@context': [{ c2m: 'https://ns.c2m.network/epcis/' }], ...e });
  const named: [string, Record<string, unknown>][] = [
    [
      'transform',
      ev({
        type: 'TransformationEvent',
        eventTime: times.transform,
        ...common,
        inputQuantityList: [{ epcClass: material, quantity: 20, uom: 'KGM' }],
        outputQuantityList: [{ epcClass: lgtin(lot.gtin, lot.lot), quantity: 300 }],
        bizStep: 'commissioning',
        ...where,
      }),
    ],
    [
      'commission',
      ev({
        type: 'ObjectEvent',
        eventTime: times.commission,
        ...common,
        epcList: serials,
        action: 'ADD',
        bizStep: 'commissioning',
        disposition: 'active',
        ...where,
        'c2m:device': deviceId,
      }),
    ],
    [
      'inspect',
      ev({
        type: 'ObjectEvent',
        eventTime: times.inspect,
        ...common,
        epcList: [],
        quantityList: [{ epcClass: lgtin(lot.gtin, lot.lot) }],
        action: 'OBSERVE',
        bizStep: 'inspecting',
        disposition: 'conformant',
        ...where,
        sensorElementList: [{ sensorReport: [{ type: 'gs1:MT-Length', value: 251, uom: 'MMT' }] }],
        'c2m:device': deviceId,
      }),
    ],
    [
      'pack1',
      ev({
        type: 'AggregationEvent',
        eventTime: times.pack,
        ...common,
        parentID: carton1,
        childEPCs: serials.slice(0, 3),
        action: 'ADD',
        bizStep: 'packing',
        ...where,
      }),
    ],
    [
      'pack2',
      ev({
        type: 'AggregationEvent',
        eventTime: times.pack,
        ...common,
        parentID: carton2,
        childEPCs: serials.slice(3, 5),
        action: 'ADD',
        bizStep: 'packing',
        ...where,
      }),
    ],
    [
      'associate',
      ev({
        type: 'AssociationEvent',
        eventTime: times.pack,
        ...common,
        parentID: crate,
        childEPCs: [serials[5]],
        action: 'ADD',
        bizStep: 'assembling',
        ...where,
      }),
    ],
    [
      'unpack',
      ev({
        type: 'AggregationEvent',
        eventTime: times.unpack,
        ...common,
        parentID: carton1,
        childEPCs: [serials[2]],
        action: 'DELETE',
        bizStep: 'unpacking',
        readPoint: { id: warehouse.body.uri },
        bizLocation: { id: warehouse.body.uri },
      }),
    ],
    [
      'palletise',
      ev({
        type: 'AggregationEvent',
        eventTime: times.palletise,
        ...common,
        parentID: pallet,
        childEPCs: [carton1, carton2],
        action: 'ADD',
        bizStep: 'packing',
        ...where,
      }),
    ],
    [
      'ship',
      ev({
        type: 'ObjectEvent',
        eventTime: times.ship,
        ...common,
        epcList: [pallet, crate],
        action: 'OBSERVE',
        bizStep: 'shipping',
        disposition: 'in_transit',
        readPoint: { id: warehouse.body.uri },
        bizLocation: { id: warehouse.body.uri },
        destinationList: [{ type: 'owning_party', destination: 'https://id.gs1.org/417/6941410000008' }],
      }),
    ],
  ];
  const ids = await storeEvents(
    t,
    factoryMsp,
    named.map(([, e]) => e),
    { brandMsp: 'BrandOrg' },
  );
  return {
    workOrderId,
    factoryUser,
    factoryMsp,
    otherFactoryUser: factoryUser === 'factory1' ? 'factory2' : 'factory1',
    deviceId,
    gtin: lot.gtin,
    lot: lot.lot,
    lotUri: lgtin(lot.gtin, lot.lot),
    serials,
    material,
    carton1,
    carton2,
    pallet,
    crate: canonical(crate),
    line: line.body.uri,
    site: siteUri,
    warehouse: warehouse.body.uri,
    times,
    ids: Object.fromEntries(named.map(([k], i) => [k, ids[i] as string])),
  };
}
