import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import request from 'supertest';
import { buildApp } from '../src/app.js';
import { type Config, testConfig } from '../src/config.js';
import { dropDatabase } from '../src/db/database.js';
import { openPlatform, type Platform } from '../src/platform.js';
import { deleteRedisPrefix, startTestPlatform } from './helpers.js';

// Outside demo mode there are no demo users, the first start needs an explicit administrator, and a known
// default password keeps the platform from starting at all.
const STRONG = 'Correct-Horse-Battery-2026';
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const serviceDist = path.resolve(import.meta.dirname, '..');

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function isolatedConfig(overrides: Partial<Config>): Promise<Config> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'c2m-boot-'));
  const config = testConfig(dataDir, overrides);
  cleanups.push(async () => {
    await dropDatabase(config.databaseUrl);
    await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
    await rm(dataDir, { recursive: true, force: true });
  });
  return config;
}

async function withPlatform<T>(config: Config, fn: (p: Platform) => Promise<T>): Promise<T> {
  const platform = await openPlatform(config, { logger, workers: false });
  try {
    return await fn(platform);
  } finally {
    await platform.close();
  }
}

/** Runs bootstrap-admin on the config's database and data dir, the password on standard input. */
function bootstrapCli(config: Config, password: string, args: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(serviceDist, 'src/cli/bootstrap-admin.js'), ...args], {
      env: {
        ...process.env,
        DATABASE_URL: config.databaseUrl,
        DATA_DIR: config.dataDir,
        REDIS_PREFIX: config.redisPrefix,
        C2M_ADMIN_PASSWORD: '',
        LOG_LEVEL: 'warn',
      },
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
    child.stdin.end(`${password}\n`);
  });
}

describe('accounts outside demo mode', () => {
  test('the first start without an administrator is refused, and so is a known default password', async () => {
    const none = await isolatedConfig({ demo: false });
    await assert.rejects(openPlatform(none, { logger, workers: false }), /no platform administrator exists/);
    for (const weak of ['demo', 'admin', 'DEMO', 'short']) {
      const config = await isolatedConfig({ demo: false, adminPassword: weak });
      await assert.rejects(openPlatform(config, { logger, workers: false }), /password refused/, weak);
    }
  });

  test('C2M_ADMIN_PASSWORD creates the administrator; no demo user exists, not even as a ledger identity', async () => {
    const config = await isolatedConfig({ demo: false, adminPassword: STRONG });
    await withPlatform(config, async (platform) => {
      const app = await buildApp(platform);
      await app.ready();
      try {
        for (const username of ['platform', 'factory1', 'certifier', 'brand']) {
          await request(app.server).post('/api/auth/login').send({ username, password: 'demo' }).expect(401);
        }
        const res = await request(app.server)
          .post('/api/auth/login')
          .send({ username: 'admin', password: STRONG })
          .expect(200);
        assert.deepEqual([res.body.user.mspId, res.body.user.role], ['PlatformOrg', 'admin']);
        assert.equal(platform.identity.user('factory1'), undefined);
        assert.ok(platform.identity.user('platform'), 'the service identity that anchors batches is enrolled');
      } finally {
        await app.close();
      }
    });
    // A second start needs no password: the administrator exists.
    await withPlatform({ ...config, adminPassword: undefined }, async () => undefined);
  });

  test('a database once run as the demo does not start outside demo mode until its demo users are dealt with', async () => {
    const t = await startTestPlatform();
    const config = t.config;
    await t.app.close();
    await t.platform.close();
    cleanups.push(async () => {
      await dropDatabase(config.databaseUrl);
      await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
      await rm(config.dataDir, { recursive: true, force: true });
    });
    const production = { ...config, demo: false, adminPassword: undefined };
    await assert.rejects(
      openPlatform(production, { logger, workers: false }),
      /user \w+ still has the default password/,
    );
    assert.notEqual(await bootstrapCli(config, 'demo'), 0, 'the CLI refuses a default password too');
    assert.equal(await bootstrapCli(config, STRONG, ['--disable-demo-users']), 0);
    await withPlatform(production, async (platform) => {
      const app = await buildApp(platform);
      await app.ready();
      try {
        await request(app.server).post('/api/auth/login').send({ username: 'factory1', password: 'demo' }).expect(401);
        await request(app.server).post('/api/auth/login').send({ username: 'admin', password: STRONG }).expect(200);
        const admin = (await request(app.server).post('/api/auth/login').send({ username: 'admin', password: STRONG }))
          .body.token;
        const users = await request(app.server).get('/api/users').set('authorization', `Bearer ${admin}`).expect(200);
        const demoUsers = users.body.items.filter((u: { username: string }) => u.username !== 'admin');
        assert.ok(demoUsers.length >= 5);
        assert.ok(demoUsers.every((u: { disabled: boolean }) => u.disabled));
      } finally {
        await app.close();
      }
    });
  });
});
