import { createHash } from 'node:crypto';
import { CodedError, ErrorCodes } from '@c2m/shared';
import type { Redis } from 'ioredis';

export interface LockoutPolicy {
  /** Attempts of one username (since its last success) before it is locked. */
  readonly threshold: number;
  /** The first lock, ms; each further attempt doubles it... */
  readonly baseMs: number;
  /** ...up to this, ms. */
  readonly maxMs: number;
}

export interface LoginThrottle {
  /**
   * Reserves one attempt for the username, or throws `RATE_LIMITED` (429, Retry-After) while it is locked,
   * whatever the password: a correct guess during a lock must look exactly like a wrong one.
   */
  begin(username: string): Promise<void>;
  /** The attempt failed: a lock it set runs from now, not from when the (slow) password check began. */
  failed(username: string): Promise<void>;
  /** The attempt succeeded: failures and lock are forgotten. */
  succeeded(username: string): Promise<void>;
}

// Atomic, so concurrent attempts cannot all slip past the check: every attempt is counted before its password
// is checked, and the one that reaches the threshold sets the lock for the rest. A lock that has run out lets
// exactly one more attempt through, which (if it fails too) locks for twice as long.
const BEGIN = `
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then return {0, ttl} end
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local threshold = tonumber(ARGV[1])
if n >= threshold then
  local d = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * math.pow(2, n - threshold))
  if d > 0 then redis.call('SET', KEYS[2], '1', 'PX', math.floor(d)) end
end
return {1, n}
`;

const FAILED = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local threshold = tonumber(ARGV[1])
if n >= threshold then
  local d = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * math.pow(2, n - threshold))
  if d > 0 then redis.call('SET', KEYS[2], '1', 'PX', math.floor(d)) end
end
return n
`;

/**
 * Per-username lockout with exponential backoff, in Redis so that every platform process shares it. Keys use a
 * hash of the name: unknown names are throttled exactly like known ones (no enumeration through 429s), and an
 * attacker's name never becomes a Redis key verbatim.
 */
export function createLoginThrottle(redis: Redis, prefix: string, policy: LockoutPolicy): LoginThrottle {
  const keys = (username: string) => {
    const h = createHash('sha256').update(username.normalize('NFC').toLowerCase()).digest('hex').slice(0, 32);
    return [`${prefix}:login:fails:${h}`, `${prefix}:login:lock:${h}`] as const;
  };
  // Failures are forgotten a while after the longest lock, so an old streak does not lock a user for good.
  const windowMs = Math.max(policy.maxMs * 2, 60_000);
  return {
    async begin(username) {
      const [fails, lock] = keys(username);
      const [allowed, value] = (await redis.eval(
        BEGIN,
        2,
        fails,
        lock,
        policy.threshold,
        policy.baseMs,
        policy.maxMs,
        windowMs,
      )) as [number, number];
      if (allowed === 1) return;
      const seconds = Math.max(1, Math.ceil(value / 1000));
      throw new CodedError(
        ErrorCodes.RATE_LIMITED,
        `Too many failed sign-ins for this user; try again in ${seconds} s`,
        429,
        { retryAfterSeconds: seconds },
      );
    },
    async failed(username) {
      const [fails, lock] = keys(username);
      await redis.eval(FAILED, 2, fails, lock, policy.threshold, policy.baseMs, policy.maxMs);
    },
    async succeeded(username) {
      await redis.del(...keys(username));
    },
  };
}
