import { randomUUID } from 'node:crypto';
import { csrPublicKeyPem } from '@c2m/identity';
import { CodedError, ErrorCodes } from '@c2m/shared';
import { type ConnectionOptions, type JobState, Queue, UnrecoverableError, Worker } from 'bullmq';
import { parse } from 'csv-parse/sync';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { AuthUser } from '../plugins/auth.js';
import { certificateFacts, type DevicesService, samePublicKey } from './devices-service.js';

/** Queue of fleet uploads; one job per upload, its rows in PostgreSQL. */
export const DEVICE_BULK_QUEUE = 'device-bulk';
export const BULK_MAX_ROWS = 10_000;
export const BULK_COLUMNS = ['deviceId', 'model', 'serial', 'line', 'csrPem'] as const;

export interface BulkRow {
  readonly deviceId: string;
  readonly model: string;
  readonly serial: string;
  readonly line: string;
  readonly csrPem: string;
}

/** A row of an upload: pending until the job registers it, finds it already registered with its key, or fails it. */
export const BulkRowStatuses = ['pending', 'registered', 'already_registered', 'failed'] as const;
export type BulkRowStatus = (typeof BulkRowStatuses)[number];

/**
 * An upload's state: its BullMQ job's (`getState()`, 'unknown' once the job is gone), or completed once every row
 * has been tried. `report()` assigns `getState()` to this type, so a state a BullMQ upgrade adds fails to compile
 * until it is listed here (and labelled in the portals).
 */
export const BulkJobStates = [
  'waiting',
  'waiting-children',
  'prioritized',
  'delayed',
  'active',
  'completed',
  'failed',
  'unknown',
] as const satisfies readonly (JobState | 'unknown')[];
export type BulkJobState = (typeof BulkJobStates)[number];

export interface BulkRowReport {
  readonly row: number;
  readonly deviceId: string;
  readonly status: BulkRowStatus;
  readonly code: string | null;
  readonly message: string | null;
  readonly certificateFingerprint: string | null;
}

export interface BulkJobReport {
  readonly jobId: string;
  readonly factoryMspId: string;
  readonly state: BulkJobState;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly pending: number;
  /** 0..100 */
  readonly progress: number;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly rows: BulkRowReport[];
}

interface BulkJobData {
  readonly jobId: string;
  readonly username: string;
  readonly mspId: string;
}

/**
 * Parses the fleet CSV: a header `deviceId,model,serial,line,csrPem` and one
 * device per record, the multi-line PEM quoted. Shape errors of the whole file
 * are refused; per-row content (CSR, id) is checked by the job, row by row.
 */
export function parseFleetCsv(text: string): BulkRow[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
      max_record_size: 16_384,
    });
  } catch (err) {
    throw new CodedError(ErrorCodes.VALIDATION_FAILED, `CSV: ${(err as Error).message}`);
  }
  const first = records[0];
  if (!first) throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'CSV has no device rows');
  const missing = BULK_COLUMNS.filter((c) => !(c in first));
  if (missing.length > 0) {
    throw new CodedError(ErrorCodes.VALIDATION_FAILED, `CSV header lacks ${missing.join(', ')}`);
  }
  return records.map((r) => ({
    deviceId: r.deviceId ?? '',
    model: r.model ?? '',
    serial: r.serial ?? '',
    line: r.line ?? '',
    csrPem: r.csrPem ?? '',
  }));
}

export interface DeviceBulkDeps {
  readonly pool: pg.Pool;
  readonly ledger: LedgerAccess;
  readonly devices: DevicesService;
  readonly issueCertificate: (mspId: string, csrPem: string, deviceId: string) => Promise<string>;
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly logger: Logger;
  /** Rows registered at once within a job; ledger transactions of one job share blocks. */
  readonly rowConcurrency?: number;
}

const ROW_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Bulk registration of a fleet. The upload is stored, then a BullMQ job
 * registers row by row (certificate from the factory CA, ledger, read model),
 * recording each row's outcome. Idempotent: a retried job skips finished rows
 * and reuses a row's certificate once issued, and a device already on the
 * ledger with the row's key (an earlier upload of the same fleet) counts as done.
 */
