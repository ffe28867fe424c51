// The public consumer page a QR scan lands on, in headless Chromium against the demo platform (phone-sized):
// the resolver sends a browser from /01/{gtin}/21/{serial} to /consumer/..., the page shows the product, brand,
// factory, devices and checks; after the brand opens a recall of the lot, the banner shows it, read from the
// ledger record. Screenshots: docs/screenshots/consumer-*.png when SCREENSHOT_DIR points there.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seedDemoChain } from './epcis-fixture.mjs';
import { skipWithoutChromium, startDemoPlatform } from './support.mjs';

describe('consumer page: public product page and recall banner', {
  skip: skipWithoutChromium,
  timeout: 300_000,
}, () => {
  let p;
  let brand;
  let lot;
  before(async () => {
    p = await startDemoPlatform({ name: 'consumer' });
    brand = await p.token('brand');
    ({ lot } = await seedDemoChain(p, brand));
  });
  after(async () => {
    await p?.stop();
  });

  test('a browser scanning the QR code gets the product page; a recall on the ledger shows as a banner', async () => {
    const { page, context, errors } = await p.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    // The resolver redirects a browser to the consumer page.
    await page.goto(`${p.base()}/01/${lot.gtin}/21/${lot.serialFrom}`);
    assert.match(page.url(), new RegExp(`/consumer/01/${lot.gtin}/21/${lot.serialFrom}$`));
    await page.locator('[data-testid="consumer-page"][data-state="ready"]').waitFor();
    assert.equal(await page.getByTestId('consumer-brand').textContent(), 'Lanyue Apparel');
    assert.equal(await page.getByTestId('recall-banner').count(), 0);
    await page.getByTestId('consumer-devices').waitFor();
    await p.shot(page, 'consumer-page');

    const opened = await p.api('POST', '/api/recalls', {
      token: brand,
      body: { lot: lot.uri, reason: 'Dye batch failed the azo colourant test' },
    });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    await page.reload();
    await page.getByTestId('recall-banner').waitFor();
    assert.match(await page.getByTestId('recall-banner').textContent(), /azo colourant/);
    await p.shot(page, 'consumer-recall');
    // In Chinese too.
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByText('此产品正在召回').waitFor();
    await p.shot(page, 'consumer-recall-zh');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
