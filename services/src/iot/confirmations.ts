import type { MqttClient } from 'mqtt';

/**
 * End-to-end confirmation of device messages.
 *
 * A broker's PUBACK says the broker has a message, not that the platform does:
 * Mosquitto 2.0 persists its store as a periodic snapshot, so a broker killed
 * between PUBACK and snapshot loses what it acknowledged. So a device keeps
 * every message until the platform confirms that it is durable, and sends it
 * again if no confirmation comes; the ingest acknowledges a resent message as
 * a duplicate and confirms it again. With this, nothing a device sent is lost
 * whatever the broker does, on any broker.
 *
 * The platform publishes, QoS 1, to `{root}/{factory}/{device}/confirm` (the
 * production ACL lets a device read only its own; the platform chooses the
 * topic from the verified message, never from a response-topic property a
 * device sets), one message per device per written batch:
 *
 *   {"v":1,"results":[{"seq":7,"sig":"<first 16 chars of the message's sig>","status":"stored"}, ...]}
 *
 * `status` is `stored`, `duplicate` (stored before) or `rejected` (dead-lettered,
 * with `reason`: the device must not resend it). A device matches a result on
 * seq and sig together, so a forged message with a device's seq confirms
 * nothing of the device's own.
 */
export interface ConfirmationResult {
  readonly seq: number;
  readonly sig: string;
  readonly status: 'stored' | 'duplicate' | 'rejected';
  readonly reason?: string;
}

/** Characters of the signature a confirmation carries: 96 bits, enough to tell a device's messages apart. */
export const CONFIRMATION_SIG_CHARS = 16;

export function confirmationTopic(topicRoot: string, factory: string, deviceId: string): string {
  return `${topicRoot}/${factory}/${deviceId}/confirm`;
}

export function encodeConfirmation(results: readonly ConfirmationResult[]): string {
  return JSON.stringify({
    v: 1,
    results: results.map((r) => ({ ...r, sig: r.sig.slice(0, CONFIRMATION_SIG_CHARS) })),
  });
}

/** Parses a confirmation; anything malformed yields no results (a device ignores what it cannot read). */
export function decodeConfirmation(payload: Buffer | string): ConfirmationResult[] {
  try {
    const doc = JSON.parse(payload.toString()) as { v?: unknown; results?: unknown };
    if (doc.v !== 1 || !Array.isArray(doc.results)) return [];
    return doc.results.filter(
      (r): r is ConfirmationResult =>
        !!r &&
        typeof r === 'object' &&
        Number.isSafeInteger((r as ConfirmationResult).seq) &&
        typeof (r as ConfirmationResult).sig === 'string' &&
        ['stored', 'duplicate', 'rejected'].includes((r as ConfirmationResult).status),
    );
  } catch {
    return [];
  }
}

interface Outgoing {
  readonly topic: string;
  readonly payload: string;
  readonly sigPrefix: string;
  /** When the broker acknowledged the last send (infinity while it has not), and when that send began. */
  sentAt: number;
  publishedAt: number;
  sends: number;
}

export interface DeviceOutboxOptions {
  /** Resend a message not confirmed after this long, ms (default 3 s), doubling per resend up to `maxResendAfterMs`. */
  readonly resendAfterMs?: number;
  /** Longest wait between resends of one message, ms (default 60 s): a platform that is down is not flooded. */
  readonly maxResendAfterMs?: number;
  /** Messages unconfirmed at once before `send` waits (default 2,000). */
  readonly capacity?: number;
}

/**
 * The device side: keeps each message until its confirmation arrives and
 * resends what stays unconfirmed. One outbox can serve many simulated devices
 * on one MQTT client (a real device has its own); it subscribes to the
 * confirmation topics of the devices it sends for.
 */
export function createDeviceOutbox(client: MqttClient, options: DeviceOutboxOptions = {}) {
  const resendAfterMs = options.resendAfterMs ?? 3000;
  const maxResendAfterMs = options.maxResendAfterMs ?? 60_000;
  const capacity = options.capacity ?? 2000;
  const pending = new Map<string, Outgoing>();
  const subscribed = new Set<string>();
  const figures = { sent: 0, resent: 0, stored: 0, duplicate: 0, rejected: 0 };
  const rejections = new Map<string, number>();
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  client.on('message', (topic, payload) => {
    if (!topic.endsWith('/confirm')) return;
    const device = topic.split('/').at(-2) as string;
    for (const r of decodeConfirmation(payload)) {
      const key = `${device}/${r.seq}/${r.sig}`;
      if (!pending.delete(key)) continue;
      figures[r.status]++;
      if (r.status === 'rejected') rejections.set(r.reason ?? '?', (rejections.get(r.reason ?? '?') ?? 0) + 1);
    }
    wake();
  });

  const publish = (p: Outgoing) => {
    // The wait for a confirmation starts at the broker's PUBACK: until then the MQTT client itself retransmits
    // (on reconnect), and a slow broker is no reason to send again. Only the confirmation releases the message.
    p.sentAt = Number.POSITIVE_INFINITY;
    p.publishedAt = Date.now();
    p.sends++;
    client.publishAsync(p.topic, p.payload, { qos: 1 }).then(
      () => {
        p.sentAt = Date.now();
      },
      () => {
        p.sentAt = 0;
      },
    );
  };

  const resender = setInterval(
    () => {
      const now = Date.now();
      for (const p of pending.values()) {
        // Per message, the wait doubles with each resend (3 s, 6 s, ... up to 60 s): a platform that is down is
        // not flooded. A send the broker never acknowledged (its connection went and the client dropped it)
        // is retried too, once the longest wait has passed.
        const wait = Math.min(maxResendAfterMs, resendAfterMs * 2 ** (p.sends - 1));
        const since = Number.isFinite(p.sentAt) ? p.sentAt : p.publishedAt + maxResendAfterMs;
        if (since + wait <= now && client.connected) {
          figures.resent++;
          publish(p);
        }
      }
    },
    Math.max(100, Math.floor(resendAfterMs / 3)),
  );
  resender.unref();

  return {
    figures,
    rejections,
    /** Sends one device message; resolves once it is handed to the client (waits while the outbox is full). */
    async send(eventsTopic: string, deviceId: string, seq: number, payload: string, sig: string): Promise<void> {
      const confirm = eventsTopic.replace(/\/events$/, '/confirm');
      if (!subscribed.has(confirm)) {
        subscribed.add(confirm);
        await client.subscribeAsync(confirm, { qos: 1 });
      }
      while (pending.size >= capacity) await new Promise<void>((r) => waiters.push(r));
      const p: Outgoing = {
        topic: eventsTopic,
        payload,
        sigPrefix: sig.slice(0, CONFIRMATION_SIG_CHARS),
        sentAt: 0,
        publishedAt: 0,
        sends: 0,
      };
      pending.set(`${deviceId}/${seq}/${p.sigPrefix}`, p);
      figures.sent++;
      publish(p);
    },
    /** Messages not yet confirmed. */
    unconfirmed: () => pending.size,
    /** Waits until every message is confirmed, or the time is up; returns how many are still unconfirmed. */
    async settle(timeoutMs: number): Promise<number> {
      const deadline = Date.now() + timeoutMs;
      while (pending.size > 0 && Date.now() < deadline) {
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
      return pending.size;
    },
    close(): void {
      clearInterval(resender);
      wake();
    },
  };
}

export type DeviceOutbox = ReturnType<typeof createDeviceOutbox>;
