import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import request from 'supertest';
import { DeviceMessageRejections, signDeviceMessage } from '../src/iot/device-message.js';
import { nextMessage, runSimulator, type SimulatedDevice, topicFor } from '../src/iot/simulator.js';
import { startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { deviceAction, provisionDevices } from './ingest-fixtures.js';

/**
 * Every reason the ingest rejects a message for, each followed by a good
 * message that must still be stored: a rejection is dead-lettered with its
 * reason, acknowledged, counted at /metrics, and never stops the pipeline.
 */
describe('ingest rejections', () => {
  let t: TestPlatform;
  let client: MqttClient;
  let good: SimulatedDevice;
  let other: SimulatedDevice;
  let suspended: SimulatedDevice;
  let revoked: SimulatedDevice;
  let uncertified: SimulatedDevice;
  const goodSeqs: number[] = [];

  before(async () => {
    t = await startTestPlatform();
    [good, other, suspended, revoked] = (await provisionDevices(t, ['rj-good', 'rj-other', 'rj-susp', 'rj-revk'])) as [
      SimulatedDevice,
      SimulatedDevice,
      SimulatedDevice,
      SimulatedDevice,
    ];
    [uncertified] = (await provisionDevices(t, ['rj-uncert'], { certify: false })) as [SimulatedDevice];
    client = await mqtt.connectAsync(t.config.mqttUrl, { protocolVersion: 5 });
  });
  after(async () => {
    await client?.endAsync();
    await t?.close();
  });

  const publish = (topic: string, payload: string | Buffer) => client.publishAsync(topic, payload, { qos: 1 });
  const topic = (d: SimulatedDevice) => topicFor(t.config.mqttTopicRoot, d);
  async function sendGood(): Promise<void> {
    const env = nextMessage(good, 'machine.state', { state: 'running' });
    goodSeqs.push(good.seq);
    await publish(topic(good), JSON.stringify(env));
  }
  async function deadLetter(reason: string, n = 1): Promise<{ device_id: string | null; detail: string }[]> {
    return waitFor(`${n} ${reason} dead letter(s)`, async () => {
      const { rows } = await t.platform.pool.query(
        'SELECT device_id, detail FROM dead_letters WHERE reason = $1 ORDER BY id',
        [reason],
      );
      return rows.length >= n ? rows : undefined;
    });
  }

  test('malformed, oversized and invalid payloads', async () => {
    await sendGood();
    await publish(topic(good), '{"body": "not closed');
    await sendGood();
    await publish(topic(good), Buffer.alloc(t.config.maxMessageBytes + 1, 'x'));
    await sendGood();
    await publish(topic(good), JSON.stringify({ body: '{}' }));
    await sendGood();
    // Signed correctly, but not canonical: keys out of order and spaces, so one event would have two leaves.
    const body = `{"v": 1, "deviceId": "${good.deviceId}", "seq": ${good.seq + 1}, "time": "${new Date().toISOString()}", "type": "machine.state", "data": {"state": "idle"}}`;
    const sig = sign('sha256', Buffer.from(body), { key: good.privateKey, dsaEncoding: 'ieee-p1363' });
    await publish(topic(good), JSON.stringify({ body, sig: sig.toString('base64url') }));
    await sendGood();
    await deadLetter(DeviceMessageRejections.MALFORMED_JSON);
    await deadLetter(DeviceMessageRejections.PAYLOAD_TOO_LARGE);
    const invalid = await deadLetter(DeviceMessageRejections.VALIDATION_FAILED, 2);
    assert.ok(
      invalid.some((r) => /canonical/.test(r.detail)),
      'the non-canonical body is named as such',
    );
  });

  test('wrong topic, unknown device, forged signature', async () => {
    await publish(topic(other), JSON.stringify(nextMessage(good, 'machine.state', { state: 'idle' })));
    await sendGood();
    const ghost = { ...good, deviceId: 'rj-ghost', seq: 0 };
    await publish(topic(ghost), JSON.stringify(nextMessage(ghost, 'machine.state', { state: 'idle' })));
    await sendGood();
    const intruder = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await publish(topic(good), JSON.stringify(nextMessage({ ...good, privateKey: intruder }, 'machine.state', {})));
    good.seq++;
    await sendGood();
    assert.equal((await deadLetter(DeviceMessageRejections.TOPIC_MISMATCH))[0]?.device_id, good.deviceId);
    assert.equal((await deadLetter(DeviceMessageRejections.UNKNOWN_DEVICE))[0]?.device_id, 'rj-ghost');
    assert.equal((await deadLetter(DeviceMessageRejections.BAD_SIGNATURE))[0]?.device_id, good.deviceId);
  });

  test('certification at the event time: before certification, after suspension, after revocation', async () => {
    // A certified device's message dated before its certification.
    await publish(
      topic(good),
      JSON.stringify(nextMessage(good, 'machine.state', { state: 'idle' }, new Date(Date.now() - 3600_000))),
    );
    await sendGood();
    await publish(topic(uncertified), JSON.stringify(nextMessage(uncertified, 'machine.state', { state: 'idle' })));
    await sendGood();
    // The suspended device was accepted while certified (its registry entry is cached), then suspended.
    await publish(topic(suspended), JSON.stringify(nextMessage(suspended, 'machine.state', { state: 'running' })));
    await waitFor('the certified message stored', async () => {
      const { rows } = await t.platform.pool.query('SELECT 1 FROM device_events WHERE device_id = $1', [
        suspended.deviceId,
      ]);
      return rows.length === 1;
    });
    await deviceAction(t, suspended.deviceId, 'suspend');
    await deviceAction(t, revoked.deviceId, 'revoke');
    await waitFor('the registry to see the ledger changes', async () => {
      const s = await t.platform.registry.get(suspended.deviceId);
      const r = await t.platform.registry.get(revoked.deviceId);
      return s?.states.at(-1)?.status === 'SUSPENDED' && r?.states.at(-1)?.status === 'REVOKED';
    });
    await publish(topic(suspended), JSON.stringify(nextMessage(suspended, 'machine.state', { state: 'running' })));
    await sendGood();
    await publish(topic(revoked), JSON.stringify(nextMessage(revoked, 'machine.state', { state: 'running' })));
    await sendGood();
    const notCertified = await deadLetter(DeviceMessageRejections.DEVICE_NOT_CERTIFIED, 3);
    assert.deepEqual(notCertified.map((r) => r.device_id).sort(), [
      good.deviceId,
      suspended.deviceId,
      uncertified.deviceId,
    ]);
    assert.equal((await deadLetter(DeviceMessageRejections.DEVICE_REVOKED))[0]?.device_id, revoked.deviceId);
  });

  test('a replayed sequence number is rejected; an unchanged redelivery is acknowledged as a duplicate', async () => {
    const first = await t.platform.pool.query(
      'SELECT message, signature FROM device_events WHERE device_id = $1 AND seq = $2',
      [good.deviceId, goodSeqs[0]],
    );
    assert.equal(first.rowCount, 1);
    const duplicatesBefore = t.platform.ingest.metrics.duplicates;
    await publish(topic(good), JSON.stringify({ body: first.rows[0].message, sig: first.rows[0].signature }));
    const replay = signDeviceMessage(
      {
        v: 1,
        deviceId: good.deviceId,
        seq: goodSeqs[0] as number,
        time: new Date().toISOString(),
        type: 'production.count',
        data: { units: 500 },
      },
      good.privateKey,
    );
    await publish(topic(good), JSON.stringify(replay));
    await sendGood();
    await deadLetter(DeviceMessageRejections.REPLAY);
    await waitFor('the duplicate counted', async () => t.platform.ingest.metrics.duplicates > duplicatesBefore);
  });

  test('every good message sent between the bad ones is stored, and each reason is counted at /metrics', async () => {
    const stored = await waitFor('all good messages stored', async () => {
      const { rows } = await t.platform.pool.query('SELECT seq FROM device_events WHERE device_id = $1 ORDER BY seq', [
        good.deviceId,
      ]);
      return rows.length === goodSeqs.length ? rows.map((r) => Number(r.seq)) : undefined;
    });
    assert.deepEqual(stored, goodSeqs);
    const { rows } = await t.platform.pool.query('SELECT reason, COUNT(*)::int AS n FROM dead_letters GROUP BY reason');
    const expected: Record<string, number> = {
      MALFORMED_JSON: 1,
      PAYLOAD_TOO_LARGE: 1,
      VALIDATION_FAILED: 2,
      TOPIC_MISMATCH: 1,
      UNKNOWN_DEVICE: 1,
      BAD_SIGNATURE: 1,
      DEVICE_NOT_CERTIFIED: 3,
      DEVICE_REVOKED: 1,
      REPLAY: 1,
    };
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.reason, r.n])), expected);
    const metrics = await request(t.app.server)
      .get('/metrics')
      .set('authorization', `Bearer ${t.config.metricsToken}`)
      .expect(200);
    for (const [reason, n] of Object.entries(expected)) {
      assert.match(metrics.text, new RegExp(`^c2m_ingest_rejected_total\\{reason="${reason}"\\} ${n}$`, 'm'));
    }
  });

  test('the simulator misbehaves on request, and the ingest tells each kind apart', async () => {
    const before = await t.platform.pool.query(
      `SELECT (SELECT COUNT(*) FROM device_events)::int AS stored,
              (SELECT COUNT(*) FROM dead_letters WHERE reason = 'BAD_SIGNATURE')::int AS bad,
              (SELECT COUNT(*) FROM dead_letters WHERE reason = 'REPLAY')::int AS replays`,
    );
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const result = await runSimulator({
      mqttUrl: t.config.mqttUrl,
      topicRoot: t.config.mqttTopicRoot,
      devices: [good, other],
      ratePerSecond: 2000,
      count: 200,
      badSignatureRate: 0.1,
      replayRate: 0.1,
      random,
    });
    assert.ok(result.badSignatures > 5 && result.replays > 5, JSON.stringify(result));
    const b = before.rows[0];
    let last: unknown;
    await waitFor('every simulated message stored or dead-lettered', async () => {
      const { rows } = await t.platform.pool.query(
        `SELECT (SELECT COUNT(*) FROM device_events)::int AS stored,
                (SELECT COUNT(*) FROM dead_letters WHERE reason = 'BAD_SIGNATURE')::int AS bad,
                (SELECT COUNT(*) FROM dead_letters WHERE reason = 'REPLAY')::int AS replays`,
      );
      const r = rows[0];
      last = { before: b, now: r, result };
      return (
        r.stored - b.stored === 200 - result.badSignatures - result.replays &&
        r.bad - b.bad === result.badSignatures &&
        r.replays - b.replays === result.replays
      );
    }).catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(last)}`);
    });
  });
});
