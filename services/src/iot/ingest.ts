import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type pg from 'pg';
import type { Logger } from 'pino';
import { leafHash } from '../trace/merkle.js';
import {
  type DeviceMessageBody,
  DeviceMessageError,
  type DeviceMessageRejection,
  DeviceMessageRejections,
  parseDeviceMessage,
  verifyDeviceSignature,
} from './device-message.js';
import { certifiedAt, type DeviceRegistry } from './device-registry.js';

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
}

interface Pending {
  readonly topic: string;
  readonly payload: Buffer;
  readonly ack: () => void;
}

interface Accepted {
  readonly body: DeviceMessageBody;
  readonly factoryMspId: string;
  readonly message: string;
  readonly sig: string;
  readonly leaf: string;
  readonly ack: () => void;
}

interface Rejected {
  readonly topic: string;
  readonly deviceId: string | null;
  readonly reason: DeviceMessageRejection;
  readonly detail: string;
  readonly payload: string;
}

/** Shared subscription group: several ingest processes split the devices' messages. */
export const INGEST_SHARE_GROUP = 'c2m-ingest';

export function createIngestMetrics() {
  return {
    received: 0,
    accepted: 0,
    duplicates: 0,
    rejected: {} as Record<string, number>,
    flushes: 0,
    flushFailures: 0,
  };
}
export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

/**
 * The device-message ingest: MQTT 5 shared subscription with a persistent
 * session, QoS 1, and acknowledgements held back until the message is durable
 * in PostgreSQL (accepted) or in the dead-letter table (rejected). A message
 * whose write failed is never acknowledged, so the broker redelivers it.
 */
