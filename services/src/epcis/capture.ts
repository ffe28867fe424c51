import { createHash, randomUUID } from 'node:crypto';
import type { IdentityStore } from '@c2m/identity';
import { CodedError, canonicalJson, ErrorCodes, type LedgerIdentity } from '@c2m/shared';
import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '../db/database.js';
import type { SchedulerKeeper } from '../job-schedulers.js';
import { QueueNames } from '../queues.js';
import { normaliseEventVocabulary } from './cbv.js';
import { C2M_NAMESPACE } from './from-device.js';
import type { PreparedEvent } from './prepare.js';
import { closePreparePool, prepareInWorkers } from './prepare-pool.js';
import { PUBLIC_C2M_FIELDS } from './query.js';
import { type SchemaError, validateEpcisDocument } from './schema.js';
import { type EventRow, insertEvents } from './store.js';

/**
 * EPCIS 2.0 capture (REST binding): a document is checked against the schema synchronously and stored as it
 * came (its exact bytes) in `epcis_capture_jobs`; its events are stored by a BullMQ worker. The job row is the
 * durable record: a job is processed in one PostgreSQL transaction that stores its events and finishes the row,
 * so a crash before the commit leaves it `running`, and the sweep (at start and on every scheduler tick) queues
 * every running job again. Processing is idempotent: a finished job is skipped, an event already stored
 * identically is counted as captured.
 *
 * Per event: CBV values normalised, the CBV 2.0 event hash, eventID = hash where the client sent none, the
 * location rule (readPoint and bizLocation must be the capturing org's locations), the work order and brand its
 * EPCs belong to, and a signature by the capturing user's ledger identity over the signed message
 * (shared/src/proof/epcis-message.ts), whose leaf joins the next Merkle batch of the org (trace/anchorer.ts).
 */

/** What one capture may hold (advertised in GS1-EPCIS-Capture-Limit and -File-Size-Limit). */
export const CaptureLimits = { events: 10_000, bytes: 16 * 1024 * 1024 } as const;

export type ErrorBehaviour = 'rollback' | 'proceed';

/** Why one event of a document was not captured. */
export const CaptureErrorCodes = {
  /** The eventID is stored (or earlier in the document) with other content. */
  EVENT_ID_CONFLICT: 'EVENT_ID_CONFLICT',
  /** readPoint or bizLocation is not a location the capturing org owns (or the event names neither). */
  LOCATION_NOT_OWNED: 'LOCATION_NOT_OWNED',
  /**
   * A field in the platform's own `c2m:` namespace that is not one of its public fields (a `c2m:price`): an
   * event is proven by its exact signed bytes, so a private field captured into it could never be withheld.
   */
  PRIVATE_FIELD: 'PRIVATE_FIELD',
  /** An errorDeclaration for an eventID the repository does not hold. */
  ERROR_DECLARATION_UNKNOWN_EVENT: 'ERROR_DECLARATION_UNKNOWN_EVENT',
  /** An errorDeclaration of another org's event. */
  ERROR_DECLARATION_NOT_OWNED: 'ERROR_DECLARATION_NOT_OWNED',
  /** The event could not be read (hash or index), although the schema passed. */
  EVENT_INVALID: 'EVENT_INVALID',
  /** Processing failed on every attempt (the job is closed rather than retried forever). */
  INTERNAL: 'INTERNAL',
} as const;

export interface CaptureError {
  /** Position in the document's eventList (-1: the whole job). */
  readonly index: number;
  readonly eventID: string | null;
  readonly code: string;
  readonly message: string;
}

export interface CaptureJob {
  readonly captureID: string;
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly running: boolean;
  readonly success: boolean;
  readonly captureErrorBehaviour: ErrorBehaviour;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly capturedBy: string;
  readonly ownerMspId: string;
  readonly eventCount: number;
  readonly capturedCount: number;
  readonly errors: CaptureError[];
}

/** The capturing user as the route knows it. */
export interface Capturer {
  readonly username: string;
  readonly mspId: string;
}

