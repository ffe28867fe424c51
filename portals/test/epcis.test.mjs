// Traceability in headless Chromium against the demo platform: the brand's EPCIS events (commissioning of the
// demo work order's serials, its QC inspections, packing and shipping), each verified in the browser from its
// proof bundle; a tampered bundle is not verified; the page in Chinese.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipWithoutChromium, startDemoPlatform } from './support.mjs';

describe('traceability: EPCIS events verified in the browser', { skip: skipWithoutChromium, timeout: 300_000 }, () => {
  let p;
  before(async () => {
    p = await startDemoPlatform({ name: 'epcis' });
    const brand = await p.token('brand');
    // Device messages become commissioning events when their batch is cut; wait for one to be anchored.
    await p.waitFor(
      'an anchored commissioning event',
      async () => {
        const r = await p.api('GET', '/api/epcis/events?EQ_bizStep=commissioning&perPage=1', { token: brand });
        const e = r.body?.epcisBody?.queryResults?.resultsBody?.eventList?.[0];
        if (!e) return undefined;
        const proof = await p.api('GET', `/api/epcis/events/${encodeURIComponent(e.eventID)}/proof`, { token: brand });
        return proof.status === 200 ? e : undefined;
      },
      180_000,
    );
  });
  after(async () => {
    await p?.stop();
  });

  async function openEvents(page, user) {
    await p.loginAs(page, user);
    await page.goto(`${p.base()}/#/${user}/events`);
    await page.getByTestId('epcis-events-table').waitFor({ timeout: 60_000 });
  }

  async function verifyFirst(page, bizStep) {
    const row = page.locator('[data-testid="epcis-event-row"]', { hasText: bizStep }).first();
    await row.getByTestId('epcis-verify').click();
    const result = page.getByTestId('epcis-verify-result').first();
    await result.waitFor({ timeout: 60_000 });
    return result;
  }

  test('the brand sees its products’ events and verifies a commissioning event in the browser', async () => {
    const { page, context, errors } = await p.newPage();
    await openEvents(page, 'brand');
    await page.getByTestId('gs1-identity').waitFor();
    assert.match((await page.getByTestId('gs1-products').textContent()) ?? '', /MCS-GRY-M/);
    const result = await verifyFirst(page, 'commissioning');
    assert.equal(
      await result.getAttribute('data-verified'),
      'true',
      `not verified:\n${await page.getByTestId('epcis-browser-checks').first().textContent()}`,
    );
    const json = (await page.getByTestId('epcis-event-json').first().textContent()) ?? '';
    assert.match(json, /https:\/\/id\.gs1\.org\/01\/\d{14}\/21\/\d+/, 'the event commissions SGTINs');
    await p.shot(page, 'epcis-1-brand-verified');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a tampered EPCIS event is not verified in the browser', async () => {
    const { page, context } = await p.newPage();
    await page.route('**/api/epcis/events/*/proof', async (route) => {
      const res = await route.fetch();
      const bundle = await res.json();
      const list = bundle.epcisEvents ?? [];
      assert.ok(list.length > 0, 'the bundle carries the EPCIS event');
      // Move the event an hour earlier, as someone rewriting history might.
      list[0].message = list[0].message.replace(/"eventTime":"(\d{4})-/, (_, y) => `"eventTime":"${Number(y) - 1}-`);
      await route.fulfill({ response: res, json: bundle });
    });
    await openEvents(page, 'brand');
    const result = await verifyFirst(page, 'commissioning');
    assert.equal(await result.getAttribute('data-verified'), 'false');
    await p.shot(page, 'epcis-2-tampered');
    await context.close();
  });

  test('the factory’s traceability page in Chinese', async () => {
    const { page, context } = await p.newPage({ locale: 'zh-CN' });
    const orgs = await p.api('GET', '/api/epcis/events?perPage=1', { token: await p.token('factory1') });
    const user = orgs.body?.epcisBody?.queryResults?.resultsBody?.eventList?.length ? 'factory1' : 'factory2';
    await p.loginAs(page, user);
    await page.goto(`${p.base()}/#/factory/events`);
    await page.getByTestId('epcis-events-table').waitFor({ timeout: 60_000 });
    assert.match((await page.locator('h1, h2').first().textContent()) ?? '', /追溯/);
    const result = await verifyFirst(page, '');
    assert.equal(await page.getByTestId('epcis-verify-verdict').first().textContent(), '已验证');
    assert.equal(await result.getAttribute('data-verified'), 'true');
    await p.shot(page, 'epcis-3-factory-zh');
    await context.close();
  });

  test('the factory’s production desk shows the demo work order’s lots and records only what is proven', async () => {
    const { page, context, errors } = await p.newPage();
    const token1 = await p.token('factory1');
    const wo1 = await p.api('GET', '/api/work-orders', { token: token1 });
    const user = wo1.body.items?.length ? 'factory1' : 'factory2';
    await p.loginAs(page, user);
    await page.getByTestId('production-card').waitFor({ timeout: 60_000 });
    const row = page.getByTestId('production-row').first();
    await row.getByTestId('work-order-lots').waitFor({ timeout: 60_000 });
    assert.match((await row.getByTestId('work-order-lots').textContent()) ?? '', /\d{14} · L\d{6}-/);
    const button = row.getByTestId('record-milestone');
    if ((await button.count()) > 0) {
      await button.click();
      const note = row.getByTestId('production-note');
      await note.waitFor({ timeout: 60_000 });
      // Either it was proven and recorded, or the platform says exactly what is missing.
      assert.match(
        (await note.textContent()) ?? '',
        /recorded on the ledger|units are proven|QC needs|needs work order/,
      );
    }
    await p.shot(page, 'epcis-4-factory-production');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a brand edits an order it posted, then cancels it', async () => {
    const brand = await p.token('brand');
    const due = new Date(Date.now() + 60 * 86400_000).toISOString().slice(0, 10);
    const posted = await p.api('POST', '/api/orders', {
      token: brand,
      body: {
        product: `Edit me ${p.id}`,
        lines: [{ sku: 'ED-1', quantity: 400 }],
        targetPriceMinor: 1100,
        currency: 'CNY',
        dueDate: due,
        shipTo: 'Hangzhou DC',
      },
    });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'brand');
    const row = page.locator(`[data-testid="order-row"][data-order-id="${posted.body.id}"]`);
    await row.waitFor({ timeout: 60_000 });
    await row.getByTestId('order-toggle').click();
    const actions = page.getByTestId('order-actions');
    await actions.waitFor();
    await actions.getByTestId('order-edit').click();
    await page.getByTestId('order-edit-form').locator('input[type=number]').fill('12.50');
    await page.getByTestId('order-save').click();
    await page.getByTestId('order-action-note').waitFor();
    const after = await p.api('GET', `/api/orders/${posted.body.id}`, { token: brand });
    assert.equal(after.body.targetPriceMinor, 1250);
    await actions.getByTestId('order-cancel').click();
    await p.waitFor(
      'the order cancelled',
      async () => (await p.api('GET', `/api/orders/${posted.body.id}`, { token: brand })).body.status === 'cancelled',
      30_000,
    );
    await p.shot(page, 'epcis-5-brand-order-cancelled');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
