import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { canonicalJson } from '@c2m/shared';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import request from 'supertest';
import { DeviceMessageRejections } from '../src/iot/device-message.js';
import { nextMessage, type SimulatedDevice, topicFor } from '../src/iot/simulator.js';
import { startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { acceptedWorkOrder, certifiedDevicePerFactory, deviceAction, provisionDevices } from './ingest-fixtures.js';

/**
 * The ingest under attack: poison messages, arbitrary bytes and structures,
 * another factory's work order, backdated messages from withdrawn devices and
 * a counter pushed to 2^53-1. Each bad message becomes one dead letter with a
 * reason, and every good message around it is stored exactly once.
 */
describe('ingest under hostile input', () => {
  let t: TestPlatform;
  let client: MqttClient;
  let good: SimulatedDevice;
  let evil: SimulatedDevice;
  const goodSeqs: number[] = [];

  before(async () => {
    t = await startTestPlatform();
    [good, evil] = (await provisionDevices(t, ['hz-good', 'hz-evil'])) as [SimulatedDevice, SimulatedDevice];
    client = await mqtt.connectAsync(t.config.mqttUrl, { protocolVersion: 5 });
  });
  after(async () => {
    await client?.endAsync();
    await t?.close();
  });

  const topic = (d: SimulatedDevice) => topicFor(t.config.mqttTopicRoot, d);
  const publish = (d: SimulatedDevice, payload: string | Buffer) => client.publishAsync(topic(d), payload, { qos: 1 });
  async function sendGood(): Promise<void> {
    const env = nextMessage(good, 'production.count', { units: 1 });
    goodSeqs.push(good.seq);
    await publish(good, JSON.stringify(env));
  }
  /** Signs any body text with a device's key, as a compromised or buggy device would. */
  const signed = (d: SimulatedDevice, body: string) =>
    JSON.stringify({
      body,
      sig: sign('sha256', Buffer.from(body), { key: d.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url'),
    });
  const bodyOf = (d: SimulatedDevice, over: Record<string, unknown>) =>
    canonicalJson({
      v: 1,
      deviceId: d.deviceId,
      seq: ++d.seq,
      time: new Date().toISOString(),
      type: 'production.count',
      data: { units: 1 },
      ...over,
    });
  async function reasonsOf(deviceId: string | null): Promise<Record<string, number>> {
    const { rows } = await t.platform.pool.query(
      `SELECT reason, COUNT(*)::int AS n FROM dead_letters WHERE device_id IS NOT DISTINCT FROM $1 GROUP BY reason`,
      [deviceId],
    );
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }
  async function allGoodStored(): Promise<void> {
    const stored = await waitFor('every good message stored', async () => {
      const { rows } = await t.platform.pool.query('SELECT seq FROM device_events WHERE device_id = $1 ORDER BY seq', [
        good.deviceId,
      ]);
      return rows.length >= goodSeqs.length ? rows.map((r) => Number(r.seq)) : undefined;
    });
    assert.deepEqual(stored, goodSeqs, 'each good message exactly once, in order');
  }

  test('the poison messages that once stalled all ingest are each dead-lettered, and the good ones go on', async () => {
    await sendGood();
    // A NUL byte in an unsigned payload, and invalid UTF-8.
    await publish(good, Buffer.from(`{"body":"x\u0000","sig":"y"}`));
    await sendGood();
    await publish(good, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    await sendGood();
    // \u0000 inside a signed body, and a lone surrogate: PostgreSQL text and jsonb refuse both.
    await publish(evil, signed(evil, bodyOf(evil, { data: { units: 1, note: 'a\u0000b' } })));
    await publish(evil, signed(evil, bodyOf(evil, { data: { units: 1, note: 'a\ud800b' } })));
    await sendGood();
    // A signed time in Date.toString() form, a time that rolls over (Feb 30), a time in 1970 and six months ahead.
    await publish(evil, signed(evil, bodyOf(evil, { time: new Date().toString() })));
    await publish(evil, signed(evil, bodyOf(evil, { time: '2026-02-30T00:00:00.000Z' })));
    await publish(evil, signed(evil, bodyOf(evil, { time: '1970-01-01T00:00:00.000Z' })));
    await publish(evil, signed(evil, bodyOf(evil, { time: new Date(Date.now() + 183 * 86400_000).toISOString() })));
    await sendGood();
    // JSON nested 5,000 levels deep, unsigned (10 KB) and inside a signed body.
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    await publish(good, `{"body":${JSON.stringify(`{"data":${deep}}`)},"sig":"${'A'.repeat(86)}"}`);
    await publish(good, `{"body":${deep},"sig":"x"}`);
    await publish(
      evil,
      signed(evil, bodyOf(evil, { data: { units: 1, deep: JSON.parse(`${'['.repeat(300)}${']'.repeat(300)}`) } })),
    );
    await sendGood();
    // Values the queries cast: units that is not an integer, pass that is not a boolean.
    await publish(evil, signed(evil, bodyOf(evil, { data: { units: 'abc' } })));
    await publish(evil, signed(evil, bodyOf(evil, { type: 'quality.measurement', data: { pass: 'maybe' } })));
    await sendGood();
    await allGoodStored();
    // Unparsed messages are filed under their topic's device: the unsigned poison went to the good device's topic.
    const poison = await waitFor('13 dead letters', async () => {
      const g = await reasonsOf(good.deviceId);
      const e = await reasonsOf(evil.deviceId);
      return Object.values({ ...g }).reduce((a, b) => a + b, 0) + Object.values(e).reduce((a, b) => a + b, 0) === 13
        ? { g, e }
        : undefined;
    });
    assert.deepEqual(poison.g, { MALFORMED_JSON: 2, VALIDATION_FAILED: 2 });
    assert.deepEqual(poison.e, { VALIDATION_FAILED: 7, CLOCK_SKEW: 2 });
    const { rows } = await t.platform.pool.query(
      `SELECT COUNT(*)::int AS n FROM dead_letters WHERE payload_bytes IS NOT NULL`,
    );
    assert.equal(rows[0].n, 13, 'every dead letter keeps its exact bytes');
    const nul = await t.platform.pool.query(
      `SELECT payload_bytes FROM dead_letters WHERE position('\\x00'::bytea in payload_bytes) > 0`,
    );
    assert.equal(nul.rowCount, 1, 'the NUL byte is kept in the bytes');
    await request(t.app.server).get('/ready').expect(200);
  });

  test('a sequence number of 2^53-1 is refused, and the device goes on with its own numbers', async () => {
    await publish(
      evil,
      signed(
        evil,
        canonicalJson({
          v: 1,
          deviceId: evil.deviceId,
          seq: Number.MAX_SAFE_INTEGER,
          time: new Date().toISOString(),
          type: 'production.count',
          data: { units: 1 },
        }),
      ),
    );
    const env = nextMessage(evil, 'production.count', { units: 2 });
    await publish(evil, JSON.stringify(env));
    await waitFor('the next normal number stored', async () => {
      const { rows } = await t.platform.pool.query('SELECT 1 FROM device_events WHERE device_id = $1 AND seq = $2', [
        evil.deviceId,
        evil.seq,
      ]);
      return rows.length === 1;
    });
    assert.equal((await reasonsOf(evil.deviceId)).SEQUENCE_GAP, 1);
  });

  test('arbitrary bytes, JSON and signed bodies mixed with valid messages: every valid one stored exactly once', async () => {
    const hostile = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((b) => ({ device: good, payload: Buffer.from(b) })),
      fc.jsonValue({ maxDepth: 6 }).map((v) => ({ device: good, payload: Buffer.from(JSON.stringify(v) ?? 'null') })),
      fc
        .string({ maxLength: 300, unit: 'binary' })
        .map((s) => ({ device: good, payload: Buffer.from(JSON.stringify({ body: s, sig: 'A'.repeat(86) })) })),
      fc
        .record({
          seq: fc.oneof(fc.integer({ min: -5, max: 3_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.double()),
          time: fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.string({ maxLength: 30 }),
            fc.constant(new Date().toString()),
          ),
          type: fc.constantFrom('production.count', 'quality.measurement', 'sensor.reading', 'machine.state', 'other'),
          data: fc.oneof(
            fc.dictionary(fc.string({ maxLength: 8, unit: 'binary' }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 6 }),
            fc.jsonValue({ maxDepth: 3 }),
          ),
          extra: fc.option(fc.string({ maxLength: 5 })),
        })
        .map((r) => {
          const body: Record<string, unknown> = {
            v: 1,
            deviceId: evil.deviceId,
            seq: r.seq,
            time: r.time,
            type: r.type,
            data: r.data,
          };
          if (r.extra !== null) body[r.extra] = 1;
          let text: string;
          try {
            text = canonicalJson(body);
          } catch {
            text = JSON.stringify(body);
          }
          return { device: evil, payload: Buffer.from(signed(evil, text)) };
        }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { minLength: 20, maxLength: 60 }), async (inputs) => {
        const ingest = t.platform.ingest.metrics;
        const before = { received: ingest.received, settled: ingest.accepted + ingest.duplicates + ingest.rejected };
        const mine: number[] = [];
        for (const input of inputs) {
          await publish(input.device, input.payload);
          const env = nextMessage(good, 'production.count', { units: 1 });
          mine.push(good.seq);
          goodSeqs.push(good.seq);
          await publish(good, JSON.stringify(env));
        }
        const sent = inputs.length * 2;
        // Every message gets a verdict: stored, duplicate or dead letter; none is left hanging.
        await waitFor('a verdict for every message', async () => {
          const settled = ingest.accepted + ingest.duplicates + ingest.rejected - before.settled;
          return ingest.received - before.received === sent && settled === sent;
        });
        const { rows } = await t.platform.pool.query(
          'SELECT seq FROM device_events WHERE device_id = $1 AND seq = ANY($2) ORDER BY seq',
          [good.deviceId, mine],
        );
        assert.deepEqual(
          rows.map((r) => Number(r.seq)),
          mine,
        );
      }),
      { numRuns: 6, seed: 20261207 },
    );
    await allGoodStored();
    await request(t.app.server).get('/ready').expect(200);
  });

  test('a write PostgreSQL refuses is split until the one bad message is dead-lettered; the rest are stored', async () => {
    // Stands in for a database rule the ingest's own checks do not know: the write fails with a data error.
    await t.platform.pool.query(`
      CREATE FUNCTION refuse_units_13() RETURNS trigger AS $$
      BEGIN
        IF NEW.data->>'units' = '13' THEN RAISE EXCEPTION 'units 13 refused' USING ERRCODE = '22023'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER refuse_units_13 BEFORE INSERT ON device_events FOR EACH ROW EXECUTE FUNCTION refuse_units_13();
    `);
    try {
      const mine: number[] = [];
      let bad = 0;
      for (let i = 0; i < 40; i++) {
        const units = i === 17 ? 13 : 1;
        const env = nextMessage(good, 'production.count', { units });
        if (units === 13) bad = good.seq;
        else {
          mine.push(good.seq);
          goodSeqs.push(good.seq);
        }
        await publish(good, JSON.stringify(env));
      }
      const rejected = await waitFor('the refused message dead-lettered', async () => {
        const { rows } = await t.platform.pool.query(
          `SELECT detail FROM dead_letters WHERE reason = $1 AND device_id = $2`,
          [DeviceMessageRejections.WRITE_REJECTED, good.deviceId],
        );
        return rows.length === 1 ? rows[0].detail : undefined;
      });
      assert.match(rejected, /22023/);
      await allGoodStored();
      const { rows } = await t.platform.pool.query('SELECT 1 FROM device_events WHERE device_id = $1 AND seq = $2', [
        good.deviceId,
        bad,
      ]);
      assert.equal(rows.length, 0);
    } finally {
      await t.platform.pool.query('DROP TRIGGER refuse_units_13 ON device_events; DROP FUNCTION refuse_units_13()');
    }
  });

  test('while writes keep failing /ready says so; once they succeed, everything held is stored once', async () => {
    await t.platform.pool.query(`
      CREATE FUNCTION fail_all() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'database unavailable' USING ERRCODE = '57P03'; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER fail_all BEFORE INSERT ON device_events FOR EACH ROW EXECUTE FUNCTION fail_all();
    `);
    let dropped = false;
    try {
      for (let i = 0; i < 10; i++) await sendGood();
      const ready = await waitFor(
        '/ready to report the failing ingest',
        async () => {
          const res = await request(t.app.server).get('/ready').set('authorization', `Bearer ${t.config.metricsToken}`);
          return res.status === 503 ? res.body : undefined;
        },
        20_000,
      );
      assert.equal(ready.checks.ingest.ok, false);
      assert.match(ready.checks.ingest.detail, /writes failing/);
      await t.platform.pool.query('DROP TRIGGER fail_all ON device_events; DROP FUNCTION fail_all()');
      dropped = true;
      await allGoodStored();
      await waitFor('/ready again', async () => (await request(t.app.server).get('/ready')).status === 200, 40_000);
      const metrics = await request(t.app.server)
        .get('/metrics')
        .set('authorization', `Bearer ${t.config.metricsToken}`)
        .expect(200);
      assert.match(metrics.text, /^c2m_ingest_write_failures_total [1-9]\d*$/m);
    } finally {
      if (!dropped) await t.platform.pool.query('DROP TRIGGER fail_all ON device_events; DROP FUNCTION fail_all()');
    }
  });
});

describe('ingest ownership and time', () => {
  let t: TestPlatform;
  let client: MqttClient;
  before(async () => {
    t = await startTestPlatform({ anchorBatchSize: 5, anchorIntervalMs: 200 });
    client = await mqtt.connectAsync(t.config.mqttUrl, { protocolVersion: 5 });
  });
  after(async () => {
    await client?.endAsync();
    await t?.close();
  });
  const send = (d: SimulatedDevice, type: 'production.count', data: Record<string, unknown>, time?: Date) =>
    client.publishAsync(topicFor(t.config.mqttTopicRoot, d), JSON.stringify(nextMessage(d, type, data, time)), {
      qos: 1,
    });
  async function reason(deviceId: string, seq: number): Promise<string> {
    return waitFor(`a verdict on ${deviceId}/${seq}`, async () => {
      const stored = await t.platform.pool.query('SELECT 1 FROM device_events WHERE device_id = $1 AND seq = $2', [
        deviceId,
        seq,
      ]);
      if (stored.rows.length > 0) return 'STORED';
      const { rows } = await t.platform.pool.query(
        `SELECT reason FROM dead_letters WHERE device_id = $1 AND payload LIKE $2`,
        [deviceId, `%\\\\"seq\\\\":${seq},%`],
      );
      return rows[0]?.reason as string | undefined;
    });
  }

  test("a factory's device cannot write into another factory's work order, and evidence ignores such events", async () => {
    const fleet = await certifiedDevicePerFactory(t, 'own-01');
    const { workOrderId, factoryUser } = await acceptedWorkOrder(t, 'Ownership sock', 200);
    const mine = fleet[factoryUser] as SimulatedDevice;
    const foreign = fleet[factoryUser === 'factory1' ? 'factory2' : 'factory1'] as SimulatedDevice;
    await send(foreign, 'production.count', { workOrderId, units: 40 });
    assert.equal(await reason(foreign.deviceId, foreign.seq), DeviceMessageRejections.WORK_ORDER_MISMATCH);
    await send(foreign, 'production.count', { workOrderId: 'WO-does-not-exist', units: 40 });
    assert.equal(await reason(foreign.deviceId, foreign.seq), DeviceMessageRejections.WORK_ORDER_MISMATCH);
    for (let i = 0; i < 5; i++) await send(mine, 'production.count', { workOrderId, units: 10 });
    assert.equal(await reason(mine.deviceId, mine.seq), 'STORED');

    // Defence in depth: a foreign event that reached the table (as before this rule) is not the work order's evidence.
    await t.platform.pool.query(
      `INSERT INTO device_events (device_id, factory_msp, seq, event_time, type, work_order_id, data, message, signature, leaf_hash)
       VALUES ($1, $2, 999999, now(), 'production.count', $3, '{"units":400000}', '{}', 'x', 'ab')`,
      [foreign.deviceId, foreign.factoryMspId, workOrderId],
    );
    const events = await t.platform.trace.events(workOrderId);
    assert.equal(events.length, 5);
    assert.ok(events.every((e) => e.deviceId === mine.deviceId));
    const produced = (await t.platform.trace.production(workOrderId)).reduce((s, p) => s + p.units, 0);
    assert.equal(produced, 50);
  });

  test('after a suspension, nothing backdated to before it gets in; after reactivation only new messages do', async () => {
    const [d] = (await provisionDevices(t, ['time-01'])) as [SimulatedDevice];
    await send(d, 'production.count', { units: 1 });
    assert.equal(await reason(d.deviceId, d.seq), 'STORED');
    await deviceAction(t, d.deviceId, 'suspend');
    await waitFor(
      'the registry sees the suspension',
      async () => (await t.platform.registry.get(d.deviceId))?.states.at(-1)?.status === 'SUSPENDED',
    );
    // Signed now, claiming a minute ago, when the device was still certified.
    await send(d, 'production.count', { units: 1 }, new Date(Date.now() - 60_000));
    assert.equal(await reason(d.deviceId, d.seq), DeviceMessageRejections.DEVICE_NOT_CERTIFIED);
    await send(d, 'production.count', { units: 1 });
    assert.equal(await reason(d.deviceId, d.seq), DeviceMessageRejections.DEVICE_NOT_CERTIFIED);
    await deviceAction(t, d.deviceId, 'reactivate');
    await waitFor(
      'the registry sees the reactivation',
      async () => (await t.platform.registry.get(d.deviceId))?.states.at(-1)?.status === 'CERTIFIED',
    );
    await send(d, 'production.count', { units: 1 }, new Date(Date.now() - 120_000));
    assert.equal(await reason(d.deviceId, d.seq), DeviceMessageRejections.DEVICE_NOT_CERTIFIED);
    await new Promise((r) => setTimeout(r, 20));
    await send(d, 'production.count', { units: 1 });
    assert.equal(await reason(d.deviceId, d.seq), 'STORED');
    await deviceAction(t, d.deviceId, 'revoke');
    await waitFor(
      'the registry sees the revocation',
      async () => (await t.platform.registry.get(d.deviceId))?.states.at(-1)?.status === 'REVOKED',
    );
    await send(d, 'production.count', { units: 1 }, new Date(Date.now() - 30_000));
    assert.equal(await reason(d.deviceId, d.seq), DeviceMessageRejections.DEVICE_REVOKED);
  });
});
