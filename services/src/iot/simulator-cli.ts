#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, type ApiSession } from '../demo/api-client.js';
import { certifyWithProof } from './possession.js';
import { loadOrCreateDevice, runSimulator, type SimulatedDevice, saveDevice } from './simulator.js';

/*
 * Device simulator: N devices with their own P-256 keys publish signed
 * production events over MQTT at R messages per second, optionally with
 * misbehaving ones.
 *
 *   node services/dist/src/iot/simulator-cli.js --work-order WO-... --devices 10 --rate 100 --count 1000 \
 *     [--bad-signature-rate 0.01] [--replay-rate 0.01] [--revoked-devices 2]
 *
 * New devices are registered through the API as the factory user (their CSR is
 * signed by the factory's CA) and, with --certify, certified as the certifier
 * after a proof of possession. --revoked-devices adds devices that are
 * certified and then revoked, and publish like the others (DEVICE_REVOKED).
 */
const { values } = parseArgs({
  options: {
    api: { type: 'string', default: process.env.C2M_API ?? 'http://127.0.0.1:3000' },
    mqtt: { type: 'string', default: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883' },
    'topic-root': { type: 'string', default: process.env.MQTT_TOPIC_ROOT ?? 'c2m/v1' },
    factory: { type: 'string', default: 'factory1' },
    'factory-msp': { type: 'string', default: 'Factory1Org' },
    password: { type: 'string', default: 'demo' },
    certify: { type: 'boolean', default: true },
    certifier: { type: 'string', default: 'certifier' },
    devices: { type: 'string', default: '4' },
    rate: { type: 'string', default: '50' },
    count: { type: 'string', default: '200' },
    'bad-signature-rate': { type: 'string', default: '0' },
    'replay-rate': { type: 'string', default: '0' },
    'revoked-devices': { type: 'string', default: '0' },
    'work-order': { type: 'string' },
    'state-dir': { type: 'string', default: path.resolve('.data/sim-devices') },
    prefix: { type: 'string', default: 'sim' },
  },
});

function rate(name: string): number {
  const v = Number(values[name as keyof typeof values]);
  if (!(v >= 0 && v <= 1)) {
    console.error(`--${name} must be between 0 and 1`);
    process.exit(2);
  }
  return v;
}
if (!values['work-order']) {
  console.error('--work-order is required (see GET /api/work-orders)');
  process.exit(2);
}
const badSignatureRate = rate('bad-signature-rate');
const replayRate = rate('replay-rate');
const api = new ApiClient(values.api as string);
const factory = await api.login(values.factory as string, values.password as string);
const needsCertifier = values.certify || Number(values['revoked-devices']) > 0;
const certifier = needsCertifier ? await api.login(values.certifier as string, values.password as string) : undefined;

async function provision(deviceId: string, serial: string, certify: boolean, revoke: boolean) {
  const { device, csrPem } = await loadOrCreateDevice(
    values['state-dir'] as string,
    deviceId,
    values['factory-msp'] as string,
  );
  if (csrPem) {
    await factory.post('/api/devices', {
      deviceId,
      model: 'Simulated knitting machine',
      serial,
      line: 'line-sim',
      csrPem,
    });
    if (certify || revoke)
      await certifyWithProof(certifier as ApiSession, deviceId, device.privateKey, { note: 'simulator' });
    if (revoke)
      await (certifier as ApiSession).post(`/api/devices/${deviceId}/revoke`, { note: 'simulated tampering' });
  }
  return device;
}

const devices: SimulatedDevice[] = [];
for (let i = 1; i <= Number(values.devices); i++) {
  const id = `${values.prefix}-${String(i).padStart(4, '0')}`;
  devices.push(await provision(id, `SIM-${i}`, values.certify as boolean, false));
}
for (let i = 1; i <= Number(values['revoked-devices']); i++) {
  const id = `${values.prefix}-revoked-${String(i).padStart(4, '0')}`;
  devices.push(await provision(id, `SIM-R-${i}`, true, true));
}

const total = Number(values.count);
const started = Date.now();
let lastReport = 0;
const result = await runSimulator({
  mqttUrl: values.mqtt as string,
  topicRoot: values['topic-root'] as string,
  devices,
  ratePerSecond: Number(values.rate),
  count: total,
  workOrderId: values['work-order'] as string,
  badSignatureRate,
  replayRate,
  onProgress: (sent, all, counts) => {
    const now = Date.now();
    if (now - lastReport < 1000 && sent !== all) return;
    lastReport = now;
    const perSecond = Math.round(sent / Math.max((now - started) / 1000, 0.001));
    process.stderr.write(
      `published ${sent}/${all} (${Math.floor((sent / all) * 100)}%), ${perSecond}/s, ` +
        `bad signatures ${counts.badSignatures}, replays ${counts.replays}\n`,
    );
  },
});
for (const d of devices) await saveDevice(values['state-dir'] as string, d);
console.log(JSON.stringify({ devices: devices.length, ...result, rate: Math.round(result.sent / result.seconds) }));
