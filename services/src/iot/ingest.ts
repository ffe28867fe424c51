import os from 'node:os';
import type { MqttClient } from 'mqtt';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Piscina } from 'piscina';
import { leafHash } from '../trace/merkle.js';
import {
  type DeviceEnvelope,
  type DeviceMessageBody,
  DeviceMessageError,
  type DeviceMessageRejection,
  DeviceMessageRejections,
  parseDeviceMessage,
  verifyDeviceSignature,
} from './device-message.js';
import { certifiedAt, type DeviceRegistry, keyAt, type RegisteredDevice } from './device-registry.js';
import { type Ack, connectWithDeferredAcks } from './mqtt-deferred-ack.js';
import type { VerifyTask } from './verify-worker.js';

export interface IngestDeps {
  readonly pool: pg.Pool;
  readonly registry: DeviceRegistry;
  readonly logger: Logger;
  readonly mqttUrl: string;
  readonly topicRoot: string;
  readonly clientId: string;
  readonly maxMessageBytes: number;
  /** Flush after this many buffered messages... */
  readonly batchSize?: number;
  /** ...or this long after the first one arrived. */
  readonly flushMs?: number;
  /**
   * Anti-replay window (as in IPsec, RFC 4303 3.4.3): a sequence number never seen before is accepted late if it
   * is within this many of the device's highest stored one. Several ingest processes on one shared subscription
   * can commit a device's messages out of order; a repeat of a seen number, or one older than the window, is a
   * REPLAY.
   */
  readonly reorderWindow?: number;
  /** TLS client material for an mqtts:// broker (the production Mosquitto's services listener): PEM strings. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Worker threads verifying signatures; 0 verifies on the main thread. Default: one per core. */
  readonly verifyThreads?: number;
  /** Unacknowledged messages the broker may have in flight to this ingest (MQTT 5 Receive Maximum). */
  readonly receiveMaximum?: number;
}

interface Pending {
  readonly topic: string;
  readonly payload: Buffer;
  readonly ack: Ack;
}

interface Accepted {
  readonly body: DeviceMessageBody;
  readonly factoryMspId: string;
  readonly message: string;
  readonly sig: string;
  readonly leaf: string;
}

interface Rejected {
  readonly topic: string;
  readonly deviceId: string | null;
  readonly reason: DeviceMessageRejection;
  readonly detail: string;
  readonly payload: string;
}

interface Classified {
  readonly accepted: Accepted[];
  readonly rejected: Rejected[];
}

/** Shared subscription group: several ingest processes split the devices' messages. */
export const INGEST_SHARE_GROUP = 'c2m-ingest';

export function createIngestMetrics() {
  const rejected: Record<string, number> = {};
  // Every reason appears at /metrics from the start, so a dashboard can rate() it.
  for (const reason of Object.values(DeviceMessageRejections)) rejected[reason] = 0;
  return {
    received: 0,
    accepted: 0,
    duplicates: 0,
    rejected,
    flushes: 0,
    flushFailures: 0,
    /** Milliseconds spent checking messages (parse, registry, signatures) and writing batches. */
    classifyMs: 0,
    writeMs: 0,
  };
}
export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

/**
 * The device-message ingest: MQTT 5 shared subscription with a persistent
 * session, QoS 1, and acknowledgements held back until the message is durable
 * in PostgreSQL (accepted) or in the dead-letter table (rejected). A message
 * whose write failed is never acknowledged, so the broker redelivers it.
 *
 * Checking a batch (parse, registry, signatures on worker threads) overlaps
 * with writing the previous one; writes stay strictly in arrival order, and a
 * failed write holds back every later batch until it succeeds, so a device's
 * sequence numbers reach the replay check in order.
 */
