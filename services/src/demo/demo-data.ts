import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import { createDeviceCsr } from '@c2m/identity';
import { Orgs } from '@c2m/shared';
import type { Logger } from 'pino';
import { loadDemandDemo } from '../demand/demo-demand.js';
import { certifyWithProof } from '../iot/possession.js';
import {
  connectDevicePublisher,
  loadOrCreateDevice,
  nextMessage,
  productionData,
  runSimulator,
  type SimulatedDevice,
  saveDevice,
  topicFor,
} from '../iot/simulator.js';
import type { Platform } from '../platform.js';
import { ApiClient, ApiError, type ApiSession } from './api-client.js';
import { demoLogistics } from './demo-logistics.js';

export interface DemoOptions {
  readonly baseUrl: string;
  readonly platform: Platform;
  /** Keep one device reporting every few seconds after loading, so the portals show live data (default true). */
  readonly live?: boolean;
  readonly eventCount?: number;
}

const PASSWORD = 'demo';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The outbox retries a failing commit; after this many failed attempts the demo reports the error. */
const OUTBOX_ATTEMPTS_BEFORE_GIVING_UP = 3;

/** How many ids a demo device may try (base, base-g2, ...) when earlier platforms' devices hold them on the ledger. */
const MAX_DEVICE_GENERATIONS = 20;

const DEMO_PRODUCT = 'Merino crew sock / 美利奴羊毛中筒袜';

/**
 * The demo factories' machines: a knitting machine on every line of their demo
 * profile (dispatch counts only lines with a certified device) and a QC station.
 */
const DEMO_FLEETS: Record<string, readonly { name: string; model: string; line: string; awaiting?: boolean }[]> = {
  [Orgs.factory1]: [
    { name: 'knit-01', model: 'Lonati GK616 knitting machine', line: 'line-1' },
    { name: 'knit-02', model: 'Santoni SM8 knitting machine', line: 'line-2' },
    { name: 'qc-01', model: 'Vision QC station', line: 'line-1' },
  ],
  [Orgs.factory2]: [
    { name: 'knit-01', model: 'Lonati GK616 knitting machine', line: 'line-1' },
    { name: 'qc-01', model: 'Vision QC station', line: 'line-1' },
    // Registered by the factory and left for the certifier: the certifier's first screen has a job to do.
    { name: 'dye-01', model: 'Dyeing vat temperature probe', line: 'line-1', awaiting: true },
  ],
};

/**
 * A factory's demo devices registered (CSR to the factory CA, record on the
 * ledger) and certified by the certifier with a proof of possession. Each step
 * is taken only if the device's state says it is still missing, so a re-run or
 * a run interrupted halfway finishes the job without repeating it.
 */