export function createDeviceBulk(deps: DeviceBulkDeps) {
  const queue = new Queue<BulkJobData>(DEVICE_BULK_QUEUE, {
    connection: deps.connection,
    prefix: deps.prefix,
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: 1000 },
  });
  let worker: Worker<BulkJobData> | undefined;

  async function submit(user: AuthUser, rows: readonly BulkRow[]): Promise<BulkJobReport> {
    if (rows.length === 0) throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'no device rows');
    if (rows.length > BULK_MAX_ROWS) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, `at most ${BULK_MAX_ROWS} rows per upload`);
    }
    const jobId = `bulk-${randomUUID()}`;
    const client = await deps.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO device_bulk_jobs (id, factory_msp, created_by, total) VALUES ($1,$2,$3,$4)', [
        jobId,
        user.mspId,
        user.username,
        rows.length,
      ]);
      await client.query(
        `INSERT INTO device_bulk_rows (job_id, row_number, device_id, model, serial, line, csr_pem)
         SELECT $1, n, d, m, s, l, c FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
           AS t(n, d, m, s, l, c)`,
        [
          jobId,
          rows.map((_, i) => i + 1),
          rows.map((r) => r.deviceId),
          rows.map((r) => r.model),
          rows.map((r) => r.serial),
          rows.map((r) => r.line),
          rows.map((r) => r.csrPem),
        ],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    // jobId = the upload id: adding it again (a retried request) does not start a second job.
    await queue.add('register-fleet', { jobId, username: user.username, mspId: user.mspId }, { jobId });
    return report(user, jobId);
  }

  async function setRow(
    jobId: string,
    row: number,
    status: BulkRowReport['status'],
    extra: { code?: string; message?: string; fingerprint?: string } = {},
  ) {
    await deps.pool.query(
      `UPDATE device_bulk_rows SET status = $3, code = $4, message = $5, fingerprint = COALESCE($6, fingerprint)
       WHERE job_id = $1 AND row_number = $2`,
      [jobId, row, status, extra.code ?? null, extra.message ?? null, extra.fingerprint ?? null],
    );
  }

  async function processRow(data: BulkJobData, r: Record<string, unknown>): Promise<void> {
    const row = r.row_number as number;
    const input = {
      deviceId: r.device_id as string,
      model: r.model as string,
      serial: r.serial as string,
      line: r.line as string,
      csrPem: r.csr_pem as string,
    };
    const fail = (code: string, message: string) => setRow(data.jobId, row, 'failed', { code, message });
    if (!ROW_ID.test(input.deviceId))
      return fail(ErrorCodes.VALIDATION_FAILED, 'deviceId must be 1-64 of A-Za-z0-9._-');
    for (const f of ['model', 'serial', 'line'] as const) {
      if (input[f].length < 1 || input[f].length > 100) {
        return fail(ErrorCodes.VALIDATION_FAILED, `${f} must be 1-100 characters`);
      }
    }
    let certificatePem = r.certificate_pem as string | null;
    if (!certificatePem) {
      // Before issuing: is this device already on the ledger? With the row's key it is a re-upload, done.
      const existing = await deps.ledger.readDevice(data.username, input.deviceId).catch((err: { code?: string }) => {
        if (err.code === ErrorCodes.DEVICE_NOT_FOUND) return undefined;
        throw err;
      });
      if (existing) {
        if (existing.factoryMspId === data.mspId && samePublicKey(existing.publicKeyPem, csrKey(input.csrPem))) {
          return setRow(data.jobId, row, 'already_registered', { fingerprint: existing.certificateFingerprint });
        }
        return fail(ErrorCodes.DEVICE_EXISTS, `device ${input.deviceId} is already registered with another key`);
      }
      try {
        certificatePem = await deps.issueCertificate(data.mspId, input.csrPem, input.deviceId);
      } catch (err) {
        if (err instanceof CodedError && err.statusCode < 500) return fail(err.code, err.message);
        throw err;
      }
      await deps.pool.query('UPDATE device_bulk_rows SET certificate_pem = $3 WHERE job_id = $1 AND row_number = $2', [
        data.jobId,
        row,
        certificatePem,
      ]);
    }
    const { fingerprint } = certificateFacts(certificatePem);
    try {
      await deps.devices.registerCertificate({ username: data.username, mspId: data.mspId }, input, certificatePem);
      return setRow(data.jobId, row, 'registered', { fingerprint });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === ErrorCodes.DEVICE_EXISTS) {
        // A retry after the ledger committed but before the row was marked: same fingerprint means it was us.
        const existing = await deps.ledger.readDevice(data.username, input.deviceId);
        if (existing.certificateFingerprint === fingerprint) {
          await deps.devices.insertReadModel(data.mspId, input, certificatePem, null);
          return setRow(data.jobId, row, 'registered', { fingerprint });
        }
        return fail(ErrorCodes.DEVICE_EXISTS, `device ${input.deviceId} is already registered with another key`);
      }
      if (err instanceof CodedError && err.statusCode < 500) return fail(err.code, err.message);
      if (code === ErrorCodes.VALIDATION_FAILED || code === ErrorCodes.ACCESS_DENIED) {
        return fail(code, (err as Error).message);
      }
      throw err;
    }
  }

  async function run(data: BulkJobData, progress: (n: number) => Promise<void>): Promise<void> {
    const { rows } = await deps.pool.query(
      `SELECT * FROM device_bulk_rows WHERE job_id = $1 AND status = 'pending' ORDER BY row_number`,
      [data.jobId],
    );
    const total = (await deps.pool.query('SELECT total FROM device_bulk_jobs WHERE id = $1', [data.jobId])).rows[0]
      ?.total as number | undefined;
    if (total === undefined) throw new UnrecoverableError(`no bulk job ${data.jobId}`);
    let done = total - rows.length;
    let next = 0;
    const concurrency = deps.rowConcurrency ?? 8;
    const lane = async () => {
      for (;;) {
        const r = rows[next++];
        if (!r) return;
        await processRow(data, r);
        done++;
        await progress(Math.floor((done / total) * 100));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, lane));
    await deps.pool.query('UPDATE device_bulk_jobs SET finished_at = now() WHERE id = $1', [data.jobId]);
  }

  async function report(user: Pick<AuthUser, 'mspId' | 'orgKind'>, jobId: string): Promise<BulkJobReport> {
    const { rows: jobs } = await deps.pool.query('SELECT * FROM device_bulk_jobs WHERE id = $1', [jobId]);
    const job = jobs[0];
    if (!job || (user.orgKind !== 'platform' && job.factory_msp !== user.mspId)) {
      throw new CodedError(ErrorCodes.NOT_FOUND, `no bulk registration ${jobId}`, 404);
    }
    const { rows } = await deps.pool.query(
      `SELECT row_number, device_id, status, code, message, fingerprint FROM device_bulk_rows
       WHERE job_id = $1 ORDER BY row_number`,
      [jobId],
    );
    const count = (s: string) => rows.filter((r) => r.status === s).length;
    const pending = count('pending');
    const failed = count('failed');
    const done = rows.length - pending - failed;
    const bull = await queue.getJob(jobId);
    const state: BulkJobState = job.finished_at ? 'completed' : ((await bull?.getState()) ?? 'unknown');
    return {
      jobId,
      factoryMspId: job.factory_msp,
      state,
      total: job.total,
      done,
      failed,
      pending,
      progress: job.total === 0 ? 100 : Math.floor(((done + failed) / job.total) * 100),
      createdAt: (job.created_at as Date).toISOString(),
      finishedAt: job.finished_at ? (job.finished_at as Date).toISOString() : null,
      rows: rows.map((r) => ({
        row: r.row_number,
        deviceId: r.device_id,
        status: r.status as BulkRowStatus,
        code: r.code,
        message: r.message,
        certificateFingerprint: r.fingerprint,
      })),
    };
  }

  /**
   * Runs an upload again (after its job failed for good, or to finish rows left
   * pending); finished rows are skipped, stored certificates reused.
   */
  async function retry(user: Pick<AuthUser, 'mspId' | 'orgKind'>, jobId: string): Promise<BulkJobReport> {
    await report(user, jobId);
    // The upload keeps one BullMQ job id, so its state in the report is the latest run's.
    const previous = await queue.getJob(jobId);
    if (previous && (await previous.getState()) === 'active') {
      throw new CodedError(ErrorCodes.INVALID_STATE, `bulk registration ${jobId} is running`, 409);
    }
    const { rows } = await deps.pool.query(
      'UPDATE device_bulk_jobs SET finished_at = NULL WHERE id = $1 RETURNING created_by, factory_msp',
      [jobId],
    );
    const job = rows[0];
    await previous?.remove();
    await queue.add('register-fleet', { jobId, username: job.created_by, mspId: job.factory_msp }, { jobId });
    return report(user, jobId);
  }

  return {
    submit,
    retry,
    report,
    start(): void {
      worker = new Worker<BulkJobData>(
        DEVICE_BULK_QUEUE,
        async (job) => {
          await run(job.data, async (pct) => {
            await job.updateProgress(pct);
          });
        },
        { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
      );
      worker.on('failed', (job, err) => deps.logger.warn({ err, jobId: job?.id }, 'bulk registration attempt failed'));
    },
    async close(): Promise<void> {
      await worker?.close();
      await queue.close();
    },
  };
}

export type DeviceBulk = ReturnType<typeof createDeviceBulk>;

function csrKey(csrPem: string): string {
  try {
    return csrPublicKeyPem(csrPem);
  } catch {
    return '';
  }
}
