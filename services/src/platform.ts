import { readFile } from 'node:fs/promises';
import type { IdentityStore } from '@c2m/identity';
import { type Ledger, LedgerEvents } from '@c2m/shared';
import { Redis } from 'ioredis';
import type pg from 'pg';
import pino, { type Logger } from 'pino';
import { openAuth } from './auth/open-auth.js';
import type { Config } from './config.js';
import { createPool, ensureDatabase, migrate } from './db/database.js';
import { createDemandService } from './demand/demand-service.js';
import { createForecastPool } from './demand/forecast-pool.js';
import { createForecastRuns } from './demand/forecast-runs.js';
import { canonicalUri } from './epcis/canonical.js';
import { createEpcisCapture } from './epcis/capture.js';
import { createConsumerView } from './epcis/consumer.js';
import { deriveFromDeviceEvents } from './epcis/from-device.js';
import { createIdentityService } from './epcis/identity-service.js';
import { createLogisticsFollower } from './epcis/logistics.js';
import { createRecalls } from './epcis/recalls.js';
import { identityEventSigner } from './epcis/signer.js';
import { createTraceGraph } from './epcis/trace-graph.js';
import { createDeviceBulk } from './iot/device-bulk.js';
import { DeviceMessageRejections } from './iot/device-message.js';
import { createDeviceRegistry } from './iot/device-registry.js';
import { createDevicesService } from './iot/devices-service.js';
import { createIngest, type Ingest } from './iot/ingest.js';
import { IngestCounters } from './iot/ingest-writer.js';
import { createSchedulerKeeper } from './job-schedulers.js';
import type { LedgerAccess } from './ledger/ledger-access.js';
import { createLedgerAccess } from './ledger/ledger-access-impl.js';
import { loadFabricConnection, openLedger, openPlatformIdentity } from './ledger/open-ledger.js';
import { createLedgerOutbox } from './ledger/outbox.js';
import { createLedgerProjection } from './ledger/projection.js';
import { createDispatcher } from './orders/dispatch.js';
import { createFactoriesService } from './orders/factories-service.js';
import { createMilestones } from './orders/milestones.js';
import { createOrdersService } from './orders/orders-service.js';
import { redisConnection } from './queues.js';
import { createAnchorer } from './trace/anchorer.js';
import { createTraceService } from './trace/trace-service.js';
import { closeVerifyPool } from './trace/verify-pool.js';

/** The platform's service user: anchors batches and reads device records for proofs. */
export const PLATFORM_USER = 'platform';

export interface PlatformOptions {
  readonly logger?: Logger;
  /** Start queue workers and the MQTT ingest in this process (default true). */
  readonly workers?: boolean;
}

/**
 * Opens every part of the platform in one process: PostgreSQL (database created
 * and migrated), identities, the ledger, the queues and their workers, and the
 * MQTT ingest. Each bounded context is a service object; the HTTP app and the
 * tests use the same ones.
 */
