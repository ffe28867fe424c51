#!/usr/bin/env node
// Fault suite for the device-message pipeline: signed messages from certified devices go through a real
// Mosquitto to the platform (a child process: `services/dist/src/server.js`) on a real PostgreSQL, Redis and
// the embedded ledger, with poison messages mixed in, while one fault strikes mid-run:
//
//   poison          no fault: poison messages only
//   platform-kill   kill -9 of the platform process, then a restart
//   redis-restart   kill -9 of a private Redis without persistence, restarted empty
//   broker-kill     kill -9 of a private Mosquitto (persistence as in production: autosave every 60 s), restarted
//   broker-kill-no-confirm   the same, with devices that trust the broker's PUBACK (the baseline: what it lost)
//
// For each it prints published / confirmed / stored / anchored / duplicates / lost, and checks that every
// valid message was stored exactly once (same device, seq and signature) and anchored, and that every poison
// message was dead-lettered. Exits 1 if any scenario with confirmations lost or doubled anything.
//
//   node bench/fault/run.mjs [--valid 20000] [--devices 20] [--rate 2000] [--poison-every 40]
//                            [--scenarios poison,platform-kill,redis-restart,broker-kill,broker-kill-no-confirm]
import { spawn } from 'node:child_process';
import { randomUUID, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dropDatabase } from '@c2m/services/dist/src/db/database.js';
import { createDeviceOutbox } from '@c2m/services/dist/src/iot/confirmations.js';
import { signPossessionChallenge } from '@c2m/services/dist/src/iot/possession.js';
import { loadOrCreateDevice, nextMessage } from '@c2m/services/dist/src/iot/simulator.js';
import { canonicalJson } from '@c2m/shared';
import mqtt from 'mqtt';
import pg from 'pg';

const { values: opt } = parseArgs({
  options: {
    valid: { type: 'string', default: '20000' },
    devices: { type: 'string', default: '20' },
    rate: { type: 'string', default: '2000' },
    'poison-every': { type: 'string', default: '40' },
    scenarios: { type: 'string', default: 'poison,platform-kill,redis-restart,broker-kill,broker-kill-no-confirm' },
    'timeout-s': { type: 'string', default: '300' },
  },
});
const VALID = Number(opt.valid);
const DEVICES = Number(opt.devices);
const RATE = Number(opt.rate);
const POISON_EVERY = Number(opt['poison-every']);
const TIMEOUT_MS = Number(opt['timeout-s']) * 1000;
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

async function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
}
async function waitPort(port, up = true, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s.end() && true)).on('error', () => resolve(false));
    });
    if (open === up) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not ${up ? 'open' : 'close'}`);
    await sleep(50);
  }
}

/** A server process of our own that can be killed with SIGKILL and started again on the same port. */
function managed(name, command, args, port, env = {}, startTimeoutMs = 15_000) {
  let child;
  return {
    port,
    async start() {
      child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
      let err = '';
      child.stderr.on('data', (d) => {
        err = (err + d).slice(-4000);
      });
      child.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL' && signal !== 'SIGTERM' && code !== 0) log(`${name} exited ${code}: ${err}`);
      });
      await waitPort(port, true, startTimeoutMs);
    },
    async kill9() {
      const c = child;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
      await waitPort(port, false);
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const id = randomUUID().replaceAll('-', '').slice(0, 10);
const dir = await mkdtemp(path.join(os.tmpdir(), 'c2m-fault-'));
const [brokerPort, redisPort, httpPort] = [await freePort(), await freePort(), await freePort()];
const mosquittoConf = path.join(dir, 'mosquitto.conf');
await writeFile(
  mosquittoConf,
  [
    `listener ${brokerPort} 127.0.0.1`,
    'allow_anonymous true',
    `user ${os.userInfo().username}`,
    // As services/mosquitto/mosquitto.conf: the store is saved every 60 s, so a kill -9 loses what came since.
    'persistence true',
    `persistence_location ${dir}/`,
    'autosave_interval 60',
    'max_queued_messages 0',
    '',
  ].join('\n'),
);
const broker = managed('mosquitto', 'mosquitto', ['-c', mosquittoConf], brokerPort);
const redis = managed(
  'redis',
  'redis-server',
  ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
  redisPort,
);
const databaseUrl = `postgres://postgres@127.0.0.1:5432/c2m_fault_${id}`;
// Not demo mode: the platform starts as in production, with a bootstrapped administrator who creates the users.
const secret = () => randomUUID().replaceAll('-', '');
const adminPassword = `Fault-${secret()}`;
const metricsToken = secret();
const operator = { headers: { authorization: `Bearer ${metricsToken}` } };
const users = { factory: `f1-ops-${id}`, certifier: `cert-${id}` };
const userPassword = `Fault-${secret()}`;
const topicRoot = `fault-${id}/c2m/v1`;
const platformEnv = {
  PORT: String(httpPort),
  HOST: '127.0.0.1',
  DATABASE_URL: databaseUrl,
  REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  REDIS_PREFIX: `c2m-fault-${id}`,
  MQTT_URL: `mqtt://127.0.0.1:${brokerPort}`,
  MQTT_TOPIC_ROOT: topicRoot,
  MQTT_CLIENT_ID: `c2m-fault-ingest-${id}`,
  DATA_DIR: path.join(dir, 'data'),
  ANCHOR_BATCH_SIZE: '1000',
  ANCHOR_INTERVAL_MS: '1000',
  LOG_LEVEL: 'error',
  NODE_ENV: 'production',
  C2M_ADMIN_USER: 'fault-admin',
  C2M_ADMIN_PASSWORD: adminPassword,
  METRICS_TOKEN: metricsToken,
};
// The platform opens PostgreSQL, its CAs and the ledger before it listens: allow it two minutes.
const platform = managed(
  'platform',
  process.execPath,
  [path.join(repo, 'services/dist/src/server.js')],
  httpPort,
  platformEnv,
  120_000,
);
const base = `http://127.0.0.1:${httpPort}`;
const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });

async function http(method, url, body, token) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
async function ready(timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${base}/ready`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`platform not ready: ${res ? JSON.stringify(await res.json()) : 'no answer'}`);
    await sleep(250);
  }
}
const login = async (username, password) => (await http('POST', '/api/auth/login', { username, password })).token;
let created = false;
/** The administrator creates a factory manager of Factory1Org and a certifier of PlatformOrg, once. */
async function signIn() {
  if (!created) {
    const admin = await login('fault-admin', adminPassword);
    for (const [username, mspId, role] of [
      [users.factory, 'Factory1Org', 'factory-manager'],
      [users.certifier, 'PlatformOrg', 'certifier'],
    ]) {
      await http('POST', '/api/users', { username, mspId, role, displayName: username, password: userPassword }, admin);
    }
    created = true;
  }
  // Access tokens are short-lived: sign in again for each scenario.
  return { factory: await login(users.factory, userPassword), certifier: await login(users.certifier, userPassword) };
}

/** Registers and certifies devices through the API, as a factory and the certifier do. */
async function provision(names) {
  const { factory, certifier } = await signIn();
  const out = [];
  for (const name of names) {
    const { device, csrPem } = await loadOrCreateDevice(path.join(dir, 'devices'), name, 'Factory1Org');
    await http(
      'POST',
      '/api/devices',
      { deviceId: name, model: 'Lonati GK616', serial: `SN-${name}`, line: 'line-1', csrPem },
      factory,
    );
    const c = await http('POST', `/api/devices/${name}/challenges`, {}, certifier);
    await http(
      'POST',
      `/api/devices/${name}/certify`,
      {
        challengeId: c.challengeId,
        signature: signPossessionChallenge(device.privateKey, name, c.challenge),
        note: 'fault suite',
      },
      certifier,
    );
    out.push(device);
  }
  return out;
}

/** Poison of every kind the ingest has met: unsigned bytes, and bodies a device signed that break the rules. */
function poisonFor(device, i) {
  const signed = (body) =>
    JSON.stringify({
      body,
      sig: sign('sha256', Buffer.from(body), { key: device.privateKey, dsaEncoding: 'ieee-p1363' }).toString(
        'base64url',
      ),
    });
  const body = (over) =>
    canonicalJson({
      v: 1,
      deviceId: device.deviceId,
      seq: 1_000 + i,
      time: new Date().toISOString(),
      type: 'production.count',
      data: { units: 1 },
      ...over,
    });
  const kinds = [
    () => Buffer.from(`{"body":"x\u0000","sig":"y"}`),
    () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    () => `{"body":${JSON.stringify(`{"data":${'['.repeat(5000)}${']'.repeat(5000)}}`)},"sig":"${'A'.repeat(86)}"}`,
    () => signed(body({ time: new Date().toString() })),
    () => signed(body({ data: { units: 'abc' } })),
    () => signed(body({ data: { units: 1, note: 'a\u0000b' } })),
    () => signed(body({ seq: Number.MAX_SAFE_INTEGER })),
    () => signed(body({ time: '1970-01-01T00:00:00.000Z' })),
    () => Buffer.from(Array.from({ length: 200 }, (_, k) => (i * 31 + k * 17) % 256)),
  ];
  return kinds[i % kinds.length]();
}

async function counts(deviceIds) {
  const { rows } = await db.query(
    `SELECT COUNT(*)::int AS stored,
            COUNT(*) FILTER (WHERE b.status = 'anchored')::int AS anchored
     FROM device_events e LEFT JOIN batches b ON b.batch_id = e.batch_id WHERE e.device_id = ANY($1)`,
    [deviceIds],
  );
  return rows[0];
}
async function counter(name) {
  const { rows } = await db.query(`SELECT COALESCE(SUM(value), 0)::int AS n FROM ingest_counters WHERE name = $1`, [
    name,
  ]);
  return rows[0].n;
}

async function runScenario(name) {
  const confirm = name !== 'broker-kill-no-confirm';
  // One sign-in per scenario: logins are rate-limited per client (30 a minute by default).
  const provisioned = await provision([
    ...Array.from({ length: DEVICES }, (_, i) => `${name}-d${i}`),
    `${name}-poison`,
  ]);
  const poisoner = provisioned.pop();
  const devices = provisioned;
  const ids = devices.map((d) => d.deviceId);
  const dupBefore = await counter('ingest_duplicates');
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, {
    clientId: `fault-dev-${name}-${id}`,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 1000,
  });
  client.on('error', () => {});
  const outbox = confirm ? createDeviceOutbox(client, { resendAfterMs: 3000, capacity: 4000 }) : undefined;
  const sent = new Map();
  let pubacked = 0;
  let poison = 0;
  const started = Date.now();
  const faultAt = Math.floor(VALID * 0.4);
  let faultDone = Promise.resolve();
  const interval = 1000 / RATE;
  for (let i = 0; i < VALID; i++) {
    const d = devices[i % devices.length];
    const env = nextMessage(d, 'production.count', { units: 1 + (i % 7) });
    const payload = JSON.stringify(env);
    sent.set(`${d.deviceId}/${d.seq}`, env.sig);
    const topic = `${topicRoot}/Factory1Org/${d.deviceId}/events`;
    if (outbox) await outbox.send(topic, d.deviceId, d.seq, payload, env.sig);
    else
      client
        .publishAsync(topic, payload, { qos: 1 })
        .then(() => pubacked++)
        .catch(() => {});
    if (i % POISON_EVERY === POISON_EVERY - 1) {
      poison++;
      client
        .publishAsync(`${topicRoot}/Factory1Org/${poisoner.deviceId}/events`, poisonFor(poisoner, poison), { qos: 1 })
        .catch(() => {});
    }
    if (i === faultAt) faultDone = strike(name);
    if (i % 2000 === 0 && i > 0)
      log(`${name}: ${i}/${VALID} published${outbox ? `, ${outbox.unconfirmed()} unconfirmed` : ''}`);
    const wait = started + (i + 1) * interval - Date.now();
    if (wait > 0) await sleep(wait);
  }
  await faultDone;
  const publishSeconds = (Date.now() - started) / 1000;
  let unconfirmed = 0;
  if (outbox) {
    unconfirmed = await outbox.settle(TIMEOUT_MS);
    outbox.close();
  } else await sleep(15_000);
  // Everything stored must also be anchored: wait for the anchorer.
  const deadline = Date.now() + TIMEOUT_MS;
  let c = await counts(ids);
  let lastLog = 0;
  while ((c.anchored < c.stored || (confirm && c.stored < VALID)) && Date.now() < deadline) {
    if (Date.now() - lastLog > 5000) {
      const m = await fetch(`${base}/metrics`, operator)
        .then((r) => r.text())
        .catch(() => '');
      const received = /^c2m_ingest_received_total (\d+)/m.exec(m)?.[1];
      const ready = await fetch(`${base}/ready`, operator)
        .then((r) => r.json())
        .catch(() => ({}));
      log(
        `${name}: stored ${c.stored}, anchored ${c.anchored} of ${VALID}; ingest received ${received}; ${outbox ? `${outbox.unconfirmed()} unconfirmed, ` : ''}ready ${JSON.stringify(ready.status)}`,
      );
      lastLog = Date.now();
    }
    await sleep(500);
    c = await counts(ids);
  }
  await client.endAsync(true);
  const { rows } = await db.query('SELECT device_id, seq, signature FROM device_events WHERE device_id = ANY($1)', [
    ids,
  ]);
  let matched = 0;
  let extra = 0;
  for (const r of rows) {
    if (sent.get(`${r.device_id}/${r.seq}`) === r.signature) matched++;
    else extra++;
  }
  const dl = await db.query(`SELECT COUNT(*)::int AS n FROM dead_letters WHERE device_id = $1`, [poisoner.deviceId]);
  const refusedValid = await db.query(`SELECT COUNT(*)::int AS n FROM dead_letters WHERE device_id = ANY($1)`, [ids]);
  return {
    scenario: name,
    published: VALID,
    acknowledged: outbox ? outbox.figures.stored + outbox.figures.duplicate : pubacked,
    ackKind: outbox ? 'platform' : 'broker',
    resent: outbox?.figures.resent ?? 0,
    unconfirmed,
    stored: c.stored,
    anchored: c.anchored,
    matched,
    extra,
    lost: VALID - matched,
    duplicates: (await counter('ingest_duplicates')) - dupBefore,
    poison,
    poisonDeadLettered: dl.rows[0].n,
    validRefused: refusedValid.rows[0].n,
    seconds: Math.round(publishSeconds),
  };
}

async function strike(name) {
  if (name === 'platform-kill') {
    log('fault: kill -9 of the platform');
    await platform.kill9();
    await sleep(1000);
    await platform.start();
    await ready();
    log('platform restarted and ready');
  } else if (name === 'redis-restart') {
    log('fault: kill -9 of Redis (no persistence), restarted empty');
    await redis.kill9();
    await sleep(1000);
    await redis.start();
  } else if (name.startsWith('broker-kill')) {
    log('fault: kill -9 of Mosquitto');
    await broker.kill9();
    await sleep(1000);
    await broker.start();
  }
}

const results = [];
let failed = false;
try {
  await broker.start();
  await redis.start();
  await platform.start();
  await ready();
  for (const name of opt.scenarios.split(',')) {
    log(`scenario ${name}: ${VALID} valid messages from ${DEVICES} devices at ${RATE}/s, poison every ${POISON_EVERY}`);
    const r = await runScenario(name);
    results.push(r);
    const ok =
      r.lost === 0 &&
      r.extra === 0 &&
      r.anchored === r.stored &&
      r.poisonDeadLettered >= r.poison &&
      r.validRefused === 0;
    if (!ok && r.ackKind === 'platform') failed = true;
    log(
      `scenario ${name}: ${ok ? 'every valid message stored and anchored exactly once' : 'NOT CLEAN'} ${JSON.stringify(r)}`,
    );
  }
} finally {
  await platform.stop().catch(() => {});
  await redis.stop().catch(() => {});
  await broker.stop().catch(() => {});
  await db.end();
  await dropDatabase(databaseUrl).catch(() => {});
  await rm(dir, { recursive: true, force: true });
}

const cols = [
  ['scenario', 'scenario'],
  ['published', 'published'],
  ['acknowledged', 'acknowledged'],
  ['ack by', 'ackKind'],
  ['resent', 'resent'],
  ['stored', 'stored'],
  ['anchored', 'anchored'],
  ['duplicates', 'duplicates'],
  ['lost', 'lost'],
  ['extra', 'extra'],
  ['poison', 'poison'],
  ['poison dead-lettered', 'poisonDeadLettered'],
  ['valid refused', 'validRefused'],
  ['publish s', 'seconds'],
];
console.log(`\n| ${cols.map((c) => c[0]).join(' | ')} |`);
console.log(`|${cols.map(() => '---').join('|')}|`);
for (const r of results) console.log(`| ${cols.map((c) => r[c[1]]).join(' | ')} |`);
console.log(
  '\n"acknowledged": by the platform (end-to-end confirmation: durable in PostgreSQL) or, in the baseline, by the broker (PUBACK);' +
    ' "duplicates": redeliveries the ingest recognised and acknowledged again without storing; "lost": valid messages not stored;' +
    ' "extra": stored rows that match no sent message.',
);
process.exit(failed ? 1 : 0);
