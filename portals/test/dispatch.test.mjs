// Factory profile and allocation explanations in headless Chromium against the demo platform:
// the factory sees its capacity calendar, certified lines and computed quality; the brand sees
// why the demo order's offer went to its factory.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipWithoutChromium, startDemoPlatform } from './support.mjs';

describe('factory profile and allocation pages', { skip: skipWithoutChromium, timeout: 300_000 }, () => {
  let p;
  let brand;

  before(async () => {
    p = await startDemoPlatform({ name: 'dispatch' });
    brand = await p.token('brand');
    await p.waitFor(
      'the demo order offered',
      async () => {
        const orders = await p.api('GET', '/api/orders', { token: brand });
        const id = orders.body?.items?.at(-1)?.id;
        if (!id) return undefined;
        const order = await p.api('GET', `/api/orders/${id}`, { token: brand });
        return order.body?.offers?.length > 0 ? order.body : undefined;
      },
      120_000,
    );
  });
  after(async () => {
    await p?.stop();
  });

  test('a factory sees its profile: capacity by week, lines and a quality score it cannot type in', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'factory1');
    await page.getByTestId('nav-profile').click();
    await page.getByTestId('factory-profile').waitFor();
    assert.match((await page.getByTestId('factory-profile').textContent()) ?? '', /Ningbo Sock Factory No\. 1/);
    assert.equal(await page.getByTestId('capacity-calendar').locator('tbody tr').count(), 8);
    assert.match((await page.getByTestId('quality-score').textContent()) ?? '', /0\.\d/);
    await p.shot(page, 'factory-profile');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the brand sees why each offer went to its factory', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'brand');
    await page.getByTestId('nav-allocations').click();
    const explanation = page.getByTestId('allocation-explanation').first();
    await explanation.waitFor();
    const text = (await explanation.textContent()) ?? '';
    assert.match(text, /eligible|next best/);
    assert.match(text, /certificate/);
    // Each offer's status is labelled, not shown as its key (e.g. Accepted, not accepted).
    const statuses = await page.getByTestId('allocation-offer').getByTestId('offer-status').allTextContents();
    assert.ok(statuses.length > 0);
    for (const s of statuses) assert.match(s, /^(Open|Accepted|Declined|Expired|Withdrawn)$/);
    await p.shot(page, 'brand-allocations');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