async function certifiedFleet(
  mspId: string,
  factory: ApiSession,
  certifier: ApiSession,
  stateDir: string,
  log: Logger,
): Promise<SimulatedDevice[]> {
  const listed = await factory.get<{ items: { deviceId: string; status: string }[] }>('/api/devices');
  const status = new Map(listed.items.map((d) => [d.deviceId, d.status]));
  const out: SimulatedDevice[] = [];
  for (const { name, model, line, awaiting } of DEMO_FLEETS[mspId] ?? []) {
    const base = `${mspId.toLowerCase()}-${name}`;
    const candidates = [base, ...Array.from({ length: MAX_DEVICE_GENERATIONS - 1 }, (_, i) => `${base}-g${i + 2}`)];
    // A device this platform already knows, else the first id the ledger does not hold yet: a long-lived
    // network remembers the devices of earlier platform databases, whose keys this one never had.
    let deviceId = candidates.find((id) => status.has(id));
    let state = deviceId === undefined ? undefined : status.get(deviceId);
    let device: SimulatedDevice | undefined;
    if (deviceId === undefined) {
      for (const id of candidates) {
        // The key lives with the (simulated) device, in the data dir; only a CSR leaves it.
        const created = await loadOrCreateDevice(stateDir, id, mspId);
        const csr =
          created.csrPem ??
          (await createDeviceCsr(created.device.privateKey, createPublicKey(created.device.privateKey), {
            deviceId: id,
            mspId,
          }));
        log.info({ deviceId: id, factory: mspId, line }, 'demo: factory registers a device');
        try {
          await factory.post('/api/devices', { deviceId: id, model, serial: `SN-${id}`, line, csrPem: csr });
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 'DEVICE_EXISTS')) throw err;
          log.warn(
            { deviceId: id },
            'demo: the ledger already holds this device (an earlier platform database); next id',
          );
          continue;
        }
        deviceId = id;
        device = created.device;
        state = 'REGISTERED';
        break;
      }
      if (deviceId === undefined) throw new Error(`demo: every id for ${base} is taken on the ledger`);
    }
    device ??= (await loadOrCreateDevice(stateDir, deviceId, mspId)).device;
    if (awaiting) {
      log.info({ deviceId, status: state }, 'demo: device left for the certifier to certify');
      continue;
    }
    if (state === 'REGISTERED') {
      log.info({ deviceId }, 'demo: certifier certifies the device with a proof of possession');
      // The demo holds the device keys (simulated devices), so it answers the certifier's challenge as the device would.
      await certifyWithProof(certifier, deviceId, device.privateKey, { note: 'Demo calibration check passed' });
      state = 'CERTIFIED';
    }
    // A device someone suspended or revoked in the portal stays so: the demo does not overrule the certifier.
    if (state !== 'CERTIFIED') log.warn({ deviceId, status: state }, 'demo: device is not certified; left as it is');
    out.push(device);
  }
  return out;
}

interface OpenOffer {
  id: string;
  orderId: string;
  factoryMspId: string;
  quantity: number;
  explanation?: { why?: string } | null;
}

/**
 * The demo order's work order: on a re-run the one that exists, else the
 * order's open offer accepted by the factory dispatch chose. Logs that
 * factory's certified devices per line, the reason it could be chosen at all.
 */
async function acceptedWorkOrder(
  platform: Platform,
  orderId: string,
  brand: ApiSession,
  factories: Record<string, ApiSession>,
  log: Logger,
): Promise<{ id: string; factoryMspId: string }> {
  const wos = await brand.get<{ items: { id: string; orderId: string; factoryMspId: string }[] }>('/api/work-orders');
  const existing = wos.items.find((w) => w.orderId === orderId);
  if (existing) {
    log.info({ workOrderId: existing.id, factory: existing.factoryMspId }, 'demo: the order already has a work order');
    return existing;
  }
  let offer: OpenOffer;
  try {
    offer = await waitFor('an offer for the demo order', async () => {
      for (const session of Object.values(factories)) {
        const offers = await session.get<{ items: OpenOffer[] }>('/api/offers?status=open');
        const o = offers.items.find((x) => x.orderId === orderId);
        if (o) return o;
      }
      return undefined;
    });
  } catch (err) {
    const order = await brand.get<{ status: string }>(`/api/orders/${orderId}`);
    throw new Error(
      `demo: no factory was offered order ${orderId} (status ${order.status}); dispatch offers work only to ` +
        'factories with a certified device on a line that can make it',
      { cause: err },
    );
  }
  const profile = await brand.get<{ lines: { id: string; certifiedDevices: number }[] }>(
    `/api/factories/${offer.factoryMspId}/profile`,
  );
  log.info(
    {
      offerId: offer.id,
      factory: offer.factoryMspId,
      quantity: offer.quantity,
      certifiedDevices: Object.fromEntries(profile.lines.map((l) => [l.id, l.certifiedDevices])),
      why: offer.explanation?.why,
    },
    'demo: dispatch offered the order to a factory with certified devices',
  );
  const session = factories[offer.factoryMspId];
  if (!session) throw new Error(`demo: the offer went to ${offer.factoryMspId}, which has no demo user`);
  const accepted = await session.post<{ workOrder: { id: string; factoryMspId: string } }>(
    `/api/offers/${offer.id}/accept`,
    {},
  );
  const workOrderId = accepted.workOrder.id;
  log.info(
    { workOrderId, factory: offer.factoryMspId },
    'demo: factory accepted the offer; the ledger outbox commits it',
  );
  // The outbox commits in the background: say "committed" only once the ledger has answered with a txId, and
  // stop with the ledger's own error when the outbox keeps failing.
  const ledger = await waitFor('the work order on the ledger', async () => {
    const wo = await brand.get<{ ledger: { txId: string; blockNumber: number } | null }>(
      `/api/work-orders/${workOrderId}`,
    );
    if (wo.ledger) return wo.ledger;
    const { rows } = await platform.pool.query(
      'SELECT attempts, last_error FROM ledger_outbox WHERE ref = $1 AND last_error IS NOT NULL',
      [workOrderId],
    );
    if (rows[0] && rows[0].attempts >= OUTBOX_ATTEMPTS_BEFORE_GIVING_UP) {
      throw new Error(`demo: the ledger refuses work order ${workOrderId}: ${rows[0].last_error}`);
    }
    return undefined;
  });
  log.info(
    { workOrderId, factory: offer.factoryMspId, txId: ledger.txId, blockNumber: ledger.blockNumber },
    'demo: the work order is committed on the ledger',
  );
  return { id: workOrderId, factoryMspId: offer.factoryMspId };
}

