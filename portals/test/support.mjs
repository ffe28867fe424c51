// Shared set-up for the portals' browser tests: build the SPA into a private dir,
// start the real platform server with its demo data on an isolated database,
// Redis prefix, MQTT topic root and data dir, launch Debian's headless Chromium
// (playwright-core), and remove all of it afterwards. Factored from
// portal.test.mjs (same steps); each test file gets its own platform.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const portalsDir = path.resolve(import.meta.dirname, '..');
const repoRoot = path.resolve(portalsDir, '..');
const serverJs = path.join(repoRoot, 'services/dist/src/server.js');
const PG_ADMIN = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A reason to skip browser tests on a machine without Chromium, or false. */
export const skipWithoutChromium = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install -y chromium)`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits for the ECharts canvas inside `[data-testid=testId]` and asserts it has a size and has been drawn on. */
export async function assertChartDrawn(page, testId) {
  const canvas = page.locator(`[data-testid="${testId}"] canvas`).first();
  await canvas.waitFor();
  const size = await canvas.evaluate((c) => ({ w: c.width, h: c.height }));
  assert.ok(size.w > 100 && size.h > 100, `${testId} canvas ${size.w}x${size.h}`);
  // Drawn on, not just created: some pixel is not transparent.
  const painted = await canvas.evaluate((c) =>
    c
      .getContext('2d')
      .getImageData(0, 0, c.width, c.height)
      .data.some((v, i) => i % 4 === 3 && v > 0),
  );
  assert.ok(painted, `${testId} canvas is blank`);
}

/**
 * Starts an isolated demo platform and a browser. Returns helpers bound to it:
 * `api`, `token`, `waitFor`, `newPage`, `loginAs`, `shot`, `stop()`, `base()`
 * (the server's URL), `tail(n)` (its last log lines) and `id` (this run's unique
 * suffix, for names that must not clash with other runs').
 */
export async function startDemoPlatform({ name = 'portals' } = {}) {
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  const dbName = `c2m_${name}_test_${id}`;
  const redisPrefix = `c2m-${name}-test-${id}`;
  const work = mkdtempSync(path.join(tmpdir(), `c2m-${name}-test-`));
  const shotsDir = process.env.SCREENSHOT_DIR ?? path.join(work, 'screenshots');
  const ctx = { server: null, base: '', logs: [], browser: null };

  const tail = (n = 40) => ctx.logs.slice(-n).join('\n');

  async function waitFor(what, fn, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
      try {
        const v = await fn();
        if (v) return v;
      } catch (e) {
        last = e;
      }
      if (ctx.server?.exitCode !== null && ctx.server?.exitCode !== undefined) {
        throw new Error(`server exited (${ctx.server.exitCode}) while waiting for ${what}\n${tail()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ''}\n${tail()}`);
      }
      await sleep(250);
    }
  }

  async function api(method, urlPath, { token, body } = {}) {
    const res = await fetch(`${ctx.base}${urlPath}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function token(username) {
    const r = await api('POST', '/api/auth/login', { body: { username, password: 'demo' } });
    assert.equal(r.status, 200, `login ${username}: ${JSON.stringify(r.body)}`);
    return r.body.token;
  }

  async function newPage({ locale = 'en-US' } = {}) {
    const context = await ctx.browser.newContext({ locale, viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The platform sends a Content-Security-Policy (services/src/plugins/security-headers.ts): anything it
    // blocks shows up here, so a portal change that needs a wider policy fails its test instead of breaking
    // quietly in production.
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) errors.push(`CSP: ${m.text()}`);
    });
    await page.goto(ctx.base);
    return { page, context, errors };
  }

  async function loginAs(page, user) {
    await page.getByTestId(`demo-login-${user}`).click();
    await page.getByTestId('current-user').waitFor();
  }

  async function shot(page, shotName) {
    mkdirSync(shotsDir, { recursive: true });
    const file = path.join(shotsDir, `${shotName}.png`);
    // A full-page shot of a scrolled page paints the sticky header mid-page.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  async function stop() {
    // Every step runs even if an earlier one fails, so one problem does not leave the others' debris.
    const problems = [];
    const step = async (what, fn) => {
      try {
        await fn();
      } catch (e) {
        problems.push(`${what}: ${e.message}`);
      }
    };
    await step('close browser', () => ctx.browser?.close());
    await step('stop server', async () => {
      const child = ctx.server;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    });
    await step('drop database', async () => {
      const client = new pg.Client({ connectionString: PG_ADMIN });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    });
    await step('delete Redis keys', async () => {
      const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 500);
          if (keys.length) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    });
    await step('remove temp files', () => {
      rmSync(path.join(work, 'data'), { recursive: true, force: true });
      rmSync(path.join(work, 'portals-dist'), { recursive: true, force: true });
      // Screenshots stay for a human to look at (SCREENSHOT_DIR puts them elsewhere).
      if (process.env.SCREENSHOT_DIR || !existsSync(shotsDir)) rmSync(work, { recursive: true, force: true });
      else console.log(`screenshots: ${shotsDir}`);
    });
    assert.deepEqual(problems, [], 'cleanup');
  }

  assert.ok(existsSync(serverJs), `${serverJs} is missing: build the services first (npx tsc --build services)`);
  // Build the current sources into a private dir, so the test never serves a stale portals/dist.
  const build = spawnSync(
    process.execPath,
    [
      path.join(repoRoot, 'node_modules/vite/bin/vite.js'),
      'build',
      '--outDir',
      path.join(work, 'portals-dist'),
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: portalsDir, encoding: 'utf8' },
  );
  assert.equal(build.status, 0, `vite build failed:\n${build.stdout}\n${build.stderr}`);

  const child = spawn(process.execPath, [serverJs, '--demo'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: path.join(work, 'data'),
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
      REDIS_PREFIX: redisPrefix,
      // Own topics and client id, so a platform already running on this machine cannot see our devices.
      MQTT_TOPIC_ROOT: `test-${id}/c2m/v1`,
      MQTT_CLIENT_ID: `c2m-ingest-${redisPrefix}`,
      PORTALS_DIR: path.join(work, 'portals-dist'),
      ANCHOR_INTERVAL_MS: '300',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  ctx.server = child;
  let buf = '';
  const onData = (chunk) => {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      ctx.logs.push(line);
      try {
        const entry = JSON.parse(line);
        if (!ctx.base && typeof entry.address === 'string' && /listening/i.test(entry.msg ?? ''))
          ctx.base = entry.address;
      } catch {
        // not every line is JSON (stack traces, warnings)
      }
      nl = buf.indexOf('\n');
    }
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);

  try {
    await waitFor('the server to listen', () => ctx.base, 60_000);
    await waitFor('GET /ready 200', async () => (await fetch(`${ctx.base}/ready`)).status === 200, 60_000);
    ctx.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { id, name, base: () => ctx.base, api, token, waitFor, newPage, loginAs, shot, stop, tail };
}
