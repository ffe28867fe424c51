import { randomUUID } from 'node:crypto';
import path from 'node:path';

/** Everything configurable comes from the environment, with defaults that work on one development machine. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** BullMQ key prefix: lets tests and several platforms share one Redis. */
  readonly redisPrefix: string;
  readonly mqttUrl: string;
  /** Root of device topics: `{root}/{factory}/{device}/events`. */
  readonly mqttTopicRoot: string;
  /** MQTT client id of the ingest (persistent session). */
  readonly mqttClientId: string;
  readonly ledger: 'embedded' | 'fabric';
  readonly dataDir: string;
  readonly logLevel: string;
  /** Anchor a factory's pending events once this many have accumulated... */
  readonly anchorBatchSize: number;
  /** ...or when the oldest pending event is this old. */
  readonly anchorIntervalMs: number;
  /** How long a factory has to answer an offer. */
  readonly offerTtlMs: number;
  /** Weeks ahead the dispatch solver plans over. */
  readonly dispatchHorizonWeeks: number;
  /** Largest accepted device message, bytes. */
  readonly maxMessageBytes: number;
  /** Anti-replay window of the ingest: how far below a device's highest number a late, unseen one is accepted. */
  readonly ingestReorderWindow: number;
  /** Largest jump of a device's sequence number above its highest stored one. */
  readonly ingestMaxSeqGap: number;
  /** How long before / after its receipt an event may claim to have happened, ms. */
  readonly ingestMaxPastSkewMs: number;
  readonly ingestMaxFutureSkewMs: number;
  /** Files of the ingest's TLS client identity for an mqtts:// broker (services/mosquitto/README.md). */
  readonly mqttTls: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  readonly portalsDir: string;
  /** Demo mode (`--demo`, `DEMO=1`): the demo users exist, with password `demo`. Never in production. */
  readonly demo: boolean;
  /** Outside demo mode: the platform administrator to create on first start, if no platform admin exists. */
  readonly adminUser: string;
  readonly adminPassword?: string;
  /** Lifetime of an access token (JWT, always with exp), seconds. */
  readonly accessTokenTtlSec: number;
  /** Lifetime of a session (its refresh token), seconds, from login. */
  readonly sessionTtlSec: number;
  /** Worker threads that hash passwords (scrypt), away from libuv's pool, and how many checks may wait for them. */
  readonly passwordThreads: number;
  readonly passwordQueue: number;
  /** Login attempts per client IP per minute. */
  readonly loginRatePerMinute: number;
  /** Failed logins of one username before it is locked; first lock, doubling per further failure, up to max. */
  readonly loginLockout: { readonly threshold: number; readonly baseMs: number; readonly maxMs: number };
  /** POST /api/proofs/verify: requests per client IP per minute, and the largest body, bytes. */
  readonly proofVerifyRatePerMinute: number;
  readonly proofVerifyBodyLimit: number;
  /** Bearer token for /metrics and /ready's details; unset: /metrics is off (404). */
  readonly metricsToken?: string;
  /** Serve the API explorer at /docs (the OpenAPI document is at /docs/json either way when on). */
  readonly docs: boolean;
}

const repoRoot = path.resolve(import.meta.dirname, '../../..');

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