/**
 * Loads the demo through the public API, as the users would: each factory
 * registers its devices and the certifier certifies them on the ledger (with a
 * proof of possession), so both factories have verifiable capacity; then the
 * brand posts an order, dispatch offers it to a factory with certified devices,
 * the factory accepts (the work order is committed on the ledger), its devices
 * publish signed production events over MQTT, and the events are anchored.
 * Demand signals and a first forecast follow. Safe to run again: every step
 * first looks at what already exists and stops there.
 */
/** GS1 company prefixes of the demo orgs (made up, in China's 690-699 range). */
const DEMO_PREFIXES: Record<string, string> = {
  [Orgs.brand]: '6901234',
  [Orgs.factory1]: '6941420',
  [Orgs.factory2]: '6941430',
};

/**
 * Product identity for the demo: prefixes, a GTIN per SKU of the brand, and for each factory a site with its
 * lines as SGLNs, so device events land at a line and commission real serials. Safe to re-run: what exists
 * is kept (409 answers are expected on a second run).
 */
async function demoIdentity(brand: ApiSession, factories: Record<string, ApiSession>, skus: readonly string[]) {
  const ignoreConflict = (err: unknown) => {
    if ((err as ApiError).status !== 409) throw err;
  };
  await brand.put('/api/gs1/company-prefix', { companyPrefix: DEMO_PREFIXES[Orgs.brand] });
  for (const sku of skus) await brand.post('/api/gs1/products', { sku, name: `${DEMO_PRODUCT} ${sku}` });
  const own = await brand.get<{ items: { kind: string }[] }>('/api/gs1/locations');
  if (!own.items.some((l) => l.kind === 'warehouse')) {
    await brand.post('/api/gs1/locations', { kind: 'warehouse', name: 'Brand DC, Hangzhou' }).catch(ignoreConflict);
  }
  for (const [mspId, session] of Object.entries(factories)) {
    await session.put('/api/gs1/company-prefix', { companyPrefix: DEMO_PREFIXES[mspId] });
    const { items } = await session.get<{ items: { uri: string; kind: string; line: string | null }[] }>(
      '/api/gs1/locations',
    );
    let site = items.find((l) => l.kind === 'site');
    if (!site)
      site = await session.post<{ uri: string; kind: string; line: null }>('/api/gs1/locations', {
        kind: 'site',
        name: `${mspId} plant`,
      });
    const lines = new Set((DEMO_FLEETS[mspId] ?? []).map((d) => d.line));
    for (const line of lines) {
      if (items.some((l) => l.line === line)) continue;
      await session
        .post('/api/gs1/locations', {
          kind: 'line',
          name: line,
          parentUri: site.uri,
          extension: line.replace(/^line-/, ''),
          line,
        })
        .catch(ignoreConflict);
    }
  }
}

