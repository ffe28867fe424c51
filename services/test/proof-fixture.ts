import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultPolicy, Orgs } from '@c2m/shared';
import mqtt from 'mqtt';
import request from 'supertest';
import { nextMessage, type SimulatedDevice, topicFor } from '../src/iot/simulator.js';
import type { ProofBundle } from '../src/trace/proof-bundle.js';
import { type TestPlatform, waitFor } from './helpers.js';
import { acceptedWorkOrder, certifiedDevicePerFactory, login } from './ingest-fixtures.js';

/**
 * A work order with `events` anchored production and QC events from one certified device over real MQTT,
 * and its full proof bundle: the shared fixture of the offline-proof tests.
 */
export async function anchoredWorkOrder(t: TestPlatform, name: string, events: number) {
  const fleet = await certifiedDevicePerFactory(t, name);
  const { workOrderId, factoryUser } = await acceptedWorkOrder(t, `Proof sock ${name}`, 200);
  const device = fleet[factoryUser] as SimulatedDevice;
  const other = fleet[factoryUser === 'factory1' ? 'factory2' : 'factory1'] as SimulatedDevice;
  const client = await mqtt.connectAsync(t.config.mqttUrl, { protocolVersion: 5 });
  try {
    for (let i = 0; i < events; i++) {
      const msg =
        i % 4 === 3
          ? nextMessage(device, 'quality.measurement', {
              workOrderId,
              characteristic: 'length_mm',
              value: 250,
              lowerLimit: 245,
              upperLimit: 255,
              pass: true,
            })
          : nextMessage(device, 'production.count', { workOrderId, units: 10 + i });
      await client.publishAsync(topicFor(t.config.mqttTopicRoot, device), JSON.stringify(msg), { qos: 1 });
    }
  } finally {
    await client.endAsync();
  }
  await waitFor('events anchored', async () => {
    const { rows } = await t.platform.pool.query(
      `SELECT COUNT(*)::int AS n FROM device_events e JOIN batches b USING (batch_id)
       WHERE e.work_order_id = $1 AND b.status = 'anchored'`,
      [workOrderId],
    );
    return rows[0].n === events;
  });
  const financier = await login(t, 'financier');
  const bundle = (await request(t.app.server).get(`/api/work-orders/${workOrderId}/proof`).set(financier).expect(200))
    .body as ProofBundle;
  return { workOrderId, device, other, bundle, financier };
}

/** What a verifier pins, out of band: each org's CA and the channel's endorsement policy, as the CLI reads them. */
export async function writeTrustDir(t: TestPlatform, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const cas = t.platform.identity.caCertificates();
  for (const [mspId, pem] of Object.entries(cas)) await writeFile(path.join(dir, `${mspId}.pem`), pem);
  await writeFile(path.join(dir, 'endorsement-policy.txt'), `${defaultPolicy(Orgs.platform, Object.keys(cas))}\n`);
  return dir;
}