export function loadConfig(overrides: Partial<Config> = {}): Config {
  const env = process.env;
  const ledger = env.LEDGER ?? 'embedded';
  if (ledger !== 'embedded' && ledger !== 'fabric') throw new Error(`LEDGER must be embedded or fabric, got ${ledger}`);
  const redisPrefix = env.REDIS_PREFIX ?? 'c2m';
  const demo = env.DEMO === '1' || overrides.demo === true;
  // The explorer is a development aid: on in demo and development, off in production unless asked for.
  const docs =
    env.API_DOCS === undefined || env.API_DOCS === '' ? demo || env.NODE_ENV !== 'production' : env.API_DOCS === '1';
  return {
    port: int('PORT', 3000),
    host: env.HOST ?? '127.0.0.1',
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/c2m',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPrefix,
    mqttUrl: env.MQTT_URL ?? 'mqtt://127.0.0.1:1883',
    mqttTopicRoot: env.MQTT_TOPIC_ROOT ?? 'c2m/v1',
    mqttClientId: env.MQTT_CLIENT_ID ?? `c2m-ingest-${redisPrefix}`,
    ledger,
    dataDir: path.resolve(env.DATA_DIR ?? path.join(repoRoot, '.data')),
    logLevel: env.LOG_LEVEL ?? 'info',
    anchorBatchSize: int('ANCHOR_BATCH_SIZE', 1000),
    anchorIntervalMs: int('ANCHOR_INTERVAL_MS', 10_000),
    offerTtlMs: int('OFFER_TTL_MS', 24 * 3600 * 1000),
    dispatchHorizonWeeks: int('DISPATCH_HORIZON_WEEKS', 8),
    maxMessageBytes: int('MAX_MESSAGE_BYTES', 16 * 1024),
    ingestReorderWindow: int('INGEST_REORDER_WINDOW', 1024),
    ingestMaxSeqGap: int('INGEST_MAX_SEQ_GAP', 1_000_000),
    ingestMaxPastSkewMs: int('INGEST_MAX_PAST_SKEW_MS', 24 * 3600_000),
    ingestMaxFutureSkewMs: int('INGEST_MAX_FUTURE_SKEW_MS', 120_000),
    mqttTls: { caFile: env.MQTT_CA_FILE, certFile: env.MQTT_CERT_FILE, keyFile: env.MQTT_KEY_FILE },
    portalsDir: path.resolve(env.PORTALS_DIR ?? path.join(repoRoot, 'portals/dist')),
    demo,
    adminUser: env.C2M_ADMIN_USER || 'admin',
    adminPassword: env.C2M_ADMIN_PASSWORD || undefined,
    accessTokenTtlSec: int('ACCESS_TOKEN_TTL', 15 * 60),
    sessionTtlSec: int('SESSION_TTL', 12 * 3600),
    passwordThreads: Math.max(1, int('C2M_PASSWORD_THREADS', 1)),
    passwordQueue: int('C2M_PASSWORD_QUEUE', 64),
    loginRatePerMinute: int('LOGIN_RATE_LIMIT', 30),
    loginLockout: {
      threshold: Math.max(1, int('LOGIN_LOCKOUT_THRESHOLD', 5)),
      baseMs: int('LOGIN_LOCKOUT_BASE_MS', 1000),
      maxMs: int('LOGIN_LOCKOUT_MAX_MS', 15 * 60 * 1000),
    },
    proofVerifyRatePerMinute: int('PROOF_VERIFY_RATE_LIMIT', 30),
    proofVerifyBodyLimit: int('PROOF_VERIFY_BODY_LIMIT', 12 * 1024 * 1024),
    metricsToken: env.METRICS_TOKEN || undefined,
    docs,
    ...overrides,
  };
}

/** A config isolated for one test: its own database, Redis prefix, MQTT topics and data directory. */
export function testConfig(dataDir: string, overrides: Partial<Config> = {}): Config {
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  return loadConfig({
    port: 0,
    databaseUrl: `postgres://postgres@127.0.0.1:5432/c2m_test_${id}`,
    redisPrefix: `c2m-test-${id}`,
    mqttTopicRoot: `test-${id}/c2m/v1`,
    mqttClientId: `c2m-ingest-test-${id}`,
    dataDir,
    logLevel: process.env.LOG_LEVEL ?? 'warn',
    anchorIntervalMs: 300,
    // Tests sign in as the demo users; the ones about bootstrap pass demo: false.
    demo: true,
    docs: true,
    metricsToken: randomUUID(),
    ...overrides,
  });
}
