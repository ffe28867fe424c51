import type { JobSchedulerTemplateOptions, Queue, RepeatOptions } from 'bullmq';
import type { Logger } from 'pino';

/** One BullMQ job scheduler the platform relies on: the queue, its id, when it fires and the job it adds. */
export interface SchedulerSpec {
  readonly queue: Queue;
  readonly id: string;
  readonly repeat: Omit<RepeatOptions, 'key'>;
  readonly template: { readonly name: string; readonly data?: unknown; readonly opts?: JobSchedulerTemplateOptions };
}

export interface SchedulerKeeperOptions {
  readonly logger: Logger;
  /** How often every scheduler is checked, ms (default 2 s). */
  readonly checkEveryMs?: number;
  /** Called after schedulers had to be re-created: Redis lost its data, so anything else queued there is gone too. */
  readonly onReset?: () => Promise<unknown>;
}

/**
 * Keeps the platform's job schedulers in Redis. A scheduler is state in Redis:
 * when Redis restarts without persistence it is gone, and the periodic work it
 * drove (anchoring, the ledger outbox sweep) silently stops, although every
 * worker reconnects. So each one is checked every few seconds and re-created
 * when missing; `status()` feeds /ready, which reports not-ready while a
 * check fails or a scheduler is missing.
 */
export function createSchedulerKeeper(options: SchedulerKeeperOptions) {
  const checkEveryMs = options.checkEveryMs ?? 2000;
  const specs: SchedulerSpec[] = [];
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;
  let last: { at: number; ok: boolean; detail: string } = { at: 0, ok: false, detail: 'not checked yet' };
  let recreated = 0;

  const upsert = (s: SchedulerSpec) =>
    s.queue.upsertJobScheduler(s.id, s.repeat, { name: s.template.name, data: s.template.data, opts: s.template.opts });

  async function checkAll(): Promise<void> {
    try {
      const missing: SchedulerSpec[] = [];
      for (const s of specs) if (!(await s.queue.getJobScheduler(s.id))) missing.push(s);
      for (const s of missing) await upsert(s);
      if (missing.length > 0) {
        recreated += missing.length;
        options.logger.warn(
          { schedulers: missing.map((s) => s.id) },
          'job schedulers were missing from Redis; re-created',
        );
        await options.onReset?.().catch((err) => options.logger.warn({ err }, 'recovery after a Redis reset failed'));
      }
      last = { at: Date.now(), ok: true, detail: `${specs.length} schedulers present` };
    } catch (err) {
      last = { at: Date.now(), ok: false, detail: `checking schedulers failed: ${(err as Error).message}` };
    }
  }

  return {
    /** Creates (or updates) the scheduler now and keeps it from then on. */
    async register(spec: SchedulerSpec): Promise<void> {
      await upsert(spec);
      specs.push(spec);
    },
    start(): void {
      timer ??= setInterval(() => {
        checking ??= checkAll().finally(() => {
          checking = undefined;
        });
      }, checkEveryMs);
    },
    /** Checks now (tests and /ready use it when the last check is old). */
    check: () => checkAll(),
    /** Schedulers re-created since start: each one means Redis came back without them. */
    recreated: () => recreated,
    status(): { ok: boolean; detail: string } {
      if (specs.length === 0) return { ok: true, detail: 'no schedulers in this process' };
      if (Date.now() - last.at > checkEveryMs * 3)
        return { ok: false, detail: `no scheduler check since ${new Date(last.at).toISOString()}` };
      return { ok: last.ok, detail: last.detail };
    },
    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await checking;
    },
  };
}

export type SchedulerKeeper = ReturnType<typeof createSchedulerKeeper>;
