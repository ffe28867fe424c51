#!/usr/bin/env node
// Ingest benchmark: N simulated devices with their own P-256 keys publish
// signed events through a real Mosquitto to a real ingest writing to a real
// PostgreSQL, while the anchorer cuts Merkle batches and anchors them on the
// embedded ledger. Measured in the same run: the machine's raw ES256 verify
// limit on all cores, so ingest can be reported as a fraction of it.
//
//   node bench/ingest/run.mjs [--devices 1000] [--per-device 60] [--connections 8] [--window 200]
//                             [--verify-threads 2] [--batch 1000] [--flush-ms 20] [--anchor-batch 5000]
import { fork, spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '@c2m/services/dist/src/config.js';
import { dropDatabase } from '@c2m/services/dist/src/db/database.js';
import { signDeviceMessage } from '@c2m/services/dist/src/iot/device-message.js';
import { createStaticRegistry } from '@c2m/services/dist/src/iot/device-registry.js';
import { createIngest } from '@c2m/services/dist/src/iot/ingest.js';
import { openPlatform } from '@c2m/services/dist/src/platform.js';
import { Redis } from 'ioredis';
import pino from 'pino';

const { values: opt } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    'per-device': { type: 'string', default: '60' },
    connections: { type: 'string', default: '8' },
    window: { type: 'string', default: '200' },
    'verify-threads': { type: 'string', default: String(os.availableParallelism()) },
    batch: { type: 'string', default: '1000' },
    'flush-ms': { type: 'string', default: '20' },
    'limit-ms': { type: 'string', default: '3000' },
    // The anchorer cuts one batch per factory per tick: its size bounds anchoring throughput.
    'anchor-batch': { type: 'string', default: '5000' },
    // Default: a private Mosquitto configured as in mosquitto.conf.template.
    'mqtt-url': { type: 'string' },
  },
});
const DEVICES = Number(opt.devices);
const PER_DEVICE = Number(opt['per-device']);
const TOTAL = DEVICES * PER_DEVICE;
const THREADS = Number(opt['verify-threads']);
const here = path.dirname(new URL(import.meta.url).pathname);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`${msg}\n`);

