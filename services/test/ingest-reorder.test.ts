import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import mqtt from 'mqtt';
import pino from 'pino';
import { signDeviceMessage } from '../src/iot/device-message.js';
import { createIngest } from '../src/iot/ingest.js';
import { runSimulator, type SimulatedDevice, topicFor } from '../src/iot/simulator.js';
import { startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { provisionDevices } from './ingest-fixtures.js';

/**
 * The ingest's anti-replay window: a number never seen before arrives late and
 * is stored if it is within the window; a number used before, or one older than
 * the window, is a REPLAY. With two ingest processes on the shared subscription
 * (which commit a device's messages out of order) nothing genuine is refused.
 */
let t: TestPlatform;
afterEach(async () => {
  await t?.close();
});

const stored = async (deviceId: string) =>
  (await t.platform.pool.query('SELECT seq FROM device_events WHERE device_id = $1 ORDER BY seq', [deviceId])).rows.map(
    (r) => Number(r.seq),
  );

test('late numbers within the window are stored; reused or too-old numbers are replays', async () => {
  t = await startTestPlatform({ ingestReorderWindow: 4 });
  const [device] = (await provisionDevices(t, [`${t.config.redisPrefix.slice(-6)}-ro-01`])) as [SimulatedDevice];
  const message = (seq: number, units = 10) =>
    JSON.stringify(
      signDeviceMessage(
        {
          v: 1,
          deviceId: device.deviceId,
          seq,
          time: new Date().toISOString(),
          type: 'production.count',
          data: { units },
        },
        device.privateKey,
      ),
    );
  const client = await mqtt.connectAsync(t.config.mqttUrl, { protocolVersion: 5 });
  const topic = topicFor(t.config.mqttTopicRoot, device);
  try {
    for (const seq of [1, 2, 3, 4, 5, 6, 7, 8, 10, 9]) await client.publishAsync(topic, message(seq), { qos: 1 });
    await client.publishAsync(topic, message(9, 500), { qos: 1 }); // a used number, other content
    for (const seq of [12, 13, 14, 15, 16, 11]) await client.publishAsync(topic, message(seq), { qos: 1 }); // 11: too old
  } finally {
    await client.endAsync();
  }
  await waitFor('all messages decided', async () => {
    const { rows } = await t.platform.pool.query('SELECT COUNT(*)::int AS n FROM dead_letters WHERE device_id = $1', [
      device.deviceId,
    ]);
    return (await stored(device.deviceId)).length === 15 && rows[0].n === 2;
  });
  assert.deepEqual(await stored(device.deviceId), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16]);
  const { rows } = await t.platform.pool.query(
    'SELECT reason, detail FROM dead_letters WHERE device_id = $1 ORDER BY id',
    [device.deviceId],
  );
  assert.deepEqual(
    rows.map((r) => r.reason),
    ['REPLAY', 'REPLAY'],
  );
  assert.match(rows[0].detail, /already used/);
  assert.match(rows[1].detail, /older than the reorder window/);
});

test('two ingest processes sharing the subscription store every genuine message exactly once', async () => {
  // The default window: two processes committing batches of hundreds can be far apart in one device's numbers.
  t = await startTestPlatform();
  const devices = await provisionDevices(
    t,
    ['a', 'b', 'c'].map((n) => `${t.config.redisPrefix.slice(-6)}-two-${n}`),
  );
  const second = createIngest({
    pool: t.platform.pool,
    registry: t.platform.registry,
    logger: pino({ level: 'warn' }),
    mqttUrl: t.config.mqttUrl,
    topicRoot: t.config.mqttTopicRoot,
    clientId: `${t.config.mqttClientId}-second`,
    maxMessageBytes: t.config.maxMessageBytes,
    reorderWindow: t.config.ingestReorderWindow,
    verifyThreads: 0,
  });
  await second.start();
  try {
    await runSimulator({
      mqttUrl: t.config.mqttUrl,
      topicRoot: t.config.mqttTopicRoot,
      devices,
      ratePerSecond: 3000,
      count: 600,
    });
    await waitFor('600 events stored', async () => {
      const { rows } = await t.platform.pool.query(
        'SELECT COUNT(*)::int AS n FROM device_events WHERE device_id = ANY($1)',
        [devices.map((d) => d.deviceId)],
      );
      return rows[0].n === 600;
    });
  } finally {
    await second.close();
  }
  for (const d of devices)
    assert.deepEqual(
      await stored(d.deviceId),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  const { rows } = await t.platform.pool.query(
    'SELECT COUNT(*)::int AS n FROM dead_letters WHERE device_id = ANY($1)',
    [devices.map((d) => d.deviceId)],
  );
  assert.equal(rows[0].n, 0, 'no genuine message refused');
  assert.ok(second.metrics.accepted > 0, 'the second ingest took part');
});
