#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient } from '../demo/api-client.js';
import { certifyWithProof } from './possession.js';
import { loadOrCreateDevice, runSimulator, type SimulatedDevice, saveDevice } from './simulator.js';

/*
 * Device simulator: N devices with their own P-256 keys publish signed
 * production events over MQTT at R messages per second.
 *
 *   node services/dist/src/iot/simulator-cli.js --work-order WO-... --devices 10 --rate 100 --count 1000
 *
 * New devices are registered through the API as the factory user (their CSR is
 * signed by the factory's CA) and, with --certify, certified as the certifier.
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
    'work-order': { type: 'string' },
    'state-dir': { type: 'string', default: path.resolve('.data/sim-devices') },
    prefix: { type: 'string', default: 'sim' },
  },
});

if (!values['work-order']) {
  console.error('--work-order is required (see GET /api/work-orders)');
  process.exit(2);
}
const api = new ApiClient(values.api as string);
const factory = await api.login(values.factory as string, values.password as string);
const certifier = values.certify ? await api.login(values.certifier as string, values.password as string) : undefined;
const devices: SimulatedDevice[] = [];
const n = Number(values.devices);
for (let i = 1; i <= n; i++) {
  const deviceId = `${values.prefix}-${String(i).padStart(4, '0')}`;
  const { device, csrPem } = await loadOrCreateDevice(
    values['state-dir'] as string,
    deviceId,
    values['factory-msp'] as string,
  );
  if (csrPem) {
    await factory.post('/api/devices', {
      deviceId,
      model: 'Simulated knitting machine',
      serial: `SIM-${i}`,
      line: 'line-sim',
      csrPem,
    });
    // The simulator holds the device key, so it answers the certifier's proof-of-possession challenge itself.
    if (certifier) await certifyWithProof(certifier, deviceId, device.privateKey, { note: 'simulator' });
  }
  devices.push(device);
}
const total = Number(values.count);
let last = 0;
const result = await runSimulator({
  mqttUrl: values.mqtt as string,
  topicRoot: values['topic-root'] as string,
  devices,
  ratePerSecond: Number(values.rate),
  count: total,
  workOrderId: values['work-order'] as string,
  onProgress: (sent) => {
    const pct = Math.floor((sent / total) * 100);
    if (pct >= last + 10 || sent === total) {
      last = pct;
      process.stderr.write(`published ${sent}/${total} (${pct}%)\n`);
    }
  },
});
for (const d of devices) await saveDevice(values['state-dir'] as string, d);
console.log(JSON.stringify({ devices: devices.length, ...result, rate: Math.round(result.sent / result.seconds) }));
