import type { IdentityStore } from '@c2m/identity';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { type Accounts, createAccounts } from './accounts.js';
import { prepareAccounts } from './bootstrap.js';
import { createLoginThrottle, type LoginThrottle } from './login-throttle.js';
import { createPasswordPool, type PasswordPool } from './password-pool.js';
import { createSessions, type Sessions } from './sessions.js';

export interface AuthServices {
  readonly accounts: Accounts;
  readonly sessions: Sessions;
  readonly throttle: LoginThrottle;
  readonly passwords: PasswordPool;
  /** Shared by the login throttle and the routes' rate limits. */
  readonly redis: Redis;
  close(): Promise<void>;
}

/** Accounts, sessions, the login throttle and the password pool, ready for the mode the config names. */
export async function openAuth(deps: {
  config: Config;
  pool: pg.Pool;
  identity: IdentityStore;
  logger: Logger;
}): Promise<AuthServices> {
  const { config, pool, identity, logger } = deps;
  const passwords = createPasswordPool({ threads: config.passwordThreads, maxQueue: config.passwordQueue });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => logger.warn({ err }, 'login throttle: Redis error'));
  const close = async () => {
    redis.disconnect();
    await passwords.close();
  };
  try {
    const accounts = createAccounts({ pool, identity, passwords });
    await prepareAccounts(accounts, config, logger);
    return {
      accounts,
      sessions: createSessions({ pool, ttlSec: config.sessionTtlSec }),
      throttle: createLoginThrottle(redis, config.redisPrefix, config.loginLockout),
      passwords,
      redis,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