export async function loadDemo(options: DemoOptions) {
  const { platform } = options;
  const log = platform.logger.child({ demo: true });
  const api = new ApiClient(options.baseUrl);
  const brand = await api.login('brand', PASSWORD);
  const certifier = await api.login('certifier', PASSWORD);
  const factories: Record<string, ApiSession> = {
    [Orgs.factory1]: await api.login('factory1', PASSWORD),
    [Orgs.factory2]: await api.login('factory2', PASSWORD),
  };

  log.info('demo 1/5: factories register their devices, the certifier certifies them');
  const stateDir = path.join(platform.config.dataDir, 'demo-devices');
  const fleets = new Map<string, SimulatedDevice[]>();
  for (const [mspId, session] of Object.entries(factories)) {
    fleets.set(mspId, await certifiedFleet(mspId, session, certifier, stateDir, log));
  }

  log.info('demo 2/5: the brand posts a custom order, dispatch offers it, the factory accepts');
  const existing = await brand.get<{ items: { id: string; product: string; status: string }[] }>('/api/orders');
  let order = existing.items.find((o) => o.product === DEMO_PRODUCT && o.status !== 'cancelled');
  if (!order) {
    order = await brand.post<{ id: string; product: string; status: string }>('/api/orders', {
      product: DEMO_PRODUCT,
      lines: [
        { sku: 'MCS-GRY-M', colour: 'grey', size: 'M', quantity: 1200 },
        { sku: 'MCS-GRY-L', colour: 'grey', size: 'L', quantity: 800 },
        { sku: 'MCS-NVY-M', colour: 'navy', size: 'M', quantity: 1000 },
      ],
      spec: { materials: ['merino wool 70%', 'nylon 27%', 'elastane 3%'], requiredCertificates: ['OEKO-TEX 100'] },
      targetPriceMinor: 1250,
      currency: 'CNY',
      dueDate: new Date(Date.now() + 30 * 86400_000).toISOString().slice(0, 10),
      shipTo: 'Brand DC, Hangzhou (GLN 6901234000017)',
    });
    log.info({ orderId: order.id }, 'demo: brand posted the order');
  }
  const orderId = order.id;
  log.info('demo: GS1 identity (prefixes, GTINs per SKU, factory sites and lines)');
  await demoIdentity(brand, factories, ['MCS-GRY-M', 'MCS-GRY-L', 'MCS-NVY-M']);
  const workOrder = await acceptedWorkOrder(platform, orderId, brand, factories, log);
  const workOrderId = workOrder.id;
  const factoryMspId = workOrder.factoryMspId;
  const factorySession = factories[factoryMspId] as ApiSession;
  const lots = await factorySession
    .post<{ items: { gtin: string; lot: string; serialFrom: number; serialTo: number }[] }>(
      `/api/work-orders/${workOrderId}/start`,
      {},
    )
    .catch((err: ApiError) => {
      // A work order from a demo run before lots existed is past starting: it keeps producing without them.
      if (err.status !== 409) throw err;
      log.warn({ workOrderId, err: err.message }, 'demo: the work order cannot start under lots');
      return { items: [] };
    });
  log.info(
    { workOrderId, lots: lots.items.map((l) => `${l.gtin}/${l.lot} #${l.serialFrom}-${l.serialTo}`) },
    'demo: production started under GS1 lots',
  );
  const devices = fleets.get(factoryMspId) ?? [];
  if (devices.length === 0) throw new Error(`demo: ${factoryMspId} has no demo devices to report production`);

  const count = options.eventCount ?? 240;
  const { rows } = await platform.pool.query('SELECT COUNT(*)::int AS n FROM device_events WHERE work_order_id = $1', [
    workOrderId,
  ]);
  if (rows[0].n === 0) {
    log.info(
      { count, devices: devices.map((d) => d.deviceId), workOrderId },
      "demo 3/5: the factory's devices publish signed production events over MQTT",
    );
    await runSimulator({
      mqttUrl: platform.config.mqttUrl,
      topicRoot: platform.config.mqttTopicRoot,
      devices,
      ratePerSecond: 200,
      count,
      workOrderId,
    });
    for (const d of devices) await saveDevice(stateDir, d);
  } else {
    log.info({ events: rows[0].n, workOrderId }, 'demo 3/5: the work order already has device events');
  }
  log.info('demo 4/5: waiting for the events to be anchored on the ledger in Merkle batches');
  const anchored = await waitFor(
    'events anchored on the ledger',
    async () => {
      const r = await platform.pool.query(
        `SELECT COUNT(*)::int AS n FROM device_events e JOIN batches b ON b.batch_id = e.batch_id
         WHERE e.work_order_id = $1 AND b.status = 'anchored'`,
        [workOrderId],
      );
      return r.rows[0].n > 0 ? r.rows[0].n : undefined;
    },
    120_000,
  );
  log.info({ anchored, workOrderId }, 'demo: events anchored');
  // Logistics on EPCIS: cartons, a pallet, shipping to the brand's DC and receiving there.
  await demoLogistics({ pool: platform.pool, log, orderId, workOrderId, factory: factorySession, brand }).catch((err) =>
    log.warn({ err }, 'demo: logistics events not captured'),
  );

  // Demand signals and a first forecast run, so the brand's forecast page has a chart.
  log.info('demo 5/5: consumer demand signals and a first forecast run');
  await loadDemandDemo({ baseUrl: options.baseUrl, password: PASSWORD, log });

  let live: NodeJS.Timeout | undefined;
  if (options.live !== false) {
    // One machine keeps reporting, so the portals show the record growing.
    const client = await connectDevicePublisher(platform.config.mqttUrl, `c2m-demo-live-${process.pid}`);
    const device = devices[0] as SimulatedDevice;
    let i = 0;
    // A machine produces what the work order asks for, then stops: it does not run past the ordered quantity.
    const produced = async () => {
      const r = await platform.pool.query(
        `SELECT COALESCE(SUM((data->>'units')::bigint) FILTER (WHERE type = 'production.count'), 0)::bigint AS units,
           (SELECT quantity FROM work_orders WHERE id = $1) AS quantity
         FROM device_events WHERE work_order_id = $1`,
        [workOrderId],
      );
      return { units: Number(r.rows[0].units), quantity: Number(r.rows[0].quantity) };
    };
    live = setInterval(() => {
      if (i % 12 === 0) {
        produced()
          .then(({ units, quantity }) => {
            if (units >= quantity && live) {
              clearInterval(live);
              log.info({ workOrderId, units, quantity }, 'demo: the work order is produced; the live device stops');
            }
          })
          .catch(() => {});
      }
      const { type, data } = productionData(device, workOrderId, i++);
      const msg = nextMessage(device, type, data);
      client
        .publishAsync(topicFor(platform.config.mqttTopicRoot, device), JSON.stringify(msg), { qos: 1 })
        .then(() => saveDevice(stateDir, device))
        .catch((err) => log.warn({ err }, 'demo: live device publish failed'));
    }, 5000);
    live.unref();
  }
  return {
    orderId,
    workOrderId,
    factoryMspId,
    devices: devices.map((d) => d.deviceId),
    stop: () => live && clearInterval(live),
  };
}