export interface CaptureDeps {
  readonly pool: pg.Pool;
  readonly identity: Pick<IdentityStore, 'userIdentity' | 'peerIdentity'>;
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly logger: Logger;
  readonly schedulers: SchedulerKeeper;
  /** How often running jobs are swept back into the queue (default 5 s). */
  readonly sweepEveryMs?: number;
}

/** A refusal of the whole document, with the schema paths that failed. */
export class CaptureSchemaError extends CodedError {
  constructor(readonly problems: readonly SchemaError[]) {
    super(
      ErrorCodes.EPCIS_SCHEMA_INVALID,
      `the document fails the EPCIS 2.0 JSON schema: ${problems
        .slice(0, 5)
        .map((p) => `${p.path || '/'} ${p.message}`)
        .join('; ')}${problems.length > 5 ? ` and ${problems.length - 5} more` : ''}`,
      400,
      { errors: problems },
    );
  }
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A copy of the document with each event's CBV values in their EPCIS 2.0 JSON form (bare names), so that
 * documents spelling them as CBV 1.2 URNs or GS1 Web URIs pass the schema, which allows bare names only. An
 * event whose vocabulary cannot be read is left as sent: the schema (or the event's processing) reports it.
 */
function vocabularyNormalised(doc: unknown): unknown {
  if (!isRecord(doc) || !isRecord(doc.epcisBody) || !Array.isArray(doc.epcisBody.eventList)) return doc;
  const eventList = doc.epcisBody.eventList.map((e) => {
    if (!isRecord(e)) return e;
    try {
      return normaliseEventVocabulary(e);
    } catch {
      return e;
    }
  });
  return { ...doc, epcisBody: { ...doc.epcisBody, eventList } };
}

/** The document's @context as the event hash reads it (the reference drops empty objects from the list). */
function documentContext(context: unknown): unknown {
  return Array.isArray(context) ? context.filter((c) => !(isRecord(c) && Object.keys(c).length === 0)) : context;
}

/**
 * Parses and schema-checks a capture body. Throws MALFORMED_JSON, PAYLOAD_TOO_LARGE (more events than the
 * capture limit) or SchemaError; returns the number of events.
 */
export function checkDocument(bytes: string): { eventCount: number } {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes);
  } catch (err) {
    throw new CodedError(ErrorCodes.MALFORMED_JSON, `the body is not JSON: ${(err as Error).message}`);
  }
  const result = validateEpcisDocument(vocabularyNormalised(doc));
  if (!result.valid) throw new CaptureSchemaError(result.errors);
  const n = ((doc as Json).epcisBody as { eventList: unknown[] }).eventList.length;
  if (n > CaptureLimits.events) {
    throw new CodedError(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `${n} events exceed the capture limit of ${CaptureLimits.events}`,
      413,
    );
  }
  return { eventCount: n };
}

interface JobRow {
  id: string;
  owner_msp: string;
  captured_by: string;
  status: 'running' | 'succeeded' | 'failed';
  document?: string;
  event_count: number;
  captured_count: number;
  errors: CaptureError[];
  error_behaviour: ErrorBehaviour;
  created_at: Date;
  finished_at: Date | null;
}

function toJob(r: JobRow): CaptureJob {
  return {
    captureID: r.id,
    status: r.status,
    running: r.status === 'running',
    success: r.status === 'succeeded',
    captureErrorBehaviour: r.error_behaviour,
    createdAt: r.created_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
    capturedBy: r.captured_by,
    ownerMspId: r.owner_msp,
    eventCount: r.event_count,
    capturedCount: r.captured_count,
    errors: r.errors,
  };
}

const JOB_COLUMNS = `id, owner_msp, captured_by, status, event_count, captured_count, errors, error_behaviour,
  created_at, finished_at`;

type Prepared = PreparedEvent;

