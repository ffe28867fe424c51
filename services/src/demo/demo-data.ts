import path from 'node:path';
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
import { ApiClient } from './api-client.js';

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

/**
 * Loads the demo through the public API, as the users would: the brand posts
 * an order, dispatch offers it, the factory accepts (the work order is
 * committed on the ledger), the factory registers two devices, the certifier
 * certifies them, the devices publish signed production events over MQTT, and
 * the events are anchored. Safe to run again: it stops at what already exists.
 */
export async function loadDemo(options: DemoOptions) {
  const { platform } = options;
  const log = platform.logger.child({ demo: true });
  const api = new ApiClient(options.baseUrl);
  const brand = await api.login('brand', PASSWORD);
  const certifier = await api.login('certifier', PASSWORD);
  const factories = {
    Factory1Org: await api.login('factory1', PASSWORD),
    Factory2Org: await api.login('factory2', PASSWORD),
  };

  const existing = await brand.get<{ items: { id: string }[] }>('/api/orders');
  let workOrderId: string;
  let factoryMspId: string;
  if (existing.items.length === 0) {
    log.info('demo: brand posts a custom order');
    const order = await brand.post<{ id: string }>('/api/orders', {
      product: 'Merino crew sock / 美利奴羊毛中筒袜',
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
    const offer = await waitFor('an offer', async () => {
      for (const [msp, f] of Object.entries(factories)) {
        const offers = await f.get<{ items: { id: string; orderId: string }[] }>('/api/offers?status=open');
        const o = offers.items.find((x) => x.orderId === order.id);
        if (o) return { ...o, msp };
      }
      return undefined;
    });
    factoryMspId = offer.msp;
    log.info({ offerId: offer.id, factory: factoryMspId }, 'demo: factory accepts the offer');
    const accepted = await factories[factoryMspId as keyof typeof factories].post<{ workOrder: { id: string } }>(
      `/api/offers/${offer.id}/accept`,
      {},
    );
    workOrderId = accepted.workOrder.id;
  } else {
    const wos = await brand.get<{ items: { id: string; factoryMspId: string }[] }>('/api/work-orders');
    const wo = wos.items[wos.items.length - 1];
    if (!wo) throw new Error('demo: an order exists but no work order; accept its offer in the factory portal');
    workOrderId = wo.id;
    factoryMspId = wo.factoryMspId;
  }
  const factory = factories[factoryMspId as keyof typeof factories];

  const stateDir = path.join(platform.config.dataDir, 'demo-devices');
  const devices: SimulatedDevice[] = [];
  for (const [deviceId, model, line] of [
    [`${factoryMspId.toLowerCase()}-knit-01`, 'Lonati GK616 knitting machine', 'line-1'],
    [`${factoryMspId.toLowerCase()}-qc-01`, 'Vision QC station', 'line-1'],
  ] as const) {
    const { device, csrPem } = await loadOrCreateDevice(stateDir, deviceId, factoryMspId);
    if (csrPem) {
      log.info({ deviceId }, 'demo: factory registers a device, certifier certifies it');
      await factory.post('/api/devices', { deviceId, model, serial: `SN-${deviceId}`, line, csrPem });
      // The demo holds the device keys (simulated devices), so it answers the certifier's challenge as the device would.
      await certifyWithProof(certifier, deviceId, device.privateKey, { note: 'Demo calibration check passed' });
    }
    devices.push(device);
  }

  const count = options.eventCount ?? 240;
  const { rows } = await platform.pool.query('SELECT COUNT(*)::int AS n FROM device_events WHERE work_order_id = $1', [
    workOrderId,
  ]);
  if (rows[0].n === 0) {
    log.info({ count }, 'demo: devices publish signed production events over MQTT');
    await runSimulator({
      mqttUrl: platform.config.mqttUrl,
      topicRoot: platform.config.mqttTopicRoot,
      devices,
      ratePerSecond: 200,
      count,
      workOrderId,
    });
    for (const d of devices) await saveDevice(stateDir, d);
  }
  await waitFor(
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

  // Demand signals and a first forecast run, so the brand's forecast page has a chart.
  await loadDemandDemo({ baseUrl: options.baseUrl, password: PASSWORD, log });

  let live: NodeJS.Timeout | undefined;
  if (options.live !== false) {
    // One machine keeps reporting, so the portals show the record growing.
    const client = await connectDevicePublisher(platform.config.mqttUrl, `c2m-demo-live-${process.pid}`);
    const device = devices[0] as SimulatedDevice;
    let i = 0;
    live = setInterval(() => {
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
    workOrderId,
    factoryMspId,
    devices: devices.map((d) => d.deviceId),
    stop: () => live && clearInterval(live),
  };
}
