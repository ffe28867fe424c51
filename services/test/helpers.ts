import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pino from 'pino';
import request from 'supertest';
import { buildApp } from '../src/app.js';
import { type Config, testConfig } from '../src/config.js';
import { dropDatabase } from '../src/db/database.js';
import { openPlatform, type Platform } from '../src/platform.js';

export interface TestPlatform {
  readonly config: Config;
  readonly platform: Platform;
  readonly app: FastifyInstance;
  readonly baseUrl: string;
  /** Every route the app registered, as `METHOD /url` (HEAD routes fastify adds itself left out). */
  readonly routes: readonly string[];
  close(): Promise<void>;
}

/**
 * A whole platform isolated for one test: its own database, Redis prefix, MQTT
 * topic root and data directory (CAs, ledger), on real PostgreSQL, Redis and
 * Mosquitto. `close()` removes all of it.
 */
export async function startTestPlatform(overrides: Partial<Config> = {}): Promise<TestPlatform> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'c2m-test-'));
  const config = testConfig(dataDir, overrides);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const platform = await openPlatform(config, { logger });
  const routes: string[] = [];
  const app = await buildApp(platform, {
    onRoute: (route) => {
      for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const baseUrl = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : String(address);
  return {
    config,
    platform,
    app,
    baseUrl,
    routes,
    async close() {
      await app.close();
      await platform.close();
      await dropDatabase(config.databaseUrl);
      await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Signs in the demo users (password `demo`) over HTTP and returns each one's bearer token. */
export async function demoTokens(t: TestPlatform, usernames: readonly string[]): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const username of usernames) {
    const res = await request(t.app.server).post('/api/auth/login').send({ username, password: 'demo' }).expect(200);
    tokens[username] = res.body.token;
  }
  return tokens;
}