export function createIngest(deps: IngestDeps) {
  const batchSize = deps.batchSize ?? 500;
  const flushMs = deps.flushMs ?? 20;
  const metrics = createIngestMetrics();
  const maxSeq = new Map<string, number>();
  let buffer: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let client: MqttClient | undefined;
  let closed = false;

  function schedule(delay = flushMs) {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      flushing = flushing.then(flush);
    }, delay);
  }

  function onMessage(topic: string, payload: Buffer, ack: () => void) {
    metrics.received++;
    buffer.push({ topic, payload, ack });
    if (buffer.length >= batchSize) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      flushing = flushing.then(flush);
    } else schedule();
  }

  async function classify(items: Pending[]): Promise<{ accepted: Accepted[]; rejected: Rejected[] }> {
    const accepted: Accepted[] = [];
    const rejected: Rejected[] = [];
    for (const item of items) {
      const text = item.payload.toString('utf8');
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
        const device = await deps.registry.get(body.deviceId);
        if (!device)
          throw new DeviceMessageError(DeviceMessageRejections.UNKNOWN_DEVICE, `${deviceId} is not registered`);
        if (parts[0] !== device.factoryMspId) {
          throw new DeviceMessageError(
            DeviceMessageRejections.TOPIC_MISMATCH,
            `${deviceId} belongs to ${device.factoryMspId}, not ${parts[0]}`,
          );
        }
        if (!verifyDeviceSignature(envelope, device.publicKey)) {
          throw new DeviceMessageError(
            DeviceMessageRejections.BAD_SIGNATURE,
            `signature does not verify for ${deviceId}`,
          );
        }
        const t = Date.parse(body.time);
        if (!certifiedAt(device.states, t)) {
          const revoked = device.states.some((s) => s.status === 'REVOKED' && s.from <= t);
          throw new DeviceMessageError(
            revoked ? DeviceMessageRejections.DEVICE_REVOKED : DeviceMessageRejections.DEVICE_NOT_CERTIFIED,
            `${deviceId} was not certified at ${body.time}`,
          );
        }
        accepted.push({
          body,
          factoryMspId: device.factoryMspId,
          message: envelope.body,
          sig: envelope.sig,
          leaf: leafHash(envelope.body),
          ack: item.ack,
        });
      } catch (err) {
        if (!(err instanceof DeviceMessageError)) throw err;
        rejected.push({
          topic: item.topic,
          deviceId,
          reason: err.reason,
          detail: err.message,
          payload: text.slice(0, 20000),
        });
        item.ack();
      }
    }
    return { accepted, rejected };
  }

  /** Splits accepted messages into new ones, exact redeliveries (acked silently) and replays. */
  async function sequence(db: pg.PoolClient, accepted: Accepted[], rejected: Rejected[]): Promise<Accepted[]> {
    accepted.sort((a, b) =>
      a.body.deviceId < b.body.deviceId ? -1 : a.body.deviceId > b.body.deviceId ? 1 : a.body.seq - b.body.seq,
    );
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
    for (const a of accepted) {
      const floor = Math.max(maxSeq.get(a.body.deviceId) ?? 0, seen.get(a.body.deviceId) ?? 0);
      if (a.body.seq > floor) {
        fresh.push(a);
        seen.set(a.body.deviceId, a.body.seq);
      } else stale.push(a);
    }
    if (stale.length > 0) {
      const { rows } = await db.query(
        `SELECT device_id, seq, signature FROM device_events
         WHERE (device_id, seq) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
        [stale.map((s) => s.body.deviceId), stale.map((s) => s.body.seq)],
      );
      const stored = new Map(rows.map((r) => [`${r.device_id}/${r.seq}`, r.signature as string]));
      for (const s of stale) {
        const sig = stored.get(`${s.body.deviceId}/${s.body.seq}`);
        // Same message again (QoS 1 redelivery): already durable, just acknowledge it.
        if (sig === undefined || sig !== s.sig) {
          rejected.push({
            topic: '',
            deviceId: s.body.deviceId,
            reason: DeviceMessageRejections.REPLAY,
            detail: `seq ${s.body.seq} is not after ${maxSeq.get(s.body.deviceId)}`,
            payload: JSON.stringify({ body: s.message, sig: s.sig }),
          });
        } else metrics.duplicates++;
      }
    }
    return fresh;
  }

  async function flush(): Promise<void> {
    const items = buffer;
    buffer = [];
    if (items.length === 0) return;
    try {
      const { accepted, rejected } = await classify(items);
      const db = await deps.pool.connect();
      let fresh: Accepted[] = [];
      try {
        await db.query('BEGIN');
        fresh = await sequence(db, accepted, rejected);
        if (fresh.length > 0) {
          await db.query(
            `INSERT INTO device_events (device_id, factory_msp, seq, event_time, type, work_order_id, data, message, signature, leaf_hash)
             SELECT d, f, s, t, ty, w, da::jsonb, m, sg, l
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::text[]) AS x(d, f, s, t, ty, w, da, m, sg, l)
             ON CONFLICT (device_id, seq) DO NOTHING`,
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
      // Durable now: acknowledge to the broker.
      for (const a of accepted) a.ack();
      metrics.accepted += fresh.length;
      for (const r of rejected) metrics.rejected[r.reason] = (metrics.rejected[r.reason] ?? 0) + 1;
      metrics.flushes++;
    } catch (err) {
      // Nothing of this batch was acknowledged except rejections already final; retry the rest later.
      metrics.flushFailures++;
      deps.logger.error({ err, messages: items.length }, 'ingest flush failed; retrying');
      buffer = items.concat(buffer);
      schedule(1000);
    }
  }

  return {
    metrics,
    topicFilter: `$share/${INGEST_SHARE_GROUP}/${deps.topicRoot}/+/+/events`,
    async start(): Promise<void> {
      client = mqtt.connect(deps.mqttUrl, {
        clientId: deps.clientId,
        protocolVersion: 5,
        clean: false,
        properties: { sessionExpiryInterval: 24 * 3600 },
        reconnectPeriod: 1000,
        customHandleAcks: (topic: string, message: Buffer, _packet: IPublishPacket, done: (code: number) => void) => {
          onMessage(topic, message, () => done(0));
        },
      });
      client.on('error', (err) => deps.logger.warn({ err }, 'ingest mqtt error'));
      await new Promise<void>((resolve, reject) => {
        client?.once('connect', () => resolve());
        client?.once('error', reject);
      });
      await client.subscribeAsync(`$share/${INGEST_SHARE_GROUP}/${deps.topicRoot}/+/+/events`, { qos: 1 });
      deps.logger.info({ topic: deps.topicRoot }, 'ingest subscribed');
    },
    connected(): boolean {
      return client?.connected ?? false;
    },
    /** Waits until everything received so far has been written or dead-lettered. */
    async drain(): Promise<void> {
      while (buffer.length > 0 || timer) {
        if (timer) {
          clearTimeout(timer);
          timer = undefined;
          flushing = flushing.then(flush);
        }
        await flushing;
        if (buffer.length > 0) await new Promise((r) => setTimeout(r, 50));
      }
      await flushing;
    },
    async close(): Promise<void> {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await flushing;
      if (buffer.length > 0) await flush();
      await client?.endAsync();
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
