import type pg from 'pg';
import type { Logger } from 'pino';
import { DeviceMessageRejections } from './device-message.js';
import { type Accepted, type Rejected, storable } from './ingest-classifier.js';

export interface WriterDeps {
  readonly pool: pg.Pool;
  readonly logger: Logger;
  /** Anti-replay window: how far below a device's highest stored number an unseen one is still accepted. */
  readonly reorderWindow: number;
  /** Largest jump above a device's highest stored number (or above 0 for a new device); beyond it, SEQUENCE_GAP. */
  readonly maxSeqGap: number;
}

/** The fate of each message of a written batch, by its index in the batch. */
export interface Written {
  readonly stored: Accepted[];
  /** Exact redeliveries of stored messages: acknowledged again, stored once. */
  readonly duplicates: Accepted[];
  /** Everything dead-lettered, including those the sequence check or the database refused. */
  readonly rejected: Rejected[];
}

/** Durable counters (survive restarts): `ingest_counters` rows, read by /metrics. */
export const IngestCounters = {
  accepted: 'ingest_accepted',
  duplicates: 'ingest_duplicates',
  rejected: 'ingest_rejected',
} as const;

/**
 * PostgreSQL refused the data itself (SQLSTATE classes 22 data exception,
 * 23 integrity, 54 program limit): retrying the same rows cannot help, so the
 * batch is split to find the message. Anything else (connection lost, server
 * shutting down, out of resources) is transient and the batch is retried whole.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

/**
 * Writes checked batches: the sequence check against stored numbers, the
 * events, the dead letters and the durable counters in one transaction. A
 * batch the database refuses for its data is halved until the refused
 * message stands alone, and that message is dead-lettered as WRITE_REJECTED:
 * one bad message never holds back the others.
 */
