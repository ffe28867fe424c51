import type { ConnectionOptions } from 'bullmq';

/** Queue names, one per kind of background work. */
export const QueueNames = {
  dispatch: 'dispatch',
  ledgerOutbox: 'ledger-outbox',
  anchoring: 'anchoring',
  epcisCapture: 'epcis-capture',
} as const;

/** BullMQ connection options from a redis:// URL. Workers need maxRetriesPerRequest null (blocking commands). */
export function redisConnection(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    maxRetriesPerRequest: null,
  };
}