const GTIN_EPC = /^https:\/\/id\.gs1\.org\/01\/(\d{14})(?:\/(21|10)\/([^/?#]+))?/;

/** What an event belongs to: the brand of its GTINs and the work order whose lot or serial range holds them. */
async function ownersOf(client: pg.PoolClient, events: readonly Prepared[]) {
  const gtins = new Set<string>();
  for (const p of events) {
    for (const e of p.indexed.epcs) {
      const m = GTIN_EPC.exec(e.epc);
      if (m) gtins.add(m[1] as string);
    }
  }
  if (gtins.size === 0) return () => ({ workOrderId: null, brandMsp: null });
  const [products, lots] = await Promise.all([
    client.query('SELECT gtin, brand_msp FROM gs1_products WHERE gtin = ANY($1)', [[...gtins]]),
    client.query(
      'SELECT work_order_id, gtin, lot, serial_from, serial_to FROM work_order_lots WHERE gtin = ANY($1) ORDER BY created_at',
      [[...gtins]],
    ),
  ]);
  const brand = new Map(products.rows.map((r) => [r.gtin as string, r.brand_msp as string]));
  return (p: Prepared): { workOrderId: string | null; brandMsp: string | null } => {
    let brandMsp: string | null = null;
    for (const e of p.indexed.epcs) {
      const m = GTIN_EPC.exec(e.epc);
      if (!m) continue;
      const gtin = m[1] as string;
      brandMsp ??= brand.get(gtin) ?? null;
      for (const l of lots.rows) {
        if (l.gtin !== gtin) continue;
        const serial = m[2] === '21' && /^\d{1,15}$/.test(m[3] as string) ? Number(m[3]) : undefined;
        const hit =
          (m[2] === '10' && decodeURIComponent(m[3] as string) === l.lot) ||
          (serial !== undefined && serial >= Number(l.serial_from) && serial <= Number(l.serial_to));
        if (hit) return { workOrderId: l.work_order_id as string, brandMsp: brandMsp ?? brand.get(gtin) ?? null };
      }
    }
    return { workOrderId: null, brandMsp };
  };
}

/** The GLN-level location of an SGLN (a site's SGLNs count as the site owner's). */
const siteOf = (uri: string): string | undefined => /^(https:\/\/id\.gs1\.org\/414\/\d{13})\/254\//.exec(uri)?.[1];

export function createEpcisCapture(deps: CaptureDeps) {
  const { pool, logger } = deps;
  const queue = new Queue(QueueNames.epcisCapture, { connection: deps.connection, prefix: deps.prefix });
  let worker: Worker | undefined;
  const ATTEMPTS = 5;

  async function enqueue(id: string): Promise<void> {
    await queue.add(
      'capture',
      { id },
      {
        jobId: id,
        attempts: ATTEMPTS,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }

  /** Queues every running job again (at start, and on each scheduler tick for jobs older than a few seconds). */
  async function sweep(minAgeMs: number): Promise<number> {
    const { rows } = await pool.query(
      `SELECT id FROM epcis_capture_jobs WHERE status = 'running' AND created_at < now() - make_interval(secs => $1)
       ORDER BY created_at LIMIT 1000`,
      [minAgeMs / 1000],
    );
    for (const r of rows) await enqueue(r.id as string);
    return rows.length;
  }

  /**
   * Accepts a document: the body is checked (schema, limits) before anything is stored; then the exact bytes
   * are stored as a running job and queued. A queueing failure loses nothing: the sweep finds the job.
   */
  async function accept(user: Capturer, bytes: string, behaviour: ErrorBehaviour): Promise<CaptureJob> {
    const { eventCount } = checkDocument(bytes);
    const id = randomUUID();
    const { rows } = await pool.query<JobRow>(
      `INSERT INTO epcis_capture_jobs (id, owner_msp, captured_by, document, document_sha256, event_count, error_behaviour)
       VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING ${JOB_COLUMNS}`,
      [id, user.mspId, user.username, bytes, createHash('sha256').update(bytes).digest('hex'), eventCount, behaviour],
    );
    await enqueue(id).catch((err) => logger.warn({ err, captureId: id }, 'capture job not queued; the sweep will'));
    return toJob(rows[0] as JobRow);
  }

  /** The identity that signs a user's events: the user's own, or the org's identity the platform holds. */
  function signerFor(username: string, mspId: string): { identity: LedgerIdentity; username: string } {
    try {
      return { identity: deps.identity.userIdentity(username), username };
    } catch {
      return { identity: deps.identity.peerIdentity(mspId), username: 'peer0' };
    }
  }

  /** Processes one job in one transaction; a finished (or unknown) job is left alone. */
  async function processJob(id: string): Promise<CaptureJob | undefined> {
    return withTransaction(pool, async (client) => {
      const { rows } = await client.query<JobRow>(
        `SELECT ${JOB_COLUMNS}, document FROM epcis_capture_jobs WHERE id = $1 FOR UPDATE`,
        [id],
      );
      const job = rows[0];
      if (!job) return undefined;
      if (job.status !== 'running') return toJob(job);
      const { captured, errors } = await captureEvents(client, job);
      const status = errors.length === 0 ? 'succeeded' : 'failed';
      const { rows: done } = await client.query<JobRow>(
        `UPDATE epcis_capture_jobs SET status = $2, captured_count = $3, errors = $4, finished_at = now()
         WHERE id = $1 RETURNING ${JOB_COLUMNS}`,
        [id, status, captured, JSON.stringify(errors)],
      );
      return toJob(done[0] as JobRow);
    });
  }

  async function captureEvents(
    client: pg.PoolClient,
    job: JobRow,
  ): Promise<{ captured: number; errors: CaptureError[] }> {
    const doc = JSON.parse(job.document as string) as Json;
    const context = documentContext(doc['@context']);
    const list = (doc.epcisBody as { eventList: unknown[] }).eventList;
    const recordTime = new Date().toISOString();
    const errors: CaptureError[] = [];
    const fail = (index: number, eventID: string | null, code: string, message: string) =>
      errors.push({ index, eventID, code, message });

    // Hash, eventID, index and the signed message of every event, on worker threads for large documents.
    const signer = signerFor(job.captured_by, job.owner_msp);
    const { prepared, failures } = await prepareInWorkers(list, {
      context,
      recordTime,
      ownerMspId: job.owner_msp,
      signer: { mspId: signer.identity.mspId, username: signer.username },
      captureId: job.id,
    });
    for (const f of failures) fail(f.index, f.eventID, CaptureErrorCodes.EVENT_INVALID, f.message);

    // Locations: each named one must be the org's, or an SGLN of the org's site.
    const named = new Set<string>();
    for (const p of prepared) {
      for (const l of [p.indexed.readPoint, p.indexed.bizLocation]) {
        if (l === null) continue;
        named.add(l);
        const site = siteOf(l);
        if (site) named.add(site);
      }
    }
    const { rows: ownedRows } = await client.query(
      'SELECT uri FROM gs1_locations WHERE uri = ANY($1) AND owner_msp = $2',
      [[...named], job.owner_msp],
    );
    const owned = new Set(ownedRows.map((r) => r.uri as string));
    const ownsLocation = (l: string) => owned.has(l) || owned.has(siteOf(l) ?? '\u0000');

    // What the store already holds under these eventIDs.
    const { rows: existingRows } = await client.query(
      `SELECT event_id, event_hash, owner_msp, error_declaration FROM epcis_events WHERE event_id = ANY($1)`,
      [[...new Set(prepared.map((p) => p.eventID))]],
    );
    const key = (eventID: string, declaration: boolean) => `${declaration ? 'D' : 'E'} ${eventID}`;
    const existing = new Map<string, { hash: string; owner: string; declaration: string | null }>();
    for (const r of existingRows) {
      const d = r.error_declaration as Json | null;
      existing.set(key(r.event_id as string, d !== null), {
        hash: r.event_hash as string,
        owner: r.owner_msp as string,
        declaration: d === null ? null : canonicalJson(d),
      });
    }

    const toStore: Prepared[] = [];
    let alreadyStored = 0;
    const inDocument = new Map<string, { hash: string; declaration: string | null }>();
    for (const p of prepared) {
      const hidden = privateC2mFields(p.event);
      if (hidden.length > 0) {
        fail(
          p.index,
          p.eventID,
          CaptureErrorCodes.PRIVATE_FIELD,
          `${hidden.slice(0, 5).join(', ')}: not public fields of the c2m: namespace (public: ${[...PUBLIC_C2M_FIELDS].join(', ')}); prices and terms never go into events`,
        );
        continue;
      }
      const locations = [p.indexed.readPoint, p.indexed.bizLocation].filter((l): l is string => l !== null);
      if (locations.length === 0) {
        fail(
          p.index,
          p.eventID,
          CaptureErrorCodes.LOCATION_NOT_OWNED,
          'the event names neither readPoint nor bizLocation',
        );
        continue;
      }
      const foreign = locations.filter((l) => !ownsLocation(l));
      if (foreign.length > 0) {
        fail(
          p.index,
          p.eventID,
          CaptureErrorCodes.LOCATION_NOT_OWNED,
          `${foreign.join(', ')} ${foreign.length === 1 ? 'is not a location' : 'are not locations'} of ${job.owner_msp}`,
        );
        continue;
      }
      const declaration = p.declaration ? canonicalJson(p.event.errorDeclaration) : null;
      if (p.declaration) {
        const original = existing.get(key(p.eventID, false)) ?? inDocument.get(key(p.eventID, false));
        if (!original) {
          fail(
            p.index,
            p.eventID,
            CaptureErrorCodes.ERROR_DECLARATION_UNKNOWN_EVENT,
            `no event ${p.eventID} is stored`,
          );
          continue;
        }
        const owner = 'owner' in original ? original.owner : job.owner_msp;
        if (owner !== job.owner_msp) {
          fail(
            p.index,
            p.eventID,
            CaptureErrorCodes.ERROR_DECLARATION_NOT_OWNED,
            `event ${p.eventID} is ${owner}'s: only its owner may declare it an error`,
          );
          continue;
        }
      }
      const k = key(p.eventID, p.declaration);
      const before = existing.get(k) ?? inDocument.get(k);
      if (before) {
        const same = before.hash === p.eventHash && before.declaration === declaration;
        if (!same) {
          fail(
            p.index,
            p.eventID,
            CaptureErrorCodes.EVENT_ID_CONFLICT,
            `eventID ${p.eventID} is already ${existing.has(k) ? 'stored' : 'earlier in the document'} with other content`,
          );
        } else alreadyStored++;
        continue;
      }
      inDocument.set(k, { hash: p.eventHash, declaration });
      toStore.push(p);
    }

    if (job.error_behaviour === 'rollback' && errors.length > 0) return { captured: 0, errors: sorted(errors) };

    const belongs = await ownersOf(client, toStore);
    const sign = signer.identity.signMessage;
    const signatures = await Promise.all(
      toStore.map(async ({ message: text }) => {
        const bytes = Buffer.from(text);
        const der = sign ? await sign(bytes) : await signer.identity.sign(createHash('sha256').update(bytes).digest());
        return Buffer.from(der).toString('base64');
      }),
    );
    const rows: EventRow[] = toStore.map((p, i) => {
      const { workOrderId, brandMsp } = belongs(p);
      return {
        eventId: p.eventID,
        eventHash: p.eventHash,
        event: p.event,
        index: p.indexed,
        ownerMsp: job.owner_msp,
        source: 'capture',
        captureId: job.id,
        workOrderId,
        brandMsp,
        recordTime,
        message: p.message,
        signature: signatures[i] as string,
        signerCertificate: signer.identity.certificatePem,
        leafHash: p.leafHash,
      };
    });

    await client.query('SAVEPOINT capture_events');
    const stored = await insertEvents(client, rows);
    // Another job may have stored the same eventID between the check above and this insert.
    let racedConflict = false;
    stored.forEach((s, i) => {
      const p = toStore[i] as Prepared;
      if (!s.inserted && s.eventHash !== p.eventHash) {
        racedConflict = true;
        fail(
          p.index,
          p.eventID,
          CaptureErrorCodes.EVENT_ID_CONFLICT,
          `eventID ${p.eventID} was stored meanwhile with other content`,
        );
      }
    });
    if (racedConflict && job.error_behaviour === 'rollback') {
      await client.query('ROLLBACK TO SAVEPOINT capture_events');
      return { captured: 0, errors: sorted(errors) };
    }
    await client.query('RELEASE SAVEPOINT capture_events');
    const conflicted = new Set(errors.map((e) => e.index));
    const captured = alreadyStored + toStore.filter((p) => !conflicted.has(p.index)).length;
    return { captured, errors: sorted(errors) };
  }

  const sorted = (errors: CaptureError[]) => errors.sort((a, b) => a.index - b.index);

  async function get(user: Capturer, id: string): Promise<CaptureJob> {
    const { rows } = await pool.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM epcis_capture_jobs WHERE id = $1 AND owner_msp = $2`,
      [id, user.mspId],
    );
    // Another org's job is as absent as an unknown one.
    if (!rows[0]) throw new CodedError(ErrorCodes.NOT_FOUND, `no capture job ${id}`, 404);
    return toJob(rows[0]);
  }

  async function list(user: Capturer, options: { limit?: number; before?: string } = {}): Promise<CaptureJob[]> {
    const { rows } = await pool.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM epcis_capture_jobs
       WHERE owner_msp = $1 AND ($2::timestamptz IS NULL OR created_at < $2)
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [user.mspId, options.before ?? null, Math.min(options.limit ?? 50, 200)],
    );
    return rows.map(toJob);
  }

  return {
    accept,
    processJob,
    get,
    list,
    sweep,
    async start(): Promise<void> {
      worker = new Worker(
        QueueNames.epcisCapture,
        async (job) => {
          if (job.name === 'sweep') return sweep(deps.sweepEveryMs ?? 5000);
          return (await processJob((job.data as { id: string }).id))?.status;
        },
        { connection: deps.connection, prefix: deps.prefix, concurrency: 2 },
      );
      worker.on('failed', (job, err) => {
        logger.warn({ job: job?.id, err }, 'capture job failed');
        // After the last attempt the job is closed as failed, not swept back forever.
        if (job && job.name === 'capture' && job.attemptsMade >= ATTEMPTS) {
          const error: CaptureError = {
            index: -1,
            eventID: null,
            code: CaptureErrorCodes.INTERNAL,
            message: err.message,
          };
          pool
            .query(
              `UPDATE epcis_capture_jobs SET status = 'failed', errors = $2, finished_at = now()
               WHERE id = $1 AND status = 'running'`,
              [(job.data as { id: string }).id, JSON.stringify([error])],
            )
            .catch((e) => logger.warn({ err: e }, 'could not close a failed capture job'));
        }
      });
      await deps.schedulers.register({
        queue,
        id: 'epcis-capture-sweep',
        repeat: { every: deps.sweepEveryMs ?? 5000 },
        template: { name: 'sweep' },
      });
      // Jobs a previous process accepted and did not finish.
      await sweep(0);
    },
    async close(): Promise<void> {
      await worker?.close();
      await queue.close();
      await closePreparePool();
    },
  };
}

export type EpcisCapture = ReturnType<typeof createEpcisCapture>;

/** The `c2m:` keys of an event, at any depth, that are not public (query.ts strips them; capture refuses them). */
export function privateC2mFields(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) privateC2mFields(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const name = k.replace(C2M_NAMESPACE, 'c2m:');
      if (name.startsWith('c2m:') && !PUBLIC_C2M_FIELDS.has(name)) out.push(name);
      privateC2mFields(v, out);
    }
  }
  return out;
}
