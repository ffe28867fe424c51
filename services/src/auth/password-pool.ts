import { CodedError, ErrorCodes } from '@c2m/shared';
import { Piscina } from 'piscina';
import type { PasswordTask } from './password-worker.js';

export interface PasswordPool {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  readonly threads: number;
  close(): Promise<void>;
}

/** Seconds a client is told to wait when the pool's queue is full. */
const BUSY_RETRY_AFTER = 1;

/**
 * Password hashing (scrypt, about 0.1 s and 32 MiB each) on its own worker threads. Node's async scrypt runs on
 * libuv's four-thread pool, which the ledger's O_DSYNC block writes share: 300 bad logins once turned a 262 ms
 * ledger write into 28 s. Here a burst costs at most `threads` cores and `threads` × 32 MiB, and beyond
 * `maxQueue` waiting checks the pool refuses at once (`RATE_LIMITED`) instead of growing a queue without end.
 */
export function createPasswordPool(options: { threads: number; maxQueue: number }): PasswordPool {
  const threads = Math.max(1, options.threads);
  const pool = new Piscina({
    filename: new URL('./password-worker.js', import.meta.url).href,
    minThreads: 1,
    maxThreads: threads,
    maxQueue: Math.max(1, options.maxQueue),
    idleTimeout: 60_000,
  });
  const run = async (task: PasswordTask): Promise<unknown> => {
    if (pool.queueSize >= pool.options.maxQueue) throw busy();
    try {
      return await pool.run(task);
    } catch (err) {
      // piscina refuses with "Task queue is at limit" when the queue filled between the check and the call.
      if (err instanceof Error && /queue is at limit/i.test(err.message)) throw busy();
      throw err;
    }
  };
  return {
    threads,
    hash: async (password) => (await run({ op: 'hash', password })) as string,
    verify: async (password, hash) => (await run({ op: 'verify', password, hash })) as boolean,
    close: () => pool.destroy(),
  };
}

function busy(): CodedError {
  return new CodedError(ErrorCodes.RATE_LIMITED, 'Too many sign-ins are being checked; try again shortly', 429, {
    retryAfterSeconds: BUSY_RETRY_AFTER,
  });
}
