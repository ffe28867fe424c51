// End-to-end test of the portals: the real platform server (with its demo data)
// and the built SPA, driven in Debian's headless Chromium through playwright-core.
// Isolated: its own database, Redis prefix, MQTT topic root, data dir and build dir;
// all removed at the end. Screenshots of each portal go to a temp dir (printed).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID, sign } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createDeviceCsr, generateDeviceKeyPair } from '@c2m/identity';
import { Redis } from 'ioredis';
import pg from 'pg';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const portalsDir = path.resolve(import.meta.dirname, '..');
const repoRoot = path.resolve(portalsDir, '..');
const serverJs = path.join(repoRoot, 'services/dist/src/server.js');
const PG_ADMIN = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install -y chromium)`;

const id = randomUUID().replaceAll('-', '').slice(0, 12);
const dbName = `c2m_portals_test_${id}`;
const redisPrefix = `c2m-portals-test-${id}`;
const work = mkdtempSync(path.join(tmpdir(), 'c2m-portals-test-'));
const shotsDir = process.env.SCREENSHOT_DIR ?? path.join(work, 'screenshots');

const ctx = { server: null, base: '', logs: [], browser: null, demoWorkOrderId: '' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

function tail(n = 40) {
  return ctx.logs.slice(-n).join('\n');
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

function startServer() {
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
  return child;
}

async function stopServer() {
  const child = ctx.server;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function newPage({ locale = 'en-US' } = {}) {
  const context = await ctx.browser.newContext({ locale, viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(ctx.base);
  return { page, context, errors };
}

async function loginAs(page, user) {
  await page.getByTestId(`demo-login-${user}`).click();
  await page.getByTestId('current-user').waitFor();
}

async function shot(page, name) {
  mkdirSync(shotsDir, { recursive: true });
  const file = path.join(shotsDir, `${name}.png`);
  // A full-page shot of a scrolled page paints the sticky header mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

describe('portals in headless Chromium against the demo platform', { skip, timeout: 300_000 }, () => {
  before(async () => {
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

    startServer();
    await waitFor('the server to listen', () => ctx.base, 60_000);
    await waitFor('GET /ready 200', async () => (await fetch(`${ctx.base}/ready`)).status === 200, 60_000);
    // The demo loads through the public API after listen: wait until a financier sees production
    // and the work order's events are anchored (its proof bundle has events).
    const financier = await token('financier');
    ctx.demoWorkOrderId = await waitFor(
      'the demo work order with anchored production',
      async () => {
        const wos = await api('GET', '/api/work-orders', { token: financier });
        const wo = wos.body?.items?.find((w) => w.producedUnits > 0);
        if (!wo) return undefined;
        const proof = await api('GET', `/api/work-orders/${wo.id}/proof`, { token: financier });
        return proof.status === 200 && proof.body.events.length > 0 ? wo.id : undefined;
      },
      150_000,
    );
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
  });

  after(async () => {
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
    await step('stop server', stopServer);
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
  });

  const product = `Test hoodie ${id}`;

  test('the login page offers the demo users and rejects a wrong password', async () => {
    const { page, context, errors } = await newPage();
    for (const u of ['brand', 'factory1', 'factory2', 'certifier', 'financier', 'platform']) {
      assert.ok(await page.getByTestId(`demo-login-${u}`).isVisible(), `demo button for ${u}`);
    }
    await page.getByTestId('login-username').fill('brand');
    await page.getByTestId('login-password').fill('wrong');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor();
    await shot(page, '0-login');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a brand posts an order and sees it in its order list', async () => {
    const { page, context, errors } = await newPage();
    await loginAs(page, 'brand');
    await page.getByTestId('brand-portal').waitFor();
    assert.match(page.url(), /#\/brand$/);
    assert.match(await page.getByTestId('current-user').textContent(), /brand/i);

    await page.getByTestId('order-product').fill(product);
    await page.getByTestId('order-ship-to').fill('Brand DC, Hangzhou');
    await page.getByTestId('line-sku-0').fill('HD-BLK-M');
    await page.getByTestId('line-colour-0').fill('black');
    await page.getByTestId('line-size-0').fill('M');
    await page.getByTestId('line-quantity-0').fill('300');
    await page.getByTestId('order-add-line').click();
    await page.getByTestId('line-sku-1').fill('HD-BLK-L');
    await page.getByTestId('line-quantity-1').fill('200');
    await page.getByTestId('order-price').fill('45.90');
    await page.getByTestId('order-submit').click();
    await page.getByTestId('order-posted').waitFor();

    const row = page.getByTestId('order-row').filter({ hasText: product });
    await row.waitFor();
    assert.match(await row.textContent(), /500/); // total units of both lines

    // What the brand typed reached the API as minor units and lines.
    const brand = await token('brand');
    const orders = await api('GET', '/api/orders', { token: brand });
    const order = orders.body.items.find((o) => o.product === product);
    assert.ok(order, 'order stored');
    assert.equal(order.targetPriceMinor, 4590);
    assert.equal(order.totalQuantity, 500);
    assert.deepEqual(
      order.lines.map((l) => [l.sku, l.quantity]),
      [
        ['HD-BLK-M', 300],
        ['HD-BLK-L', 200],
      ],
    );

    await row.getByTestId('order-toggle').click();
    await page.getByTestId('order-details').waitFor();
    await shot(page, '1-brand');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the factory the order was dispatched to sees the offer and accepts it', async () => {
    // Dispatch picks the factory; ask the API which one got the offer, then use that factory's portal.
    const tokens = { factory1: await token('factory1'), factory2: await token('factory2') };
    const factory = await waitFor(
      'an open offer for the new order',
      async () => {
        for (const [user, t] of Object.entries(tokens)) {
          const offers = await api('GET', '/api/offers?status=open', { token: t });
          if (offers.body?.items?.some((o) => o.product === product)) return user;
        }
        return undefined;
      },
      60_000,
    );

    const { page, context, errors } = await newPage();
    await loginAs(page, factory);
    await page.getByTestId('factory-portal').waitFor();
    const offer = page.getByTestId('offer-row').filter({ hasText: product });
    await offer.waitFor();
    await shot(page, '2-factory');

    await offer.getByTestId('offer-accept').click();
    await page.getByTestId('offer-message').waitFor();
    await page.getByTestId('work-order-row').filter({ hasText: product }).waitFor();
    assert.equal(await page.getByTestId('offer-row').filter({ hasText: product }).count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the demo factory sees its work order with produced units and its devices with their ledger status', async () => {
    const { page, context, errors } = await newPage();
    await loginAs(page, 'factory1');
    await page.getByTestId('factory-portal').waitFor();
    const wo = page.locator(`[data-testid="work-order-row"][data-work-order-id="${ctx.demoWorkOrderId}"]`);
    await wo.waitFor();
    assert.match(await wo.textContent(), /[1-9][\d,]* \/ 3,000/);
    await page.locator('[data-testid="device-row"][data-status="CERTIFIED"]').first().waitFor();
    await shot(page, '2b-factory1');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a certifier sees every device with its ledger status and certifies a newly registered one', async () => {
    // A factory registers a new device (its key stays on the device; only the CSR is sent).
    const deviceId = `test-press-${id}`;
    const keys = generateDeviceKeyPair();
    const csrPem = await createDeviceCsr(keys.privateKey, keys.publicKey, { deviceId, mspId: 'Factory2Org' });
    const reg = await api('POST', '/api/devices', {
      token: await token('factory2'),
      body: { deviceId, model: 'Test press', serial: `SN-${id}`, line: 'line-9', csrPem },
    });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));

    const { page, context, errors } = await newPage();
    await loginAs(page, 'certifier');
    await page.getByTestId('certifier-portal').waitFor();
    const row = page.locator(`[data-testid="device-row"][data-device-id="${deviceId}"]`);
    await row.waitFor();
    const statuses = await page.getByTestId('device-row').evaluateAll((rows) => rows.map((r) => r.dataset.status));
    assert.ok(statuses.includes('CERTIFIED'), `statuses: ${statuses}`);
    // Certify is offered exactly for the devices still waiting for it.
    assert.equal(await row.getAttribute('data-status'), 'REGISTERED');
    const registered = statuses.filter((s) => s === 'REGISTERED').length;
    assert.equal(await page.getByTestId('device-certify').count(), registered);
    await shot(page, '3-certifier');

    // Proof of possession: the portal shows the challenge; the device (here the test, holding its key) signs it.
    await row.getByTestId('device-certify').click();
    const challenge = await row.getByTestId('certify-challenge').inputValue();
    assert.match(challenge, new RegExp(`^C2M-POP/1 ${deviceId} `));
    const signature = sign('sha256', Buffer.from(challenge), {
      key: keys.privateKey,
      dsaEncoding: 'ieee-p1363',
    }).toString('base64url');
    await row.getByTestId('certify-signature').fill(signature);
    await row.getByTestId('certify-submit').click();
    await page.getByTestId('certify-message').waitFor();
    await page.locator(`[data-testid="device-row"][data-device-id="${deviceId}"][data-status="CERTIFIED"]`).waitFor();
    assert.equal(await row.getByTestId('device-certify').count(), 0);
    const ledger = await api('GET', `/api/devices/${deviceId}`, { token: await token('platform') });
    assert.equal(ledger.body.status, 'CERTIFIED');
    // Recalibration due: suspend, then reactivate; each is a ledger change with the certifier's name.
    await row.getByTestId('device-suspend').click();
    await page.locator(`[data-testid="device-row"][data-device-id="${deviceId}"][data-status="SUSPENDED"]`).waitFor();
    await row.getByTestId('device-reactivate').click();
    await page.locator(`[data-testid="device-row"][data-device-id="${deviceId}"][data-status="CERTIFIED"]`).waitFor();
    const history = await api('GET', `/api/devices/${deviceId}`, { token: await token('platform') });
    assert.deepEqual(
      history.body.history.map((h) => [h.action, h.by]),
      [
        ['register', 'factory2@Factory2Org'],
        ['certify', 'certifier@PlatformOrg'],
        ['suspend', 'certifier@PlatformOrg'],
        ['reactivate', 'certifier@PlatformOrg'],
      ],
    );
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a financier opens the demo work order, sees its chart and verifies the production record', async () => {
    const { page, context, errors } = await newPage();
    await loginAs(page, 'financier');
    await page.getByTestId('financier-portal').waitFor();
    await page.locator(`[data-testid="work-order-row"][data-work-order-id="${ctx.demoWorkOrderId}"]`).click();
    await page.getByTestId('work-order-detail').waitFor();

    const canvas = page.locator('[data-testid="production-chart"] canvas');
    await canvas.first().waitFor();
    const size = await canvas.first().evaluate((c) => ({ w: c.width, h: c.height }));
    assert.ok(size.w > 100 && size.h > 100, `chart canvas ${size.w}x${size.h}`);
    // The canvas has been drawn on, not just created.
    const painted = await canvas.first().evaluate((c) =>
      c
        .getContext('2d')
        .getImageData(0, 0, c.width, c.height)
        .data.some((v, i) => i % 4 === 3 && v > 0),
    );
    assert.ok(painted, 'chart canvas is blank');

    await page.getByTestId('verify-button').click();
    const result = page.getByTestId('verify-result');
    await result.waitFor({ timeout: 60_000 });
    assert.equal(
      await result.getAttribute('data-verified'),
      'true',
      `verification failed:\n${await page.getByTestId('verify-card').textContent()}`,
    );
    assert.equal(await page.getByTestId('verify-verdict').textContent(), 'Verified');
    assert.equal(await page.getByTestId('server-checks').getAttribute('data-valid'), 'true');
    assert.equal(await page.getByTestId('browser-checks').getAttribute('data-valid'), 'true');
    await shot(page, '4-financier-verified');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a tampered production record is not verified, by the platform nor in the browser', async () => {
    const { page, context } = await newPage();
    // Inflate one event's unit count in the bundle on its way to the page, as a dishonest party might.
    await page.route('**/api/work-orders/*/proof', async (route) => {
      const res = await route.fetch();
      const bundle = await res.json();
      const e = bundle.events.find((x) => /"units":\d+/.test(x.message));
      assert.ok(e, 'the bundle has a production count event');
      e.message = e.message.replace(/"units":(\d+)/, (_, n) => `"units":${Number(n) + 100}`);
      await route.fulfill({ response: res, json: bundle });
    });
    await loginAs(page, 'financier');
    await page.locator(`[data-testid="work-order-row"][data-work-order-id="${ctx.demoWorkOrderId}"]`).click();
    await page.getByTestId('verify-button').click();
    const result = page.getByTestId('verify-result');
    await result.waitFor({ timeout: 60_000 });
    assert.equal(await result.getAttribute('data-verified'), 'false');
    assert.equal(await page.getByTestId('browser-checks').getAttribute('data-valid'), 'false');
    assert.equal(await page.getByTestId('server-checks').getAttribute('data-valid'), 'false');
    const failing = await page.locator('[data-testid="browser-checks"] .check-bad').allInnerTexts();
    assert.ok(
      failing.some((t) => /leaf hashes/.test(t)) && failing.some((t) => /signatures/.test(t)),
      `browser failures: ${failing.join(' | ')}`,
    );
    await shot(page, '5-financier-tampered');
    await context.close();
  });

  test('the UI switches to Chinese, and a Chinese browser starts in Chinese', async () => {
    const { page, context } = await newPage();
    await loginAs(page, 'financier');
    await page.getByTestId('financier-portal').waitFor();
    await page.getByTestId('language-select').selectOption('zh-CN');
    await page.getByRole('heading', { name: '金融门户' }).waitFor();
    assert.equal(await page.getByTestId('logout').textContent(), '退出登录');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    await page.locator(`[data-testid="work-order-row"][data-work-order-id="${ctx.demoWorkOrderId}"]`).click();
    await page.getByTestId('verify-button').click();
    await page.getByTestId('verify-result').waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('verify-verdict').textContent(), '已验证');
    await shot(page, '6-financier-zh');
    await context.close();

    const zh = await newPage({ locale: 'zh-CN' });
    await zh.page.getByRole('heading', { name: '登录' }).waitFor();
    await shot(zh.page, '7-login-zh');
    await zh.context.close();
  });

  test('the header shows the ledger and logout returns to the login page', async () => {
    const { page, context } = await newPage();
    await loginAs(page, 'platform');
    await page.getByTestId('platform-portal').waitFor();
    await page.getByTestId('ledger-toggle').click();
    const panel = page.getByTestId('ledger-panel');
    await panel
      .getByRole('cell', { name: /^#\d+$/ })
      .first()
      .waitFor();
    await shot(page, '8-platform-ledger');
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('c2m.token')), null);
    await context.close();
  });
});
