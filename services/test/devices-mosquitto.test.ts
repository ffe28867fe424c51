import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createDeviceCsr,
  demoConsortium,
  generateDeviceKeyPair,
  type IdentityStore,
  openIdentityStore,
} from '@c2m/identity';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pg from 'pg';
import pino from 'pino';
import { type BrokerMaterial, MOSQUITTO_CONFIG_DIR, writeBrokerMaterial } from '../src/iot/broker-material.js';
import { createStaticRegistry } from '../src/iot/device-registry.js';
import { createIngest } from '../src/iot/ingest.js';

const hasMosquitto = spawnSync('mosquitto', ['-h']).error === undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The repository's production Mosquitto configuration (services/mosquitto/),
 * run by a real `mosquitto` on its own ports with certificates from an
 * identity store: mutual TLS, identity as username, and the ACL that binds a
 * device to its own topic.
 */
describe('production Mosquitto configuration', { skip: !hasMosquitto && 'mosquitto not installed' }, () => {
  let dir: string;
  let identity: IdentityStore;
  let material: BrokerMaterial;
  let broker: ChildProcess;
  let brokerLog = '';
  let devicePort: number;
  let servicePort: number;
  const clients: MqttClient[] = [];
  const devices: Record<string, { key: string; cert: string }> = {};

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'c2m-mosquitto-'));
    identity = await openIdentityStore({
      dataDir: path.join(dir, 'identity'),
      consortium: demoConsortium.filter((o) => o.mspId === 'PlatformOrg' || o.mspId === 'Factory1Org'),
    });
    material = await writeBrokerMaterial(identity, path.join(dir, 'c2m'));
    for (const deviceId of ['press-01', 'press-02']) {
      const keys = generateDeviceKeyPair();
      const csr = await createDeviceCsr(keys.privateKey, keys.publicKey, { deviceId, mspId: 'Factory1Org' });
      devices[deviceId] = {
        key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        cert: await identity.issueDeviceCertificate('Factory1Org', csr, { deviceId }),
      };
    }
    devicePort = await freePort();
    servicePort = await freePort();
    // The repository file, with only paths and ports moved into the test's own directory.
    const conf = (await readFile(path.join(MOSQUITTO_CONFIG_DIR, 'mosquitto.conf'), 'utf8'))
      .replaceAll('/etc/mosquitto/c2m/', `${material.dir}/`)
      .replaceAll('/var/lib/mosquitto/', `${path.join(dir, 'data')}/`)
      .replace(/^listener 8883$/m, `listener ${devicePort} 127.0.0.1`)
      .replace(/^listener 8884$/m, `listener ${servicePort} 127.0.0.1`);
    assert.ok(conf.includes(`listener ${devicePort}`) && conf.includes(`listener ${servicePort}`));
    // Started as root, Mosquitto drops to the `mosquitto` user, which cannot read this private temp dir.
    const runAs = process.getuid?.() === 0 ? 'user root\n' : '';
    await mkdir(path.join(dir, 'data'));
    const confFile = path.join(dir, 'mosquitto.conf');
    await writeFile(confFile, runAs + conf);
    broker = spawn('mosquitto', ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    broker.stderr?.on('data', (d) => {
      brokerLog += d.toString();
    });
    await Promise.all([waitForPort(devicePort), waitForPort(servicePort)]);
  });

  after(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => {});
    if (broker && broker.exitCode === null) {
      const exited = new Promise((r) => broker.once('exit', r));
      broker.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const tls = (port: number, options: IClientOptions) =>
    mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });

  async function connect(port: number, options: IClientOptions): Promise<MqttClient> {
    const c = await tls(port, options);
    clients.push(c);
    return c;
  }

  async function readFileText(file: string) {
    return readFile(file, 'utf8');
  }

  test('a device publishes only to its own topic; the ingest identity reads it; no certificate, no connection', async () => {
    const ca = await readFileText(material.platformCaFile);
    const ingest = await connect(servicePort, {
      ca,
      cert: await readFileText(material.ingestCertFile),
      key: await readFileText(material.ingestKeyFile),
      clientId: 'ingest-1',
    });
    const received: { topic: string; payload: string }[] = [];
    ingest.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    const granted = await ingest.subscribeAsync('$share/ingest/c2m/v1/+/+/events', { qos: 1 });
    assert.equal(granted[0]?.qos, 1, 'the ingest may read device topics (shared subscription)');

    const d1 = devices['press-01'] as { key: string; cert: string };
    const device = await connect(devicePort, { ca, cert: d1.cert, key: d1.key, clientId: 'press-01' });
    await device.publishAsync('c2m/v1/Factory1Org/press-01/events', 'own-1', { qos: 1 });

    // Another device's topic: the broker refuses (MQTT 5 PUBACK "not authorized") and delivers nothing.
    await assert.rejects(device.publishAsync('c2m/v1/Factory1Org/press-02/events', 'forged', { qos: 1 }));
    // Write only: a device may send a SUBSCRIBE, but the broker delivers it nothing (no read access).
    const eavesdropped: string[] = [];
    device.on('message', (_t, p) => eavesdropped.push(p.toString()));
    await device.subscribeAsync('c2m/v1/#', { qos: 1 });
    await device.publishAsync('c2m/v1/Factory1Org/press-01/events', 'own-2', { qos: 1 });
    const d2 = devices['press-02'] as { key: string; cert: string };
    const other = await connect(devicePort, { ca, cert: d2.cert, key: d2.key, clientId: 'press-02' });
    await other.publishAsync('c2m/v1/Factory1Org/press-02/events', 'other-1', { qos: 1 });

    const deadline = Date.now() + 5000;
    while (received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(received.map((m) => m.payload).sort(), ['other-1', 'own-1', 'own-2']);
    assert.deepEqual(eavesdropped, []);
    assert.equal(received[0]?.topic, 'c2m/v1/Factory1Org/press-01/events');

    // No client certificate: the TLS handshake is refused on the device listener.
    await assert.rejects(tls(devicePort, { ca, clientId: 'anonymous' }));
    // A device certificate is not accepted on the services listener (it trusts the platform CA only).
    await assert.rejects(tls(servicePort, { ca, cert: d1.cert, key: d1.key, clientId: 'press-01-sneaky' }));
    // And the ingest identity cannot publish as if it were a device.
    await assert.rejects(ingest.publishAsync('c2m/v1/Factory1Org/press-01/events', 'spoof', { qos: 1 }));
    assert.equal(broker.exitCode, null, brokerLog);
  });

  test('confirmations: the ingest writes to a device confirmation topic, and only that device reads it', async () => {
    const ca = await readFileText(material.platformCaFile);
    const ingest = await connect(servicePort, {
      ca,
      cert: await readFileText(material.ingestCertFile),
      key: await readFileText(material.ingestKeyFile),
      clientId: 'ingest-confirm',
    });
    const d1 = devices['press-01'] as { key: string; cert: string };
    const d2 = devices['press-02'] as { key: string; cert: string };
    const own = await connect(devicePort, { ca, cert: d1.cert, key: d1.key, clientId: 'press-01-confirm' });
    const other = await connect(devicePort, { ca, cert: d2.cert, key: d2.key, clientId: 'press-02-confirm' });
    const got: Record<string, string[]> = { own: [], other: [] };
    own.on('message', (_t, p) => got.own?.push(p.toString()));
    other.on('message', (_t, p) => got.other?.push(p.toString()));
    await own.subscribeAsync('c2m/v1/Factory1Org/press-01/confirm', { qos: 1 });
    // press-02 asks for press-01's confirmations: the broker delivers it nothing.
    await other.subscribeAsync('c2m/v1/+/press-01/confirm', { qos: 1 });
    await ingest.publishAsync('c2m/v1/Factory1Org/press-01/confirm', 'confirmed-1', { qos: 1 });
    // A device cannot forge a confirmation for another device (or for itself).
    await assert.rejects(other.publishAsync('c2m/v1/Factory1Org/press-01/confirm', 'forged', { qos: 1 }));
    await assert.rejects(own.publishAsync('c2m/v1/Factory1Org/press-01/confirm', 'self', { qos: 1 }));
    const deadline = Date.now() + 5000;
    while ((got.own?.length ?? 0) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(got, { own: ['confirmed-1'], other: [] });
  });

  test("the platform's ingest connects to the services listener with its TLS files (MQTT_CA_FILE, MQTT_CERT_FILE, MQTT_KEY_FILE)", async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', max: 1 });
    const ingest = createIngest({
      pool,
      registry: createStaticRegistry([]),
      logger: pino({ level: 'silent' }),
      mqttUrl: `mqtts://127.0.0.1:${servicePort}`,
      topicRoot: 'c2m/v1',
      clientId: 'c2m-ingest-tls-test',
      maxMessageBytes: 16 * 1024,
      verifyThreads: 0,
      tls: {
        ca: await readFileText(material.platformCaFile),
        cert: await readFileText(material.ingestCertFile),
        key: await readFileText(material.ingestKeyFile),
      },
    });
    try {
      await ingest.start();
      assert.equal(ingest.connected(), true);
    } finally {
      await ingest.close();
      await pool.end();
    }
  });
});