/** CPU seconds (user + system, all threads) a process has used, from /proc. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function runWorker(file, data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(here, file), { workerData: data });
    w.on('message', (m) => {
      if (m.kind === 'progress') return;
      resolve(m);
    });
    w.once('error', reject);
  });
}

// 1. Devices and their signed messages (signed before the clock starts).
log(`generating ${DEVICES} device keys and signing ${TOTAL} messages...`);
const id = randomUUID().replaceAll('-', '').slice(0, 10);
const topicRoot = `bench-${id}/c2m/v1`;
const factory = 'Factory1Org';
const devices = [];
for (let i = 0; i < DEVICES; i++) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  devices.push({ deviceId: `bench-${String(i).padStart(5, '0')}`, privateKey, publicKey });
}
const registry = createStaticRegistry(
  devices.map((d) => ({
    deviceId: d.deviceId,
    factoryMspId: factory,
    publicKey: d.publicKey,
    // As the ledger-backed registry has it: the PEM the device was registered with.
    publicKeyPem: d.publicKey.export({ type: 'spki', format: 'pem' }),
    states: [{ from: 0, status: 'CERTIFIED' }],
  })),
);
const messages = [];
const t0 = Date.now() - 60_000;
for (let s = 1; s <= PER_DEVICE; s++) {
  for (let i = 0; i < DEVICES; i++) {
    const d = devices[i];
    const env = signDeviceMessage(
      {
        v: 1,
        deviceId: d.deviceId,
        seq: s,
        time: new Date(t0 + s * 1000).toISOString(),
        type: 'production.count',
        // No work order: the ingest checks a named one against the factory's work orders, which a bench has none of.
        data: { units: 10 + (s % 5), line: 'line-1' },
      },
      d.privateKey,
    );
    messages.push({ lane: i, topic: `${topicRoot}/${factory}/${d.deviceId}/events`, payload: JSON.stringify(env) });
  }
}

// 2. The machine's raw limit: ES256 verifies per second, one thread and one per core,
// measured before and after the ingest run (the machine is shared; the mean is the limit).
const samples = messages.slice(0, 256).map((m) => {
  const env = JSON.parse(m.payload);
  const d = devices[m.lane];
  return { spki: new Uint8Array(d.publicKey.export({ type: 'spki', format: 'der' })), body: env.body, sig: env.sig };
});
const limitMs = Number(opt['limit-ms']);
const cores = os.availableParallelism();
async function rawLimit() {
  log('measuring raw verify rate...');
  const single = await runWorker('verify-limit.mjs', { samples, ms: limitMs });
  const all = await Promise.all(
    Array.from({ length: cores }, () => runWorker('verify-limit.mjs', { samples, ms: limitMs })),
  );
  return { one: (single.n / limitMs) * 1000, all: all.reduce((s, r) => s + (r.n / r.ms) * 1000, 0) };
}
const rawBefore = await rawLimit();

// 3. A private broker (unless --mqtt-url), the platform (PostgreSQL, ledger, anchorer) and an ingest.
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'c2m-bench-'));
let broker;
let mqttUrl = opt['mqtt-url'];
if (!mqttUrl) {
  const port = await new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  const conf = (await readFile(path.join(here, 'mosquitto.conf.template'), 'utf8'))
    .replace('{{port}}', String(port))
    .replace('{{dir}}', dataDir)
    .replace('{{user}}', os.userInfo().username);
  await writeFile(path.join(dataDir, 'mosquitto.conf'), conf);
  broker = spawn('mosquitto', ['-c', path.join(dataDir, 'mosquitto.conf')], { stdio: 'ignore' });
  mqttUrl = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s.end() && true)).on('error', () => resolve(false));
    });
    if (up) break;
    if (i > 100) throw new Error('mosquitto did not start');
    await sleep(50);
  }
}
// The platform (PostgreSQL, ledger, anchorer) and an ingest on the static registry.
const config = loadConfig({
  databaseUrl: `postgres://postgres@127.0.0.1:5432/c2m_bench_${id}`,
  redisPrefix: `c2m-bench-${id}`,
  mqttUrl,
  mqttTopicRoot: topicRoot,
  mqttClientId: `c2m-bench-ingest-${id}`,
  dataDir,
  logLevel: 'warn',
  anchorBatchSize: Number(opt['anchor-batch']),
  // A throwaway database: demo mode gives the platform its service users without a bootstrapped administrator.
  demo: true,
});
const logger = pino({ level: 'warn' });
const platform = await openPlatform(config, { logger, workers: false });
const ingest = createIngest({
  pool: platform.pool,
  registry,
  logger,
  mqttUrl: config.mqttUrl,
  topicRoot,
  clientId: config.mqttClientId,
  maxMessageBytes: config.maxMessageBytes,
  batchSize: Number(opt.batch),
  flushMs: Number(opt['flush-ms']),
  verifyThreads: THREADS,
});
await ingest.start();

let anchoring = true;
const anchorLoop = (async () => {
  while (anchoring) {
    await platform.anchorer.tick().catch((err) => log(`anchor tick failed: ${err.message}`));
    await sleep(Math.max(100, config.anchorIntervalMs / 4));
  }
})();

// 4. Publish; sample the durable count (acknowledged = committed) as it grows.
log(`publishing ${TOTAL} messages from ${DEVICES} devices over ${opt.connections} connections...`);
const timeline = [];
await writeFile(
  path.join(dataDir, 'messages.json'),
  JSON.stringify({
    mqttUrl: config.mqttUrl,
    connections: Number(opt.connections),
    window: Number(opt.window),
    messages,
  }),
);
const cpuBefore = process.cpuUsage();
const brokerCpuBefore = broker ? cpuSeconds(broker.pid) : 0;
const elu = performance.eventLoopUtilization();
const startedAt = performance.now();
const child = fork(path.join(here, 'publisher.mjs'), [path.join(dataDir, 'messages.json')]);
const publisher = new Promise((resolve, reject) => {
  child.on('message', (m) => m.kind === 'done' && resolve({ ...m, cpu: cpuSeconds(child.pid) }));
  child.once('error', reject);
});
let lastPrint = 0;
while (ingest.metrics.accepted + ingest.metrics.duplicates < TOTAL) {
  await sleep(50);
  const now = performance.now() - startedAt;
  timeline.push([now, ingest.metrics.accepted]);
  if (now - lastPrint > 1000) {
    lastPrint = now;
    log(`  ${(now / 1000).toFixed(1)} s: ${ingest.metrics.accepted} durable`);
  }
  if (ingest.metrics.rejected > 0) throw new Error(`unexpected rejections: ${ingest.metrics.rejected}`);
  if (timeline.length > 200 && timeline[timeline.length - 200][1] === ingest.metrics.accepted) {
    throw new Error(`no progress for 10 s at ${ingest.metrics.accepted} of ${TOTAL} durable`);
  }
}
const totalSeconds = (performance.now() - startedAt) / 1000;
const mainBusy = performance.eventLoopUtilization(elu).utilization;
const cpu = process.cpuUsage(cpuBefore);
const ingestCpu = (cpu.user + cpu.system) / 1e6;
const brokerCpu = broker ? cpuSeconds(broker.pid) - brokerCpuBefore : Number.NaN;
const pub = await publisher;
const { rows: backends } = await platform.pool.query(
  'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
);
const pgCpu = backends.reduce((sum, b) => sum + cpuSeconds(b.pid), 0);
// Sustained rate: between 10% and 90% of the run, away from warm-up and tail.
const at = (share) => timeline.find(([, n]) => n >= TOTAL * share);
const [t10, n10] = at(0.1);
const [t90, n90] = at(0.9);
const sustained = ((n90 - n10) / (t90 - t10)) * 1000;

// 5. Wait until every event is anchored, then read the delays from the database.
log('waiting for anchoring...');
for (;;) {
  const { rows } = await platform.pool.query(
    `SELECT (SELECT COUNT(*) FROM device_events WHERE batch_id IS NULL)::int AS unbatched,
            (SELECT COUNT(*) FROM batches WHERE status <> 'anchored')::int AS pending`,
  );
  if (rows[0].unbatched === 0 && rows[0].pending === 0) break;
  await sleep(200);
}
anchoring = false;
await anchorLoop;
const { rows: delay } = await platform.pool.query(
  `SELECT COUNT(DISTINCT b.batch_id)::int AS batches, COUNT(*)::int AS events,
          percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM b.anchored_at - e.received_at)) AS p50,
          percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM b.anchored_at - e.received_at)) AS p95,
          MAX(extract(epoch FROM b.anchored_at - e.received_at)) AS max
   FROM device_events e JOIN batches b ON b.batch_id = e.batch_id`,
);
const d = delay[0];

await ingest.close();
await platform.close();
await dropDatabase(config.databaseUrl);
const redis = new Redis(config.redisUrl);
const keys = await redis.keys(`${config.redisPrefix}:*`);
if (keys.length > 0) await redis.del(...keys);
redis.disconnect();
broker?.kill('SIGTERM');
await rm(dataDir, { recursive: true, force: true });

const rawAfter = await rawLimit();
const rawOne = (rawBefore.one + rawAfter.one) / 2;
const rawAll = (rawBefore.all + rawAfter.all) / 2;
const m = ingest.metrics;
const us = (seconds) => `${Math.round((seconds / m.accepted) * 1e6)}`;
const rows = [
  ['devices', DEVICES],
  ['events published (QoS 1)', TOTAL],
  ['events durable in PostgreSQL', m.accepted],
  ['publish rate, broker-acked (events/s)', Math.round(TOTAL / pub.seconds)],
  ['ingest sustained, publish to durable (events/s)', Math.round(sustained)],
  ['ingest whole run incl. warm-up and tail (events/s)', Math.round(m.accepted / totalSeconds)],
  ['raw ES256 verify, 1 thread (verifies/s)', Math.round(rawOne)],
  [
    `raw ES256 verify, ${cores} threads (verifies/s, before / after)`,
    `${Math.round(rawAll)} (${Math.round(rawBefore.all)} / ${Math.round(rawAfter.all)})`,
  ],
  ['ingest sustained / raw limit on all cores', `${((sustained / rawAll) * 100).toFixed(1)} %`],
  ['ingest batches written', m.flushes],
  ['checking / writing wall time (s)', `${(m.classifyMs / 1000).toFixed(1)} / ${(m.writeMs / 1000).toFixed(1)}`],
  ['CPU per event, bench process: ingest main + verify threads + anchorer (us)', us(ingestCpu)],
  ['  of which ES256 verify at the raw 1-thread rate (us)', Math.round(1e6 / rawOne)],
  ['ingest main thread busy (share of wall time)', `${(mainBusy * 100).toFixed(0)} %`],
  ['CPU per event, Mosquitto (us)', us(brokerCpu)],
  ['CPU per event, PostgreSQL backends of the ingest (us, approx.)', us(pgCpu)],
  ['CPU per event, publisher process (us)', us(pub.cpu)],
  ['Merkle batches anchored', d.batches],
  [
    'delay durable to anchored p50 / p95 / max (s)',
    `${(+d.p50).toFixed(2)} / ${(+d.p95).toFixed(2)} / ${(+d.max).toFixed(2)}`,
  ],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`\ningest benchmark (${new Date().toISOString()}, load average ${os.loadavg()[0].toFixed(2)})`);
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
process.exit(0);
