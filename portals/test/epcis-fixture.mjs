// EPCIS events of the demo work order stored straight into the demo platform's event store, for browser tests.
import { canonicalJson, epcisEventHash, normaliseGs1Uri } from '@c2m/shared';
import pg from 'pg';
import { indexEvent, insertEvents } from '../../services/dist/src/epcis/store.js';

/** Stores EPCIS events of the demo work order straight into its event store (as the factory's devices would). */
export async function storeEvents(dbName, owner, workOrderId, events) {
  const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${dbName}` });
  await client.connect();
  try {
    const rows = events.map((e) => {
      const eventHash = epcisEventHash(e);
      const stored = { ...e, eventID: eventHash, recordTime: new Date().toISOString() };
      const message = canonicalJson({ kind: 'c2m.epcis-event/1', event: stored, eventHash });
      return {
        eventId: eventHash,
        eventHash,
        event: stored,
        index: indexEvent(stored, (u) => normaliseGs1Uri(u) ?? u),
        ownerMsp: owner,
        source: 'device',
        workOrderId,
        brandMsp: 'BrandOrg',
        recordTime: stored.recordTime,
        message,
        signature: 'fixture',
        signerCertificate: 'fixture',
        leafHash: 'fixture',
      };
    });
    await client.query('BEGIN');
    await insertEvents(client, rows);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

/** The demo work order started under lots, with its first 3 serials made, inspected and shipped. */
export async function seedDemoChain(p, brand) {
  const { wo, l } = await p.waitFor(
    'the demo work order started under lots',
    async () => {
      const wos = await p.api('GET', '/api/work-orders', { token: brand });
      for (const wo of wos.body.items ?? []) {
        const lots = await p.api('GET', `/api/work-orders/${wo.id}/lots`, { token: brand });
        const l = lots.body.items?.[0];
        if (l) return { wo, l };
      }
      return undefined;
    },
    200_000,
  );
  // The demo's own device-derived events arrive with the anchorer's cycles; the test stores a known set now,
  // as the factory's devices would say them, so what the pages show is fixed.
  const devices = await p.api('GET', '/api/devices', { token: await p.token('platform') });
  const device = (devices.body.items ?? []).find((d) => d.factoryMspId === wo.factoryMspId)?.deviceId ?? 'demo';
  const t0 = Date.now();
  const at = (m) => new Date(t0 + m * 60_000).toISOString();
  const serials = [0, 1, 2].map((i) => `https://id.gs1.org/01/${l.gtin}/21/${l.serialFrom + i}`);
  const base = { '@context': [{ c2m: 'https://ns.c2m.network/epcis/' }], eventTimeZoneOffset: '+00:00' };
  await storeEvents(`c2m_${p.name}_test_${p.id}`, wo.factoryMspId, wo.id, [
    {
      ...base,
      type: 'ObjectEvent',
      eventTime: at(1),
      epcList: serials,
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      'c2m:device': device,
      'c2m:workOrder': wo.id,
    },
    {
      ...base,
      type: 'ObjectEvent',
      eventTime: at(2),
      epcList: [],
      quantityList: [{ epcClass: l.uri }],
      action: 'OBSERVE',
      bizStep: 'inspecting',
      disposition: 'conformant',
      'c2m:device': device,
      'c2m:workOrder': wo.id,
    },
    {
      ...base,
      type: 'ObjectEvent',
      eventTime: at(3),
      epcList: serials,
      action: 'OBSERVE',
      bizStep: 'shipping',
      disposition: 'in_transit',
      'c2m:workOrder': wo.id,
    },
  ]);
  return { wo, lot: l, serials, device };
}