export function createIngest(deps: IngestDeps) {
  const batchSize = deps.batchSize ?? 500;
  const flushMs = deps.flushMs ?? 20;
  const threads = deps.verifyThreads ?? os.availableParallelism();
  const reorderWindow = deps.reorderWindow ?? 1024;
  const metrics = createIngestMetrics();
  const maxSeq = new Map<string, number>();
  const keyIds = new WeakMap<RegisteredDevice, readonly [number, Uint8Array]>();
  let nextKeyId = 1;
  let verifier: Piscina<VerifyTask, Uint8Array> | undefined;
  let buffer: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let failed: Pending[] | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let client: MqttClient | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;

  function schedule() {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      cut();
    }, flushMs);
  }

  /** Takes the buffer as one batch: checking starts now, the write queues behind the previous one. */
  function cut() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const items = buffer;
    buffer = [];
    if (items.length === 0) return;
    const checked = classify(items);
    checked.catch(() => {});
    writing = writing.then(() => write(items, checked));
  }

  function onMessage(topic: string, payload: Buffer, ack: Ack) {
    // Other device topics reach us only through the wider filter held while resubscribing.
    if (!topic.endsWith('/events')) return ack();
    metrics.received++;
    buffer.push({ topic, payload, ack });
    if (buffer.length >= batchSize) cut();
    else schedule();
  }

  function keyOf(device: RegisteredDevice): readonly [number, Uint8Array] {
    let k = keyIds.get(device);
    if (!k) {
      // PEM to DER is base64; KeyObject.export goes through OpenSSL's encoder and costs far more.
      const der = device.publicKeyPem
        ? Buffer.from(device.publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')
        : device.publicKey.export({ type: 'spki', format: 'der' });
      k = [nextKeyId++, new Uint8Array(der)];
      keyIds.set(device, k);
    }
    return k;
  }

  /** Verifies envelopes, spread over the worker threads in chunks. */
  async function verifyAll(items: readonly { envelope: DeviceEnvelope; device: RegisteredDevice }[]) {
    if (!verifier || items.length < 16) return items.map((i) => verifyDeviceSignature(i.envelope, i.device.publicKey));
    const chunk = Math.max(32, Math.ceil(items.length / (threads * 2)));
    const runs: Promise<Uint8Array>[] = [];
    for (let start = 0; start < items.length; start += chunk) {
      const part = items.slice(start, start + chunk);
      const keys = new Map<number, Uint8Array>();
      const ids: number[] = [];
      for (const p of part) {
        const [id, der] = keyOf(p.device);
        keys.set(id, der);
        ids.push(id);
      }
      runs.push(
        verifier.run({
          keys: [...keys],
          keyIds: ids,
          bodies: part.map((p) => p.envelope.body),
          sigs: part.map((p) => p.envelope.sig),
        }),
      );
    }
    const results = await Promise.all(runs);
    return results.flatMap((r) => Array.from(r, (v) => v === 1));
  }

  async function classify(items: Pending[]): Promise<Classified> {
    const started = performance.now();
    const accepted: Accepted[] = [];
    const rejected: Rejected[] = [];
    const reject = (item: Pending, deviceId: string | null, err: DeviceMessageError) =>
      rejected.push({
        topic: item.topic,
        deviceId,
        reason: err.reason,
        detail: err.message,
        payload: item.payload.toString('utf8').slice(0, 20000),
      });
    const parsed: { item: Pending; envelope: DeviceEnvelope; body: DeviceMessageBody; factory: string }[] = [];
    for (const item of items) {
      let deviceId: string | null = null;
      try {
        const { envelope, body } = parseDeviceMessage(item.payload, deps.maxMessageBytes);
        deviceId = body.deviceId;
        const parts = item.topic.slice(deps.topicRoot.length + 1).split('/');
        if (parts[1] !== body.deviceId) {
          throw new DeviceMessageError(
            DeviceMessageRejections.TOPIC_MISMATCH,
            `topic ${item.topic} is not ${deviceId}'s`,
          );
        }
        parsed.push({ item, envelope, body, factory: parts[0] as string });
      } catch (err) {
        if (!(err instanceof DeviceMessageError)) throw err;
        reject(item, deviceId, err);
      }
    }
    const ids = [...new Set(parsed.map((p) => p.body.deviceId))];
    const found = await Promise.all(ids.map((id) => deps.registry.get(id)));
    const devices = new Map(ids.map((id, i) => [id, found[i]]));
    const toVerify: { item: Pending; envelope: DeviceEnvelope; body: DeviceMessageBody; device: RegisteredDevice }[] =
      [];
    for (const p of parsed) {
      const device = devices.get(p.body.deviceId);
      if (!device) {
        reject(
          p.item,
          p.body.deviceId,
          new DeviceMessageError(DeviceMessageRejections.UNKNOWN_DEVICE, `${p.body.deviceId} is not registered`),
        );
      } else if (p.factory !== device.factoryMspId) {
        reject(
          p.item,
          p.body.deviceId,
          new DeviceMessageError(
            DeviceMessageRejections.TOPIC_MISMATCH,
            `${p.body.deviceId} belongs to ${device.factoryMspId}, not ${p.factory}`,
          ),
        );
      } else toVerify.push({ ...p, device: keyAt(device, Date.parse(p.body.time)) });
    }
    const valid = await verifyAll(toVerify);
    toVerify.forEach((v, i) => {
      const { body, device } = v;
      if (!valid[i]) {
        reject(
          v.item,
          body.deviceId,
          new DeviceMessageError(
            DeviceMessageRejections.BAD_SIGNATURE,
            `signature does not verify for ${body.deviceId}`,
          ),
        );
        return;
      }
      const t = Date.parse(body.time);
      if (!certifiedAt(device.states, t)) {
        const revoked = device.states.some((s) => s.status === 'REVOKED' && s.from <= t);
        reject(
          v.item,
          body.deviceId,
          new DeviceMessageError(
            revoked ? DeviceMessageRejections.DEVICE_REVOKED : DeviceMessageRejections.DEVICE_NOT_CERTIFIED,
            `${body.deviceId} was not certified at ${body.time}`,
          ),
        );
        return;
      }
      accepted.push({
        body,
        factoryMspId: device.factoryMspId,
        message: v.envelope.body,
        sig: v.envelope.sig,
        leaf: leafHash(v.envelope.body),
      });
    });
    metrics.classifyMs += performance.now() - started;
    return { accepted, rejected };
  }

  /**
   * Splits accepted messages into new ones, exact redeliveries (acked silently) and replays,
   * in arrival order: a device's seq must grow message by message, so a lower seq arriving
   * after a higher one is a replay even within one batch (sorting first would let it in).
   */
  async function sequence(db: pg.PoolClient, accepted: Accepted[], rejected: Rejected[]): Promise<Accepted[]> {
    const unknown = [...new Set(accepted.map((a) => a.body.deviceId))].filter((d) => !maxSeq.has(d));
    if (unknown.length > 0) {
      const { rows } = await db.query(
        'SELECT device_id, MAX(seq) AS max FROM device_events WHERE device_id = ANY($1) GROUP BY device_id',
        [unknown],
      );
      for (const d of unknown) maxSeq.set(d, 0);
      for (const r of rows) maxSeq.set(r.device_id, Number(r.max));
    }
    const fresh: Accepted[] = [];
    const stale: Accepted[] = [];
    const seen = new Map<string, number>();
    // The highest number received before each stale message, as the anti-replay window counts from it.
    const highest = new Map<Accepted, number>();
    for (const a of accepted) {
      const floor = Math.max(maxSeq.get(a.body.deviceId) ?? 0, seen.get(a.body.deviceId) ?? 0);
      if (a.body.seq > floor) {
        fresh.push(a);
        seen.set(a.body.deviceId, a.body.seq);
      } else {
        stale.push(a);
        highest.set(a, floor);
      }
    }
    if (stale.length > 0) {
      const { rows } = await db.query(
        `SELECT device_id, seq, signature FROM device_events
         WHERE (device_id, seq) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
        [stale.map((s) => s.body.deviceId), stale.map((s) => s.body.seq)],
      );
      const stored = new Map(rows.map((r) => [`${r.device_id}/${r.seq}`, r.signature as string]));
      const inBatch = new Map(fresh.map((f) => [`${f.body.deviceId}/${f.body.seq}`, f.sig]));
      for (const s of stale) {
        const key = `${s.body.deviceId}/${s.body.seq}`;
        const sig = stored.get(key) ?? inBatch.get(key);
        const max = highest.get(s) ?? 0;
        if (sig === s.sig) {
          // Same message again (QoS 1 redelivery): already durable, or about to be; just acknowledge it.
          metrics.duplicates++;
        } else if (sig === undefined && s.body.seq > max - reorderWindow) {
          // Never seen and within the window: a late arrival (e.g. through another ingest process).
          fresh.push(s);
          inBatch.set(key, s.sig);
        } else {
          rejected.push({
            topic: '',
            deviceId: s.body.deviceId,
            reason: DeviceMessageRejections.REPLAY,
            detail:
              sig === undefined
                ? `seq ${s.body.seq} is older than the reorder window (${reorderWindow}) below ${max}`
                : `seq ${s.body.seq} was already used by another message`,
            payload: JSON.stringify({ body: s.message, sig: s.sig }),
          });
        }
      }
    }
    return fresh;
  }

  async function settleConflicts(
    db: pg.PoolClient,
    fresh: Accepted[],
    inserted: readonly { device_id: string; seq: number | string }[],
    rejected: Rejected[],
  ): Promise<Accepted[]> {
    const done = new Set(inserted.map((r) => `${r.device_id}/${Number(r.seq)}`));
    const lost = fresh.filter((a) => !done.has(`${a.body.deviceId}/${a.body.seq}`));
    const { rows } = await db.query(
      `SELECT device_id, seq, signature FROM device_events
       WHERE (device_id, seq) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
      [lost.map((a) => a.body.deviceId), lost.map((a) => a.body.seq)],
    );
    const stored = new Map(rows.map((r) => [`${r.device_id}/${r.seq}`, r.signature as string]));
    for (const a of lost) {
      if (stored.get(`${a.body.deviceId}/${a.body.seq}`) === a.sig) metrics.duplicates++;
      else {
        rejected.push({
          topic: '',
          deviceId: a.body.deviceId,
          reason: DeviceMessageRejections.REPLAY,
          detail: `seq ${a.body.seq} was already used by another message`,
          payload: JSON.stringify({ body: a.message, sig: a.sig }),
        });
      }
    }
    return fresh.filter((a) => done.has(`${a.body.deviceId}/${a.body.seq}`));
  }

  async function write(items: Pending[], checked: Promise<Classified>): Promise<void> {
    if (failed) {
      // An earlier batch is waiting to be retried: this one must not overtake it.
      failed.push(...items);
      return;
    }
    try {
      const { accepted, rejected } = await checked;
      const started = performance.now();
      const db = await deps.pool.connect();
      let fresh: Accepted[] = [];
      try {
        await db.query('BEGIN');
        fresh = await sequence(db, accepted, rejected);
        if (fresh.length > 0) {
          const inserted = await db.query(
            `INSERT INTO device_events (device_id, factory_msp, seq, event_time, type, work_order_id, data, message, signature, leaf_hash)
             SELECT d, f, s, t, ty, w, da::jsonb, m, sg, l
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::text[]) AS x(d, f, s, t, ty, w, da, m, sg, l)
             ON CONFLICT (device_id, seq) DO NOTHING
             RETURNING device_id, seq`,
            [
              fresh.map((a) => a.body.deviceId),
              fresh.map((a) => a.factoryMspId),
              fresh.map((a) => a.body.seq),
              fresh.map((a) => a.body.time),
              fresh.map((a) => a.body.type),
              fresh.map((a) => (typeof a.body.data.workOrderId === 'string' ? a.body.data.workOrderId : null)),
              fresh.map((a) => JSON.stringify(a.body.data)),
              fresh.map((a) => a.message),
              fresh.map((a) => a.sig),
              fresh.map((a) => a.leaf),
            ],
          );
          if (inserted.rows.length < fresh.length) {
            // Another ingest process stored some of these numbers first: the same message is a duplicate,
            // another message with a used number a replay.
            fresh = await settleConflicts(db, fresh, inserted.rows, rejected);
          }
        }
        if (rejected.length > 0) {
          await db.query(
            `INSERT INTO dead_letters (topic, device_id, reason, detail, payload)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`,
            [
              rejected.map((r) => r.topic),
              rejected.map((r) => r.deviceId),
              rejected.map((r) => r.reason),
              rejected.map((r) => r.detail),
              rejected.map((r) => r.payload),
            ],
          );
        }
        await db.query('COMMIT');
      } catch (err) {
        await db.query('ROLLBACK').catch(() => {});
        maxSeq.clear();
        throw err;
      } finally {
        db.release();
      }
      for (const a of fresh) maxSeq.set(a.body.deviceId, Math.max(maxSeq.get(a.body.deviceId) ?? 0, a.body.seq));
      // Durable now, accepted or dead-lettered: acknowledge to the broker.
      for (const i of items) i.ack();
      metrics.accepted += fresh.length;
      for (const r of rejected) metrics.rejected[r.reason] = (metrics.rejected[r.reason] ?? 0) + 1;
      metrics.flushes++;
      metrics.writeMs += performance.now() - started;
    } catch (err) {
      metrics.flushFailures++;
      deps.logger.error({ err, messages: items.length }, 'ingest write failed; retrying');
      failed = items;
      if (!closed) retryTimer = setTimeout(retry, 1000);
    }
  }

  /** Runs in the write queue, so batches queued behind the failed one have joined it by then. */
  function retry() {
    retryTimer = undefined;
    writing = writing.then(async () => {
      const items = failed ?? [];
      failed = undefined;
      if (items.length > 0) await write(items, classify(items));
    });
  }

  return {
    metrics,
    topicFilter: `$share/${INGEST_SHARE_GROUP}/${deps.topicRoot}/+/+/events`,
    async start(): Promise<void> {
      if (threads > 0) {
        verifier = new Piscina<VerifyTask, Uint8Array>({
          filename: new URL('./verify-worker.js', import.meta.url).href,
          minThreads: threads,
          maxThreads: threads,
          idleTimeout: Number.POSITIVE_INFINITY,
        });
      }
      client = connectWithDeferredAcks(
        deps.mqttUrl,
        {
          clientId: deps.clientId,
          protocolVersion: 5,
          clean: false,
          properties: { sessionExpiryInterval: 24 * 3600, receiveMaximum: deps.receiveMaximum ?? 8192 },
          // Back before the devices (see the subscription below).
          reconnectPeriod: 250,
          ...(deps.tls ?? {}),
        },
        onMessage,
      );
      client.on('error', (err) => deps.logger.warn({ err }, 'ingest mqtt error'));
      const filter = `$share/${INGEST_SHARE_GROUP}/${deps.topicRoot}/+/+/events`;
      // Subscribe afresh on every connection. Mosquitto 2.0.11 restores a persistent session
      // after its own restart without the session's shared subscription, yet answers a new
      // SUBSCRIBE as if it were still there, and drops what the devices publish: only an
      // UNSUBSCRIBE first repairs it. So that no message falls into that gap, a second, wider
      // filter in the group covers it; what arrives twice meanwhile is a duplicate, acked as such.
      const bridge = `$share/${INGEST_SHARE_GROUP}/${deps.topicRoot}/+/+/+`;
      let subscribed: Promise<unknown> = Promise.resolve();
      client.on('connect', (connack) => {
        const c = client as MqttClient;
        subscribed = (
          connack.sessionPresent
            ? c
                .subscribeAsync(bridge, { qos: 1 })
                .then(() => c.unsubscribeAsync(filter))
                .then(() => c.subscribeAsync(filter, { qos: 1 }))
                .then(() => c.unsubscribeAsync(bridge))
            : c.subscribeAsync(filter, { qos: 1 })
        ).catch((err) => deps.logger.error({ err }, 'ingest subscribe failed'));
      });
      await new Promise<void>((resolve, reject) => {
        client?.once('connect', () => resolve());
        client?.once('error', reject);
      });
      await subscribed;
      deps.logger.info({ topic: deps.topicRoot, verifyThreads: threads }, 'ingest subscribed');
    },
    connected(): boolean {
      return client?.connected ?? false;
    },
    /** Waits until everything received so far has been written or dead-lettered. */
    async drain(): Promise<void> {
      for (;;) {
        cut();
        await writing;
        if (buffer.length === 0 && !failed) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /**
     * Writes and acknowledges what was received, then disconnects, keeping the
     * session (unless a write is failing: those messages stay unacknowledged
     * and the broker redelivers them).
     */
    close(): Promise<void> {
      closing ??= (async () => {
        closed = true;
        cut();
        if (retryTimer) clearTimeout(retryTimer);
        await writing;
        // Whatever arrived since stays unacknowledged; the broker redelivers it to the next session.
        await client?.endAsync();
        await verifier?.close();
      })();
      return closing;
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
