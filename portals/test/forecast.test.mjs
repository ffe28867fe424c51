// The brand's forecast page in headless Chromium against the demo platform: the
// demo's first forecast run, its chart with bands, model and scores, a product's
// reconciled forecast, and a draft order made from it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipWithoutChromium, startDemoPlatform } from './support.mjs';

describe('brand forecast page', { skip: skipWithoutChromium, timeout: 300_000 }, () => {
  let p;
  let brand;

  before(async () => {
    p = await startDemoPlatform({ name: 'forecast' });
    brand = await p.token('brand');
    // The demo uploads two years of signals and starts a first run once its orders and devices are loaded.
    await p.waitFor(
      'the demo forecast run',
      async () => {
        const runs = await p.api('GET', '/api/demand/forecasts', { token: brand });
        const run = runs.body?.items?.[0];
        if (run?.status === 'failed') throw new Error(run.error);
        return run?.status === 'done' ? run : undefined;
      },
      240_000,
    );
  });
  after(async () => {
    await p?.stop();
  });

  test('the brand sees the latest run, a SKU chart with intervals, its model and backtest scores', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'brand');
    await page.getByTestId('nav-forecast').click();
    await page.locator('[data-testid="forecast-run-status"][data-status="done"]').waitFor();
    await page.getByTestId('forecast-chart').locator('canvas').first().waitFor();
    const model = await page.getByTestId('forecast-model').textContent();
    assert.match(model ?? '', /prophet|mstl_ets|seasonal_naive|croston|tsb|combination|ets|theta|arima/);
    assert.match((await page.getByTestId('forecast-scores').textContent()) ?? '', /MASE/);
    assert.match((await page.getByTestId('forecast-overall').textContent()) ?? '', /MASE \d/);

    await page.getByTestId('series-product-MCS').click();
    await page.locator('[data-testid="forecast-model"][data-level="product"][data-key="MCS"]').waitFor();
    assert.match((await page.getByTestId('forecast-model').textContent()) ?? '', /bottom_up/);
    await p.shot(page, 'brand-forecast');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a product forecast becomes a draft order that is not dispatched', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'brand');
    await page.goto(`${p.base()}/#/brand/forecast`);
    await page.getByTestId('draft-product').selectOption('MCS');
    await page.getByTestId('draft-submit').click();
    const result = page.getByTestId('draft-result');
    await result.waitFor();
    assert.equal(await result.getAttribute('data-status'), 'draft');
    const orderId = await result.getAttribute('data-order-id');
    const order = await p.api('GET', `/api/orders/${orderId}`, { token: brand });
    assert.equal(order.status, 200);
    assert.equal(order.body.status, 'draft');
    assert.deepEqual(
      order.body.lines.map((l) => l.sku),
      ['MCS-GRY-L', 'MCS-GRY-M', 'MCS-NVY-L', 'MCS-NVY-M'],
    );
    assert.equal(order.body.offers.length, 0);

    // The brand's order list labels it as a draft, in English and in Chinese (not the raw status key).
    await result.getByRole('link', { name: 'Orders' }).click();
    const badge = page.locator(`[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-status"]`);
    assert.equal((await badge.textContent())?.trim(), 'Draft');
    const zh = await p.newPage({ locale: 'zh-CN' });
    await p.loginAs(zh.page, 'brand');
    const zhBadge = zh.page.locator(
      `[data-testid="order-row"][data-order-id="${orderId}"] [data-testid="order-status"]`,
    );
    assert.equal((await zhBadge.textContent())?.trim(), '草稿');
    assert.deepEqual(errors, []);
    assert.deepEqual(zh.errors, []);
    await zh.context.close();
    await context.close();
  });

  test('a monthly run: the brand picks the frequency and the horizon in months, sees the models compared, drafts by month', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'brand');
    await page.goto(`${p.base()}/#/brand/forecast`);
    await page.locator('[data-testid="forecast-run-status"][data-status="done"]').waitFor();
    await page.getByTestId('forecast-frequency').selectOption('month');
    assert.equal(await page.getByTestId('forecast-horizon').inputValue(), '12', 'the default horizon follows');
    await page.getByTestId('forecast-horizon').fill('6');
    await page.getByTestId('forecast-start').click();
    await page
      .locator('[data-testid="forecast-run-status"][data-status="done"][data-frequency="month"]')
      .waitFor({ timeout: 180_000 });
    const runs = await p.api('GET', '/api/demand/forecasts', { token: brand });
    const run = runs.body.items[0];
    assert.deepEqual([run.frequency, run.horizon], ['month', 6]);
    await page.getByTestId('forecast-selection').waitFor();
    // The demo's two years of days hold 23 whole months: short of two yearly seasons, so the season is the
    // one augurs detects in the data (or none); the note says which.
    assert.match(
      (await page.getByTestId('forecast-selection').textContent()) ?? '',
      /Chosen by (a backtest|information)/,
    );
    const candidates = await page.getByTestId('forecast-candidates').locator('tr').allTextContents();
    assert.ok(candidates.length >= 5, `models compared: ${candidates.join(' | ')}`);
    assert.ok(
      candidates.some((c) => c.startsWith('seasonal_naive')),
      'the baseline is shown',
    );

    await page.getByTestId('draft-product').selectOption('MCS');
    await page.getByTestId('draft-periods').fill('2');
    await page.getByTestId('draft-submit').click();
    const result = page.getByTestId('draft-result');
    await result.waitFor();
    const order = await p.api('GET', `/api/orders/${await result.getAttribute('data-order-id')}`, { token: brand });
    assert.equal(order.body.status, 'draft');
    // Two months, each due in the ISO week its 1st falls in.
    const weeks = new Set(order.body.spec.schedule.map((s) => s.week));
    assert.equal(weeks.size, 2);
    assert.match(order.body.spec.notes, /2 months/);
    await p.shot(page, 'brand-forecast-monthly');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the page is in Chinese for a Chinese browser', async () => {
    const { page, context, errors } = await p.newPage({ locale: 'zh-CN' });
    await p.loginAs(page, 'brand');
    await page.goto(`${p.base()}/#/brand/forecast`);
    await page.getByRole('heading', { name: '需求预测' }).waitFor();
    await page.getByTestId('forecast-chart').locator('canvas').first().waitFor();
    await p.shot(page, 'brand-forecast-zh');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