export async function openPlatform(config: Config, options: PlatformOptions = {}) {
  const logger = options.logger ?? createLogger(config.logLevel);
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch((err) => logger.warn({ err }, 'close failed'));
  };
  try {
    await ensureDatabase(config.databaseUrl);
    await migrate(config.databaseUrl, (msg) => logger.debug(msg));
    const pool: pg.Pool = createPool(config.databaseUrl);
    // An idle pooled connection can fail (the server restarted, a connection was killed); pg then emits 'error'
    // on the pool, which would end the process if nobody listened. The pool replaces the connection.
    pool.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'));
    closers.push(() => pool.end());

    // On Fabric the identity store adopts the network's org CAs from the settings, so it opens after them and
    // before the ledger, whose submissions it signs.
    const fabric = await loadFabricConnection(config);
    const identity: IdentityStore = await openPlatformIdentity(config, fabric, logger);
    // Logins: demo users only in demo mode, else a bootstrapped administrator (auth/bootstrap.ts).
    const auth = await openAuth({ config, pool, identity, logger });
    closers.push(() => auth.close());
    const ledger: Ledger = await openLedger(config, identity, logger, fabric);
    closers.push(() => ledger.close());
    const ledgerAccess: LedgerAccess = await createLedgerAccess(ledger, identity, PLATFORM_USER);
    // Read models of committed ledger records in PostgreSQL, fed from the last checkpoint (started with the workers).
    const projection = createLedgerProjection({ pool, ledger, logger });
    closers.push(() => projection.close());

    const connection = redisConnection(config.redisUrl);
    const prefix = config.redisPrefix;
    const registry = createDeviceRegistry(ledgerAccess, PLATFORM_USER);
    // Redis restarted without its data takes the job schedulers with it, and every dispatch request queued there.
    let dispatcherRef: ReturnType<typeof createDispatcher> | undefined;
    const schedulers = createSchedulerKeeper({
      logger,
      onReset: async () => dispatcherRef?.retryWaiting('redis-reset'),
    });
    closers.push(() => schedulers.close());
    const outbox = createLedgerOutbox({ pool, ledger: ledgerAccess, connection, prefix, logger, schedulers });
    closers.push(() => outbox.close());
    let ordersRef: ReturnType<typeof createOrdersService> | undefined;
    const factoryMspIds = () =>
      identity
        .orgs()
        .filter((o) => o.kind === 'factory')
        .map((o) => o.mspId);
    const factories = createFactoriesService({ pool, factories: factoryMspIds });
    await factories.seedDemoProfiles();
    const dispatcher = createDispatcher({
      factoryProfiles: factories,
      horizonWeeks: config.dispatchHorizonWeeks,
      pool,
      connection,
      prefix,
      logger,
      offerTtlMs: config.offerTtlMs,
      factories: () =>
        identity
          .orgs()
          .filter((o) => o.kind === 'factory')
          .map((o) => o.mspId),
      orders: () => ordersRef as ReturnType<typeof createOrdersService>,
    });
    closers.push(() => dispatcher.close());
    dispatcherRef = dispatcher;
    const orders = createOrdersService({
      pool,
      requestDispatch: (orderId, reason) => dispatcher.request(orderId, reason),
      commitToLedger: (id) => outbox.processEntry(id),
    });
    ordersRef = orders;
    const milestones = createMilestones({ pool, ledger: ledgerAccess });
    const gs1 = createIdentityService({ pool });
    const logistics = createLogisticsFollower({ pool, logger, record: milestones.record });
    const traceGraph = createTraceGraph({ pool });
    const recalls = createRecalls({ pool, traceGraph, ledger: ledgerAccess, readerUser: PLATFORM_USER });
    const consumer = createConsumerView({
      pool,
      traceGraph,
      recalls,
      orgName: (mspId) => identity.orgs().find((o) => o.mspId === mspId)?.names,
    });
    // Events derived from device messages are the platform's statement: signed by its service identity.
    const platformSigner = identityEventSigner(identity.userIdentity(PLATFORM_USER), PLATFORM_USER);
    const demand = createDemandService({ pool });
    const forecastPool = createForecastPool();
    closers.push(() => forecastPool.close());
    const forecastRuns = createForecastRuns({
      pool,
      forecasts: forecastPool,
      connection,
      prefix,
      logger,
      createOrder: orders.createOrder,
      schedulers,
    });
    closers.push(() => forecastRuns.close());
    const devices = createDevicesService({
      pool,
      ledger: ledgerAccess,
      registry,
      issueCertificate: (mspId, csrPem, deviceId) => identity.issueDeviceCertificate(mspId, csrPem, { deviceId }),
    });
    const deviceBulk = createDeviceBulk({
      pool,
      ledger: ledgerAccess,
      devices,
      issueCertificate: (mspId, csrPem, deviceId) => identity.issueDeviceCertificate(mspId, csrPem, { deviceId }),
      connection,
      prefix,
      logger,
    });
    closers.push(() => deviceBulk.close());
    const trace = createTraceService({
      pool,
      ledger: ledgerAccess,
      rawLedger: ledger,
      readerUser: PLATFORM_USER,
      caCertificates: () => identity.caCertificates(),
    });
    closers.push(() => closeVerifyPool());
    const anchorer = createAnchorer({
      pool,
      ledger: ledgerAccess,
      anchorUser: PLATFORM_USER,
      connection,
      prefix,
      logger,
      batchSize: config.anchorBatchSize,
      intervalMs: config.anchorIntervalMs,
      schedulers,
      afterTick: [() => logistics.tick()],
      derive: (client, rows) => deriveFromDeviceEvents(client, rows, platformSigner, canonicalUri),
    });
    closers.push(() => anchorer.close());
    // EPCIS capture jobs (epcis/capture.ts): accepted by the route, stored by this worker.
    const epcisCapture = createEpcisCapture({ pool, identity, connection, prefix, logger, schedulers });
    closers.push(() => epcisCapture.close());
    const ingest = createIngest({
      pool,
      registry,
      logger,
      mqttUrl: config.mqttUrl,
      topicRoot: config.mqttTopicRoot,
      clientId: config.mqttClientId,
      maxMessageBytes: config.maxMessageBytes,
      reorderWindow: config.ingestReorderWindow,
      maxSeqGap: config.ingestMaxSeqGap,
      maxPastSkewMs: config.ingestMaxPastSkewMs,
      maxFutureSkewMs: config.ingestMaxFutureSkewMs,
      tls: await readTls(config.mqttTls),
    });
    // A connection used only to ping Redis for readiness.
    const probe = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    closers.push(async () => probe.disconnect());

    if (options.workers !== false) {
      dispatcher.start();
      await forecastRuns.start();
      deviceBulk.start();
      await outbox.start();
      await anchorer.start();
      await epcisCapture.start();
      await ingest.start();
      await projection.start();
      await schedulers.check();
      schedulers.start();
      closers.push(() => ingest.close());
      // Device changes on the ledger (from any process or org) drop cached keys and certification states.
      const height = await ledger.height();
      const listener = await ledger.listen({ blockNumber: height }, (event) => {
        if (
          event.eventName === LedgerEvents.deviceCertified ||
          event.eventName === LedgerEvents.deviceStatusChanged ||
          event.eventName === LedgerEvents.deviceRegistered
        ) {
          try {
            const { deviceId } = JSON.parse(Buffer.from(event.payload).toString()) as { deviceId?: string };
            if (deviceId) registry.invalidate(deviceId);
            // A newly certified device can open a line's capacity to orders waiting for a factory.
            if (event.eventName === LedgerEvents.deviceCertified) {
              dispatcher.retryWaiting('certified').catch((err) => logger.warn({ err }, 'dispatch retry failed'));
            }
          } catch {
            registry.clear();
          }
        }
      });
      closers.push(async () => listener.close());
    }

    async function readiness(): Promise<Record<string, { ok: boolean; detail: string }>> {
      const check = async (fn: () => Promise<string>) => {
        try {
          return { ok: true, detail: await fn() };
        } catch (err) {
          return { ok: false, detail: (err as Error).message };
        }
      };
      return {
        postgres: await check(async () => {
          await pool.query('SELECT 1');
          return 'ok';
        }),
        redis: await check(async () => {
          if (probe.status === 'wait') await probe.connect();
          return await probe.ping();
        }),
        mqtt: await check(async () => {
          if (options.workers !== false && !ingest.connected()) throw new Error('ingest not connected to the broker');
          return options.workers === false ? 'ingest not in this process' : 'connected';
        }),
        schedulers: schedulers.status(),
        ingest: options.workers === false ? { ok: true, detail: 'ingest not in this process' } : ingest.status(),
        ledger: await check(async () => `${ledger.kind}, height ${await ledger.height()}`),
      };
    }

    return {
      config,
      logger,
      pool,
      identity,
      auth,
      ledger,
      ledgerAccess,
      orders,
      milestones,
      gs1,
      logistics,
      traceGraph,
      recalls,
      consumer,
      factories,
      demand,
      forecastRuns,
      devices,
      deviceBulk,
      trace,
      dispatcher,
      outbox,
      anchorer,
      epcisCapture,
      ingest,
      registry,
      projection,
      schedulers,
      readiness,
      metrics: () => readMetrics(pool, ingest),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export type Platform = Awaited<ReturnType<typeof openPlatform>>;

/**
 * JSON lines in production and wherever output is not a terminal (log shippers read them); readable, coloured
 * lines for a person at a terminal in development (pino-pretty). LOG_FORMAT=json|pretty overrides.
 */
export function createLogger(level: string): Logger {
  const format =
    process.env.LOG_FORMAT ??
    (process.env.NODE_ENV !== 'production' && process.env.NODE_ENV !== 'test' && process.stdout.isTTY
      ? 'pretty'
      : 'json');
  if (format === 'pretty') {
    return pino({
      level,
      base: { service: 'c2m' },
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' },
      },
    });
  }
  return pino({ level, base: { service: 'c2m' } });
}

/**
 * Prometheus samples. Counters that must survive restarts and add up across
 * ingest processes come from the database (`ingest_counters`, written in the
 * same transaction as the events); the rest are this process's own.
 */
async function readMetrics(pool: pg.Pool, ingest: Ingest): Promise<MetricFamily[]> {
  const { rows } = await pool.query('SELECT name, label, value FROM ingest_counters');
  const value = (name: string, label = '') =>
    Number(rows.find((r) => r.name === name && r.label === label)?.value ?? 0);
  const rejected = Object.values(DeviceMessageRejections).map((reason) => ({
    labels: { reason },
    value: value(IngestCounters.rejected, reason),
  }));
  return [
    {
      name: 'c2m_ingest_accepted_total',
      type: 'counter',
      help: 'Device messages stored',
      samples: [{ value: value(IngestCounters.accepted) }],
    },
    {
      name: 'c2m_ingest_duplicates_total',
      type: 'counter',
      help: 'Redeliveries of stored messages, acknowledged again',
      samples: [{ value: value(IngestCounters.duplicates) }],
    },
    {
      name: 'c2m_ingest_rejected_total',
      type: 'counter',
      help: 'Device messages dead-lettered, by reason',
      samples: rejected,
    },
    {
      name: 'c2m_ingest_received_total',
      type: 'counter',
      help: 'Messages this process received from the broker',
      samples: [{ value: ingest.metrics.received }],
    },
    {
      name: 'c2m_ingest_write_failures_total',
      type: 'counter',
      help: 'Batch writes this process had to retry',
      samples: [{ value: ingest.metrics.flushFailures }],
    },
    {
      name: 'c2m_ingest_deferred_total',
      type: 'counter',
      help: 'Messages set aside because their device record did not load',
      samples: [{ value: ingest.metrics.deferred }],
    },
    {
      name: 'c2m_ingest_healthy',
      type: 'gauge',
      help: '1 while the ingest writes, 0 while writes keep failing',
      samples: [{ value: ingest.healthy() ? 1 : 0 }],
    },
  ];
}

export interface MetricFamily {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly samples: readonly { readonly labels?: Readonly<Record<string, string>>; readonly value: number }[];
}

/** Reads the ingest's TLS files named by the configuration; none named means a plain or system-trusted broker. */
async function readTls(files: Config['mqttTls']): Promise<{ ca?: string; cert?: string; key?: string } | undefined> {
  if (!files.caFile && !files.certFile && !files.keyFile) return undefined;
  const read = (f?: string) => (f ? readFile(f, 'utf8') : Promise.resolve(undefined));
  const [ca, cert, key] = await Promise.all([read(files.caFile), read(files.certFile), read(files.keyFile)]);
  return { ca, cert, key };
}
