import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createIngest, type Ingest } from '../src/iot/ingest.js';
import { runSimulator, type SimulatedDevice } from '../src/iot/simulator.js';
import { batchLeaves } from '../src/trace/anchorer.js';
import { buildTree } from '../src/trace/merkle.js';
import { startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { type PrivateServer, provisionDevices, startMosquitto, startRedis } from './ingest-fixtures.js';

/**
 * Nothing accepted is lost and nothing is counted twice while the parts
 * around the ingest restart: devices publish at a steady rate while the
 * ingest process (same client id, so the same persistent session), Redis
 * (BullMQ's anchoring schedule) and Mosquitto restart one after another.
 * Mosquitto and Redis are the test's own, on their own ports.
 */
describe('ingest through restarts of the ingest, Redis and Mosquitto', () => {
  let mosquitto: PrivateServer;
  let redis: PrivateServer;
  let t: TestPlatform;
  let devices: SimulatedDevice[];
  let restarted: Ingest | undefined;
  const PER_DEVICE = 400;

  before(async () => {
    mosquitto = await startMosquitto();
    redis = await startRedis();
    t = await startTestPlatform({
      mqttUrl: mosquitto.url,
      redisUrl: redis.url,
      anchorBatchSize: 100,
      anchorIntervalMs: 300,
    });
    devices = await provisionDevices(t, ['rs-1', 'rs-2', 'rs-3', 'rs-4']);
  });
  after(async () => {
    await restarted?.close();
    await t?.close();
    await mosquitto?.stop();
    await redis?.stop();
  });

  test('every acknowledged event is stored once and anchored once', async () => {
    const total = devices.length * PER_DEVICE;
    const sim = runSimulator({
      mqttUrl: mosquitto.url,
      topicRoot: t.config.mqttTopicRoot,
      devices,
      ratePerSecond: 400,
      count: total,
    });
    const stored = async () =>
      Number((await t.platform.pool.query('SELECT COUNT(*) AS n FROM device_events')).rows[0].n);
    const progressed = async (n: number) => waitFor(`${n} events stored`, async () => (await stored()) >= n);

    await progressed(300);
    // (a) The ingest process goes away and a new one takes over the same persistent session.
    await t.platform.ingest.close();
    restarted = createIngest({
      pool: t.platform.pool,
      registry: t.platform.registry,
      logger: t.platform.logger,
      mqttUrl: mosquitto.url,
      topicRoot: t.config.mqttTopicRoot,
      clientId: t.config.mqttClientId,
      maxMessageBytes: t.config.maxMessageBytes,
    });
    await new Promise((r) => setTimeout(r, 300));
    await restarted.start();
    await progressed(700);
    // (b) Redis, where the anchoring schedule lives.
    await redis.restart();
    await progressed(1100);
    // (c) The broker, holding the ingest's session and the devices' in-flight messages.
    await mosquitto.restart();
    const sent = await sim;
    assert.equal(sent.sent, total, 'every publish was acknowledged by the broker');

    await storedAndAnchoredOnce(t, devices, PER_DEVICE);
  });
});

/** Every device's seq 1..perDevice stored exactly once, nothing dead-lettered, every event anchored once. */
async function storedAndAnchoredOnce(t: TestPlatform, devices: readonly SimulatedDevice[], PER_DEVICE: number) {
  const total = devices.length * PER_DEVICE;
  const stored = async () => Number((await t.platform.pool.query('SELECT COUNT(*) AS n FROM device_events')).rows[0].n);
  await waitFor('all events stored', async () => (await stored()) >= total, 60_000).catch(async (err) => {
    const { rows } = await t.platform.pool.query(
      `SELECT device_id, COUNT(*)::int AS n, MAX(seq)::int AS hi,
                (SELECT COUNT(*) FROM dead_letters d WHERE d.device_id = e.device_id)::int AS dead
         FROM device_events e GROUP BY device_id ORDER BY device_id`,
    );
    const gaps = await t.platform.pool.query(
      `SELECT device_id, MIN(s)::int AS from_seq, MAX(s)::int AS to_seq FROM (
           SELECT d.device_id, s, s - ROW_NUMBER() OVER (PARTITION BY d.device_id ORDER BY s) AS grp
           FROM (SELECT DISTINCT device_id FROM device_events) d, generate_series(1, ${PER_DEVICE}) s
           WHERE NOT EXISTS (SELECT 1 FROM device_events e WHERE e.device_id = d.device_id AND e.seq = s)) x
         GROUP BY device_id, grp ORDER BY 1, 2`,
    );
    throw new Error(`${(err as Error).message}: ${JSON.stringify(rows)} missing ${JSON.stringify(gaps.rows)}`);
  });
  await waitFor(
    'all events anchored',
    async () => {
      const { rows } = await t.platform.pool.query(
        `SELECT (SELECT COUNT(*) FROM device_events WHERE batch_id IS NULL)::int AS unbatched,
                  (SELECT COUNT(*) FROM batches WHERE status <> 'anchored')::int AS pending`,
      );
      return rows[0].unbatched === 0 && rows[0].pending === 0;
    },
    60_000,
  );

  // Stored once: exactly seq 1..N per device, no gaps, no extra rows, nothing dead-lettered.
  const { rows: perDevice } = await t.platform.pool.query(
    `SELECT device_id, COUNT(*)::int AS n, COUNT(DISTINCT seq)::int AS distinct_seqs, MIN(seq)::int AS lo, MAX(seq)::int AS hi
       FROM device_events GROUP BY device_id ORDER BY device_id`,
  );
  assert.deepEqual(
    perDevice,
    devices.map((d) => ({ device_id: d.deviceId, n: PER_DEVICE, distinct_seqs: PER_DEVICE, lo: 1, hi: PER_DEVICE })),
  );
  const dead = await t.platform.pool.query('SELECT reason, detail FROM dead_letters');
  assert.deepEqual(dead.rows, [], 'redeliveries after restarts are duplicates, not replays');

  // Anchored once: each event in one batch, each batch's members hash to the root the ledger holds.
  const { rows: batches } = await t.platform.pool.query(
    'SELECT batch_id, merkle_root, event_count FROM batches ORDER BY batch_id',
  );
  let members = 0;
  for (const b of batches) {
    // A batch's leaves: its device messages, then the EPCIS events derived from them (or captured).
    const leaves = await batchLeaves(t.platform.pool, b.batch_id);
    assert.equal(leaves.leaves.length, b.event_count);
    assert.equal(buildTree(leaves.leaves).root, b.merkle_root);
    const anchor = await t.platform.ledgerAccess.readAnchor('platform', b.batch_id);
    assert.equal(anchor.merkleRoot, b.merkle_root, `batch ${b.batch_id} is anchored with its own root`);
    members += leaves.device.size;
  }
  assert.equal(members, total);
}

/**
 * Crashes without warning: Redis without persistence is killed and comes back
 * empty (the job schedulers that drive anchoring are gone), and the broker is
 * killed with kill -9, losing what it acknowledged since its last save. The
 * devices keep every message until the platform confirms it durable, so
 * every event is still stored once and anchored once.
 */
describe('ingest through kill -9 of an unpersisted Redis and of the broker', () => {
  let mosquitto: PrivateServer;
  let redis: PrivateServer;
  let t: TestPlatform;
  let devices: SimulatedDevice[];
  const PER_DEVICE = 300;

  before(async () => {
    mosquitto = await startMosquitto({ autosaveSeconds: 60 });
    redis = await startRedis({ persist: false });
    t = await startTestPlatform({
      mqttUrl: mosquitto.url,
      redisUrl: redis.url,
      anchorBatchSize: 100,
      anchorIntervalMs: 300,
    });
    devices = await provisionDevices(t, ['kx-1', 'kx-2', 'kx-3', 'kx-4']);
  });
  after(async () => {
    await t?.close();
    await mosquitto?.stop();
    await redis?.stop();
  });

  test('every event the devices sent is stored once and anchored once', async () => {
    const total = devices.length * PER_DEVICE;
    const sim = runSimulator({
      mqttUrl: mosquitto.url,
      topicRoot: t.config.mqttTopicRoot,
      devices,
      ratePerSecond: 300,
      count: total,
    });
    const stored = async () =>
      Number((await t.platform.pool.query('SELECT COUNT(*) AS n FROM device_events')).rows[0].n);
    await waitFor('300 events stored', async () => (await stored()) >= 300);
    await redis.crash();
    await waitFor('the schedulers re-created', async () => t.platform.schedulers.recreated() >= 2, 20_000);
    await waitFor('600 events stored', async () => (await stored()) >= 600);
    await mosquitto.crash();
    const result = await sim;
    assert.equal(result.unconfirmed, 0, 'the platform confirmed every message');
    await storedAndAnchoredOnce(t, devices, PER_DEVICE);
    const ready = await t.platform.readiness();
    assert.equal(ready.schedulers?.ok, true, JSON.stringify(ready));
  });
});
