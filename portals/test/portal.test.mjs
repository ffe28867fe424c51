// End-to-end test of the portals: the real platform server (with its demo data)
// and the built SPA, driven in Debian's headless Chromium through playwright-core.
// Isolated: its own database, Redis prefix, MQTT topic root, data dir and build dir;
// all removed at the end (support.mjs). Screenshots of each portal go to a temp dir (printed).

import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createDeviceCsr, generateDeviceKeyPair } from '@c2m/identity';
import { assertChartDrawn, skipWithoutChromium, startDemoPlatform } from './support.mjs';

describe('portals in headless Chromium against the demo platform', {
  skip: skipWithoutChromium,
  timeout: 300_000,
}, () => {
  let p;
  let demoWorkOrderId = '';
  let product = '';

  before(async () => {
    p = await startDemoPlatform({ name: 'portals' });
    product = `Test hoodie ${p.id}`;
    // The demo loads through the public API after listen: wait until a financier sees production
    // and the work order's events are anchored (its proof bundle has events).
    const financier = await p.token('financier');
    demoWorkOrderId = await p.waitFor(
      'the demo work order with anchored production',
      async () => {
        const wos = await p.api('GET', '/api/work-orders', { token: financier });
        const wo = wos.body?.items?.find((w) => w.producedUnits > 0);
        if (!wo) return undefined;
        const proof = await p.api('GET', `/api/work-orders/${wo.id}/proof`, { token: financier });
        return proof.status === 200 && proof.body.events.length > 0 ? wo.id : undefined;
      },
      150_000,
    );
  });

  after(async () => {
    await p?.stop();
  });

  test('the login page offers the demo users and rejects a wrong password', async () => {
    const { page, context, errors } = await p.newPage();
    for (const u of ['brand', 'factory1', 'factory2', 'certifier', 'financier', 'platform']) {
      assert.ok(await page.getByTestId(`demo-login-${u}`).isVisible(), `demo button for ${u}`);
    }
    await page.getByTestId('login-username').fill('brand');
    await page.getByTestId('login-password').fill('wrong');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor();
    await p.shot(page, '0-login');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a brand posts an order and sees it in its order list', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'brand');
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
    const brand = await p.token('brand');
    const orders = await p.api('GET', '/api/orders', { token: brand });
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
    await p.shot(page, '1-brand');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the factory the order was dispatched to sees the offer and accepts it', async () => {
    // Dispatch picks the factory; ask the API which one got the offer, then use that factory's portal.
    const tokens = { factory1: await p.token('factory1'), factory2: await p.token('factory2') };
    const factory = await p.waitFor(
      'an open offer for the new order',
      async () => {
        for (const [user, t] of Object.entries(tokens)) {
          const offers = await p.api('GET', '/api/offers?status=open', { token: t });
          if (offers.body?.items?.some((o) => o.product === product)) return user;
        }
        return undefined;
      },
      60_000,
    );

    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, factory);
    await page.getByTestId('factory-portal').waitFor();
    const offer = page.getByTestId('offer-row').filter({ hasText: product });
    await offer.waitFor();
    await p.shot(page, '2-factory');

    await offer.getByTestId('offer-accept').click();
    await page.getByTestId('offer-message').waitFor();
    await page.getByTestId('work-order-row').filter({ hasText: product }).waitFor();
    assert.equal(await page.getByTestId('offer-row').filter({ hasText: product }).count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the demo factory sees its work order with produced units and its devices with their ledger status', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'factory1');
    await page.getByTestId('factory-portal').waitFor();
    const wo = page.locator(`[data-testid="work-order-row"][data-work-order-id="${demoWorkOrderId}"]`);
    await wo.waitFor();
    assert.match(await wo.textContent(), /[1-9][\d,]* \/ 3,000/);
    await page.locator('[data-testid="device-row"][data-status="CERTIFIED"]').first().waitFor();
    await p.shot(page, '2b-factory1');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a certifier sees every device with its ledger status and certifies a newly registered one', async () => {
    // A factory registers a new device (its key stays on the device; only the CSR is sent).
    const deviceId = `test-press-${p.id}`;
    const keys = generateDeviceKeyPair();
    const csrPem = await createDeviceCsr(keys.privateKey, keys.publicKey, { deviceId, mspId: 'Factory2Org' });
    const reg = await p.api('POST', '/api/devices', {
      token: await p.token('factory2'),
      body: { deviceId, model: 'Test press', serial: `SN-${p.id}`, line: 'line-9', csrPem },
    });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));

    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'certifier');
    await page.getByTestId('certifier-portal').waitFor();
    const row = page.locator(`[data-testid="device-row"][data-device-id="${deviceId}"]`);
    await row.waitFor();
    const statuses = await page.getByTestId('device-row').evaluateAll((rows) => rows.map((r) => r.dataset.status));
    assert.ok(statuses.includes('CERTIFIED'), `statuses: ${statuses}`);
    // Certify is offered exactly for the devices still waiting for it.
    assert.equal(await row.getAttribute('data-status'), 'REGISTERED');
    const registered = statuses.filter((s) => s === 'REGISTERED').length;
    assert.equal(await page.getByTestId('device-certify').count(), registered);
    await p.shot(page, '3-certifier');

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
    const ledger = await p.api('GET', `/api/devices/${deviceId}`, { token: await p.token('platform') });
    assert.equal(ledger.body.status, 'CERTIFIED');
    // Recalibration due: suspend, then reactivate; each is a ledger change with the certifier's name.
    await row.getByTestId('device-suspend').click();
    await page.locator(`[data-testid="device-row"][data-device-id="${deviceId}"][data-status="SUSPENDED"]`).waitFor();
    await row.getByTestId('device-reactivate').click();
    await page.locator(`[data-testid="device-row"][data-device-id="${deviceId}"][data-status="CERTIFIED"]`).waitFor();
    const history = await p.api('GET', `/api/devices/${deviceId}`, { token: await p.token('platform') });
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
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'financier');
    await page.getByTestId('financier-portal').waitFor();
    await page.locator(`[data-testid="work-order-row"][data-work-order-id="${demoWorkOrderId}"]`).click();
    await page.getByTestId('work-order-detail').waitFor();

    await assertChartDrawn(page, 'production-chart');

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
    await p.shot(page, '4-financier-verified');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a tampered production record is not verified, by the platform nor in the browser', async () => {
    const { page, context } = await p.newPage();
    // Inflate one event's unit count in the bundle on its way to the page, as a dishonest party might.
    await page.route('**/api/work-orders/*/proof', async (route) => {
      const res = await route.fetch();
      const bundle = await res.json();
      const e = bundle.events.find((x) => /"units":\d+/.test(x.message));
      assert.ok(e, 'the bundle has a production count event');
      e.message = e.message.replace(/"units":(\d+)/, (_, n) => `"units":${Number(n) + 100}`);
      await route.fulfill({ response: res, json: bundle });
    });
    await p.loginAs(page, 'financier');
    await page.locator(`[data-testid="work-order-row"][data-work-order-id="${demoWorkOrderId}"]`).click();
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
    await p.shot(page, '5-financier-tampered');
    await context.close();
  });

  test('the UI switches to Chinese, and a Chinese browser starts in Chinese', async () => {
    const { page, context } = await p.newPage();
    await p.loginAs(page, 'financier');
    await page.getByTestId('financier-portal').waitFor();
    await page.getByTestId('language-select').selectOption('zh-CN');
    await page.getByRole('heading', { name: '金融门户' }).waitFor();
    assert.equal(await page.getByTestId('logout').textContent(), '退出登录');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    // Work-order statuses are labelled, not shown as keys: the demo work order is accepted (on the ledger).
    const wo = await p.api('GET', `/api/work-orders/${demoWorkOrderId}`, { token: await p.token('financier') });
    assert.equal(wo.body.status, 'committed');
    const woRow = page.locator(`[data-testid="work-order-row"][data-work-order-id="${demoWorkOrderId}"]`);
    assert.equal(await woRow.getByTestId('work-order-status').textContent(), '已接单');
    await woRow.click();
    await page.getByTestId('verify-button').click();
    await page.getByTestId('verify-result').waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('verify-verdict').textContent(), '已验证');
    await p.shot(page, '6-financier-zh');
    await context.close();

    const zh = await p.newPage({ locale: 'zh-CN' });
    await zh.page.getByRole('heading', { name: '登录' }).waitFor();
    await p.shot(zh.page, '7-login-zh');
    await zh.context.close();
  });

  test('the header shows the ledger and logout returns to the login page', async () => {
    const { page, context } = await p.newPage();
    await p.loginAs(page, 'platform');
    await page.getByTestId('platform-portal').waitFor();
    await page.getByTestId('ledger-toggle').click();
    const panel = page.getByTestId('ledger-panel');
    await panel
      .getByRole('cell', { name: /^#\d+$/ })
      .first()
      .waitFor();
    await p.shot(page, '8-platform-ledger');
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('c2m.token')), null);
    await context.close();
  });
});