export function createIngestWriter(deps: WriterDeps) {
  const maxSeq = new Map<string, number>();

  const toDeadLetter = (a: Accepted, reason: Rejected['reason'], detail: string): Rejected => ({
    index: a.index,
    topic: '',
    deviceId: a.body.deviceId,
    topicFactory: a.factoryMspId,
    topicDevice: a.body.deviceId,
    seq: a.body.seq,
    sig: a.sig,
    reason,
    detail,
    payload: Buffer.from(JSON.stringify({ body: a.message, sig: a.sig })),
  });

  /**
   * Splits accepted messages into new ones, exact redeliveries and replays, in
   * arrival order: a device's seq must grow message by message, so a lower seq
   * arriving after a higher one is a replay even within one batch (sorting
   * first would let it in), unless it is unseen and within the window.
   */
  async function sequence(db: pg.PoolClient, accepted: readonly Accepted[], out: Written): Promise<Accepted[]> {
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
    const highest = new Map<Accepted, number>();
    for (const a of accepted) {
      const floor = Math.max(maxSeq.get(a.body.deviceId) ?? 0, seen.get(a.body.deviceId) ?? 0);
      if (a.body.seq > floor + deps.maxSeqGap) {
        // One message must not move a device's counter out of reach (2^53-1 once made every later number a replay).
        out.rejected.push(
          toDeadLetter(
            a,
            DeviceMessageRejections.SEQUENCE_GAP,
            `seq ${a.body.seq} is more than ${deps.maxSeqGap} above the device's highest, ${floor}`,
          ),
        );
      } else if (a.body.seq > floor) {
        fresh.push(a);
        seen.set(a.body.deviceId, a.body.seq);
      } else {
        stale.push(a);
        highest.set(a, floor);
      }
    }
    if (stale.length === 0) return fresh;
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
      if (sig === s.sig) out.duplicates.push(s);
      else if (sig === undefined && s.body.seq > max - deps.reorderWindow) {
        // Never seen and within the window: a late arrival (e.g. through another ingest process).
        fresh.push(s);
        inBatch.set(key, s.sig);
      } else {
        out.rejected.push(
          toDeadLetter(
            s,
            DeviceMessageRejections.REPLAY,
            sig === undefined
              ? `seq ${s.body.seq} is older than the reorder window (${deps.reorderWindow}) below ${max}`
              : `seq ${s.body.seq} was already used by another message`,
          ),
        );
      }
    }
    return fresh;
  }

  async function insertEvents(db: pg.PoolClient, fresh: readonly Accepted[], out: Written): Promise<Accepted[]> {
    if (fresh.length === 0) return [];
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
        fresh.map((a) => a.workOrderId),
        fresh.map((a) => JSON.stringify(a.body.data)),
        fresh.map((a) => a.message),
        fresh.map((a) => a.sig),
        fresh.map((a) => a.leaf),
      ],
    );
    const done = new Set(inserted.rows.map((r) => `${r.device_id}/${Number(r.seq)}`));
    if (done.size === fresh.length) return [...fresh];
    // Another ingest process stored some of these numbers first: the same message is a duplicate,
    // another message with a used number a replay.
    const lost = fresh.filter((a) => !done.has(`${a.body.deviceId}/${a.body.seq}`));
    const { rows } = await db.query(
      `SELECT device_id, seq, signature FROM device_events
       WHERE (device_id, seq) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
      [lost.map((a) => a.body.deviceId), lost.map((a) => a.body.seq)],
    );
    const stored = new Map(rows.map((r) => [`${r.device_id}/${r.seq}`, r.signature as string]));
    for (const a of lost) {
      if (stored.get(`${a.body.deviceId}/${a.body.seq}`) === a.sig) out.duplicates.push(a);
      else
        out.rejected.push(
          toDeadLetter(a, DeviceMessageRejections.REPLAY, `seq ${a.body.seq} was already used by another message`),
        );
    }
    return fresh.filter((a) => done.has(`${a.body.deviceId}/${a.body.seq}`));
  }

  async function insertDeadLetters(db: pg.PoolClient, rejected: readonly Rejected[]): Promise<void> {
    if (rejected.length === 0) return;
    // The exact bytes go to a bytea column; the text column holds a readable, storable copy.
    await db.query(
      `INSERT INTO dead_letters (topic, device_id, reason, detail, payload, payload_bytes)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[])`,
      [
        rejected.map((r) => storable(r.topic, 512)),
        rejected.map((r) => (r.deviceId === null ? null : storable(r.deviceId, 128))),
        rejected.map((r) => r.reason),
        rejected.map((r) => storable(r.detail)),
        rejected.map((r) => storable(r.payload.toString('utf8'), 20_000)),
        rejected.map((r) => r.payload.subarray(0, 256 * 1024)),
      ],
    );
  }

  async function count(db: pg.PoolClient, written: Written): Promise<void> {
    const rows: [string, string, number][] = [];
    if (written.stored.length > 0) rows.push([IngestCounters.accepted, '', written.stored.length]);
    if (written.duplicates.length > 0) rows.push([IngestCounters.duplicates, '', written.duplicates.length]);
    const byReason = new Map<string, number>();
    for (const r of written.rejected) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
    for (const [reason, n] of byReason) rows.push([IngestCounters.rejected, reason, n]);
    if (rows.length === 0) return;
    await db.query(
      `INSERT INTO ingest_counters (name, label, value)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
       ON CONFLICT (name, label) DO UPDATE SET value = ingest_counters.value + EXCLUDED.value`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );
  }

  /** One transaction for the whole of `accepted` and `rejected`; throws what PostgreSQL threw. */
  async function writeOnce(accepted: readonly Accepted[], rejected: readonly Rejected[]): Promise<Written> {
    const out: Written = { stored: [], duplicates: [], rejected: [...rejected] };
    const db = await deps.pool.connect();
    try {
      await db.query('BEGIN');
      const fresh = await sequence(db, accepted, out);
      out.stored.push(...(await insertEvents(db, fresh, out)));
      await insertDeadLetters(db, out.rejected);
      await count(db, out);
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {});
      // What the cache learnt in the failed transaction did not happen; re-read from the table next time.
      maxSeq.clear();
      throw err;
    } finally {
      db.release();
    }
    for (const a of out.stored) maxSeq.set(a.body.deviceId, Math.max(maxSeq.get(a.body.deviceId) ?? 0, a.body.seq));
    return out;
  }

  const merge = (a: Written, b: Written): Written => ({
    stored: [...a.stored, ...b.stored],
    duplicates: [...a.duplicates, ...b.duplicates],
    rejected: [...a.rejected, ...b.rejected],
  });

  /**
   * Writes a batch, splitting it on a data error. Transient errors propagate,
   * and the caller retries; halves already committed are then found again as
   * duplicates, so a retry never stores anything twice.
   */
  async function write(accepted: readonly Accepted[], rejected: readonly Rejected[]): Promise<Written> {
    try {
      return await writeOnce(accepted, rejected);
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (accepted.length > 0 && rejected.length > 0) {
        return merge(await write([], rejected), await write(accepted, []));
      }
      if (accepted.length === 0) {
        // Dead letters are stored as bytes and sanitised text, so this should not happen; if it does, they are
        // dropped with a log line rather than stalling the ingest.
        deps.logger.error({ err, count: rejected.length }, 'dead letters refused by PostgreSQL; dropped');
        return { stored: [], duplicates: [], rejected: [] };
      }
      if (accepted.length === 1) {
        const a = accepted[0] as Accepted;
        deps.logger.warn({ err, deviceId: a.body.deviceId, seq: a.body.seq }, 'message refused by PostgreSQL');
        const message = `PostgreSQL refused it: ${(err as { code?: string }).code} ${(err as Error).message}`;
        return writeOnce([], [toDeadLetter(a, DeviceMessageRejections.WRITE_REJECTED, storable(message))]);
      }
      const half = Math.ceil(accepted.length / 2);
      const first = await write(accepted.slice(0, half), []);
      return merge(first, await write(accepted.slice(half), []));
    }
  }

  return { write };
}

export type IngestWriter = ReturnType<typeof createIngestWriter>;
