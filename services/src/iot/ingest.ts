import os from 'node:os';
import type { MqttClient } from 'mqtt';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Piscina } from 'piscina';
import { type ConfirmationResult, confirmationTopic, encodeConfirmation } from './confirmations.js';
import { type DeviceEnvelope, DeviceMessageRejections, verifyDeviceSignature } from './device-message.js';
import type { DeviceRegistry, RegisteredDevice } from './device-registry.js';
import {
  type Accepted,
  createClassifier,
  type Received,
  type Rejected,
  storable,
  type Verdicts,
} from './ingest-classifier.js';
import { createIngestWriter, type Written } from './ingest-writer.js';
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
  /**
   * Largest jump of a device's sequence number above its highest stored one (default 1,000,000). Bounds what one
   * message can do to a device's counter: a signed 2^53-1 once made every later number a replay.
   */
  readonly maxSeqGap?: number;
  /**
   * How long before its receipt an event may claim to have happened, ms (default 24 h: an edge gateway that was
   * offline for a shift still delivers). Older claims are CLOCK_SKEW. Whatever the claim, a device's state must
   * not have changed between the claimed time and receipt (see `createClassifier`).
   */
  readonly maxPastSkewMs?: number;
  /** How far after its receipt an event may claim to have happened, ms (default 120 s: device clocks drift). */
  readonly maxFutureSkewMs?: number;
  /** TLS client material for an mqtts:// broker (the production Mosquitto's services listener): PEM strings. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Worker threads verifying signatures; 0 verifies on the main thread. Default: one per core. */
  readonly verifyThreads?: number;
  /** Unacknowledged messages the broker may have in flight to this ingest (MQTT 5 Receive Maximum). */
  readonly receiveMaximum?: number;
  /**
   * Publish an end-to-end confirmation to `{root}/{factory}/{device}/confirm` once a message is durable
   * (stored, duplicate or dead-lettered), so that a device can keep each message until the platform has it,
   * whatever the broker loses (default true; see confirmations.ts).
   */
  readonly confirm?: boolean;
  /** Failing writes for this long make `healthy()` false, and /ready with it (default 5 s). */
  readonly unhealthyAfterMs?: number;
  /** Attempts to check a message whose device record cannot be read before it is dead-lettered (default 10). */
  readonly maxDeferrals?: number;
}

interface Pending extends Received {
  readonly ack: Ack;
  deferrals: number;
}

/** Shared subscription group: several ingest processes split the devices' messages. */
export const INGEST_SHARE_GROUP = 'c2m-ingest';

/** In-process figures; the durable counters are in the `ingest_counters` table (see ingest-writer.ts). */
export function createIngestMetrics() {
  return {
    received: 0,
    /** Stored, redelivered and dead-lettered by this process (the durable totals are in the database). */
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    flushes: 0,
    flushFailures: 0,
    deferred: 0,
    /** Milliseconds spent checking messages (parse, registry, signatures) and writing batches. */
    classifyMs: 0,
    writeMs: 0,
  };
}
export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

/** Verifies envelopes on worker threads in chunks, each key sent once per chunk under a cached id. */
function threadVerifier(threads: number) {
  const pool = new Piscina<VerifyTask, Uint8Array>({
    filename: new URL('./verify-worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  const keyIds = new WeakMap<RegisteredDevice, readonly [number, Uint8Array]>();
  let nextKeyId = 1;
  const keyOf = (device: RegisteredDevice): readonly [number, Uint8Array] => {
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
  };
  return {
    async verify(items: readonly { envelope: DeviceEnvelope; device: RegisteredDevice }[]): Promise<boolean[]> {
      if (items.length < 16) return items.map((i) => verifyDeviceSignature(i.envelope, i.device.publicKey));
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
          pool.run({
            keys: [...keys],
            keyIds: ids,
            bodies: part.map((p) => p.envelope.body),
            sigs: part.map((p) => p.envelope.sig),
          }),
        );
      }
      const results = await Promise.all(runs);
      return results.flatMap((r) => Array.from(r, (v) => v === 1));
    },
    close: () => pool.close(),
  };
}

/**
 * The device-message ingest: MQTT 5 shared subscription with a persistent
 * session, QoS 1, and acknowledgements held back until the message is durable
 * in PostgreSQL (accepted) or in the dead-letter table (rejected). Three
 * parts joined by plain data: the batcher here, the classifier (every failure
 * of one message becomes its verdict, ingest-classifier.ts) and the writer
 * (sequence check and one transaction per batch, split on a data error,
 * ingest-writer.ts).
 *
 * Checking a batch overlaps with writing the previous one; writes stay in
 * arrival order. A write that fails for a transient reason (PostgreSQL away)
 * holds back every later batch and is retried with backoff; `healthy()` turns
 * false while it keeps failing.
 */
export function createIngest(deps: IngestDeps) {
  const batchSize = deps.batchSize ?? 500;
  const flushMs = deps.flushMs ?? 20;
  const threads = deps.verifyThreads ?? os.availableParallelism();
  const confirm = deps.confirm ?? true;
  const unhealthyAfterMs = deps.unhealthyAfterMs ?? 5000;
  const maxDeferrals = deps.maxDeferrals ?? 10;
  const metrics = createIngestMetrics();
  let verifier: ReturnType<typeof threadVerifier> | undefined;
  const owners = new Map<string, string>();
  const classify = createClassifier({
    registry: deps.registry,
    topicRoot: deps.topicRoot,
    maxMessageBytes: deps.maxMessageBytes,
    maxPastSkewMs: deps.maxPastSkewMs ?? 24 * 3600_000,
    maxFutureSkewMs: deps.maxFutureSkewMs ?? 120_000,
    workOrderOwners: async (ids) => {
      // A work order's factory never changes, so owners found once are kept: a busy line names the same work
      // order in every batch. Ids not found are asked again (the work order may be accepted a moment later).
      const missing = ids.filter((id) => !owners.has(id));
      if (missing.length > 0) {
        const { rows } = await deps.pool.query('SELECT id, factory_msp FROM work_orders WHERE id = ANY($1)', [missing]);
        if (owners.size + rows.length > 100_000) owners.clear();
        for (const r of rows) owners.set(r.id as string, r.factory_msp as string);
      }
      return owners;
    },
    verify: async (items) =>
      verifier ? verifier.verify(items) : items.map((i) => verifyDeviceSignature(i.envelope, i.device.publicKey)),
  });
  const writer = createIngestWriter({
    pool: deps.pool,
    logger: deps.logger,
    reorderWindow: deps.reorderWindow ?? 1024,
    maxSeqGap: deps.maxSeqGap ?? 1_000_000,
  });
  let buffer: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let failed: Pending[] | undefined;
  let failures = 0;
  let failingSince: number | undefined;
  let lastError: string | undefined;
  const timers = new Set<NodeJS.Timeout>();
  let client: MqttClient | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

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
    const checked = timedClassify(items);
    checked.catch(() => {});
    writing = writing.then(() => process(items, checked));
  }

  async function timedClassify(items: Pending[]): Promise<Verdicts> {
    const started = performance.now();
    try {
      return await classify(items);
    } finally {
      metrics.classifyMs += performance.now() - started;
    }
  }

  function onMessage(topic: string, payload: Buffer, ack: Ack) {
    // Other device topics reach us only through the wider filter held while resubscribing.
    if (!topic.endsWith('/events')) return ack();
    metrics.received++;
    buffer.push({ topic, payload, ack, receivedAt: Date.now(), deferrals: 0 });
    if (buffer.length >= batchSize) cut();
    else schedule();
  }

  /** Messages checked too often without their device record loading: dead letters, so they stop circling. */
  function giveUp(items: Pending[], deferred: Verdicts['deferred']): Rejected[] {
    return deferred
      .filter((d) => (items[d.index] as Pending).deferrals + 1 >= maxDeferrals)
      .map((d) => {
        const item = items[d.index] as Pending;
        const parts = item.topic.slice(deps.topicRoot.length + 1).split('/');
        return {
          index: d.index,
          topic: item.topic,
          deviceId: parts[1] ?? null,
          topicFactory: parts[0] ?? null,
          topicDevice: parts[1] ?? null,
          seq: null,
          sig: null,
          reason: DeviceMessageRejections.CHECK_FAILED,
          detail: storable(`device record unreadable after ${maxDeferrals} attempts: ${d.error.message}`),
          payload: item.payload,
        };
      });
  }

  async function process(items: Pending[], checked: Promise<Verdicts>): Promise<void> {
    if (failed) {
      // An earlier batch is waiting to be retried: this one must not overtake it.
      failed.push(...items);
      return;
    }
    try {
      const verdicts = await checked;
      const started = performance.now();
      const abandoned = giveUp(items, verdicts.deferred);
      const written = await writer.write(verdicts.accepted, [...verdicts.rejected, ...abandoned]);
      metrics.writeMs += performance.now() - started;
      // Durable now, stored or dead-lettered: acknowledge to the broker and confirm to the devices.
      for (const group of [written.stored, written.duplicates, written.rejected]) {
        for (const m of group) (items[m.index] as Pending).ack();
      }
      if (confirm) sendConfirmations(written);
      const gaveUp = new Set(abandoned.map((a) => a.index));
      const retry = verdicts.deferred.filter((d) => !gaveUp.has(d.index)).map((d) => items[d.index] as Pending);
      if (retry.length > 0) requeue(retry, verdicts.deferred[0]?.error);
      metrics.accepted += written.stored.length;
      metrics.duplicates += written.duplicates.length;
      metrics.rejected += written.rejected.length;
      metrics.flushes++;
      failures = 0;
      failingSince = undefined;
    } catch (err) {
      metrics.flushFailures++;
      failures++;
      failingSince ??= Date.now();
      lastError = (err as Error).message;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(failures, 5));
      deps.logger.error({ err, messages: items.length, retryInMs: delay }, 'ingest write failed; retrying');
      failed = items;
      if (!closed) later(delay, retryFailed);
    }
  }

  /** Device records that did not load: try those messages again in a later batch. */
  function requeue(retry: Pending[], error?: Error) {
    metrics.deferred += retry.length;
    deps.logger.warn({ err: error, messages: retry.length }, 'device record unreadable; checking again shortly');
    later(1000, () => {
      if (closed) return;
      for (const p of retry) p.deferrals++;
      buffer.push(...retry);
      schedule();
    });
  }

  /** Runs in the write queue, so batches queued behind the failed one have joined it by then. */
  function retryFailed() {
    writing = writing.then(async () => {
      const items = failed ?? [];
      failed = undefined;
      if (items.length > 0) await process(items, timedClassify(items));
    });
  }

  function sendConfirmations(written: Written) {
    const byDevice = new Map<string, ConfirmationResult[]>();
    const add = (factory: string | null, device: string | null, r: ConfirmationResult) => {
      if (!factory || !device) return;
      const topic = confirmationTopic(deps.topicRoot, factory, device);
      const list = byDevice.get(topic) ?? [];
      list.push(r);
      byDevice.set(topic, list);
    };
    const ok = (a: Accepted, status: 'stored' | 'duplicate') =>
      add(a.factoryMspId, a.body.deviceId, { seq: a.body.seq, sig: a.sig, status });
    for (const a of written.stored) ok(a, 'stored');
    for (const a of written.duplicates) ok(a, 'duplicate');
    for (const r of written.rejected) {
      if (r.seq !== null && r.sig !== null) {
        add(r.topicFactory, r.topicDevice, { seq: r.seq, sig: r.sig, status: 'rejected', reason: r.reason });
      }
    }
    for (const [topic, results] of byDevice) {
      client?.publishAsync(topic, encodeConfirmation(results), { qos: 1 }).catch((err) => {
        // A lost confirmation costs a resend, which is acknowledged as a duplicate and confirmed again.
        deps.logger.debug({ err, topic }, 'confirmation not published');
      });
    }
  }

  return {
    metrics,
    topicFilter: `$share/${INGEST_SHARE_GROUP}/${deps.topicRoot}/+/+/events`,
    async start(): Promise<void> {
      if (threads > 0) verifier = threadVerifier(threads);
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
    /** False while writes have kept failing for `unhealthyAfterMs`: /ready reports it. */
    healthy(): boolean {
      return failingSince === undefined || Date.now() - failingSince < unhealthyAfterMs;
    },
    /** What /ready says about the ingest. */
    status(): { ok: boolean; detail: string } {
      if (this.healthy()) {
        return { ok: true, detail: failingSince === undefined ? 'writing' : `write failing, retrying (${lastError})` };
      }
      const s = Math.round((Date.now() - (failingSince as number)) / 1000);
      return { ok: false, detail: `writes failing for ${s} s (${failed?.length ?? 0} messages held): ${lastError}` };
    },
    /** Waits until everything received so far has been written or dead-lettered. */
    async drain(): Promise<void> {
      for (;;) {
        cut();
        await writing;
        if (buffer.length === 0 && !failed && timers.size === 0) return;
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
        for (const t of timers) clearTimeout(t);
        timers.clear();
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
