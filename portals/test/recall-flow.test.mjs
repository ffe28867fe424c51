// The brand's trace and recall flow in headless Chromium against the demo platform: trace a serial backward
// (the ECharts graph drawn, a node's events with their proof links), open a recall of its lot, see the scope
// the ledger recorded, and move it on. Screenshots: docs/screenshots/brand-*.png when SCREENSHOT_DIR points there.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seedDemoChain } from './epcis-fixture.mjs';
import { assertChartDrawn, skipWithoutChromium, startDemoPlatform } from './support.mjs';

describe('brand: trace graph and recall flow', { skip: skipWithoutChromium, timeout: 300_000 }, () => {
  let p;
  let chain;
  before(async () => {
    p = await startDemoPlatform({ name: 'recall' });
    chain = await seedDemoChain(p, await p.token('brand'));
  });
  after(async () => {
    await p?.stop();
  });

  test('the brand traces a serial, opens a recall of its lot and moves it on the ledger', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'brand');
    await page.getByTestId('nav-trace').click();
    await page.getByTestId('trace-page').waitFor();
    await page.getByTestId('trace-epc').fill(chain.serials[0].replace('https://id.gs1.org', ''));
    await page.getByTestId('trace-run').click();
    await page.getByTestId('trace-count').waitFor();
    assert.ok(Number(await page.getByTestId('trace-count').getAttribute('data-value')) >= 5);
    await assertChartDrawn(page, 'trace-graph-chart');
    await page.getByTestId('trace-node').selectOption(chain.serials[0]);
    const proofLink = page.locator('[data-testid="trace-node-events"] a').first();
    assert.match(await proofLink.getAttribute('href'), /^\/api\/epcis\/events\/.+\/proof$/);
    await p.shot(page, 'brand-trace-graph');

    await page.getByTestId('recall-kind').selectOption('lot');
    await page.getByTestId('recall-start').fill(chain.lot.uri);
    await page.getByTestId('recall-reason').fill('Dye batch failed the azo colourant test');
    await page.getByTestId('recall-open').click();
    const row = page.locator('[data-testid^="recall-RCL-"]').first();
    await row.waitFor();
    const id = (await row.getAttribute('data-testid')).replace('recall-', '');
    assert.equal(await page.getByTestId(`recall-status-${id}`).textContent(), 'OPEN');
    await page.getByTestId(`recall-advance-${id}`).click();
    await page.locator(`[data-testid="recall-status-${id}"]:text("NOTIFIED")`).waitFor();
    // The status the page shows is the ledger's.
    const detail = await p.api('GET', `/api/recalls/${id}`, { token: await p.token('financier') });
    assert.equal(detail.body.onLedger.status, 'NOTIFIED');
    assert.deepEqual(detail.body.recall.workOrders, [chain.wo.id]);
    await p.shot(page, 'brand-recall');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the factory prints QR labels of its work order: each a QR code of the serial on the resolver', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, chain.wo.factoryMspId === 'Factory2Org' ? 'factory2' : 'factory1');
    await page.getByTestId('nav-labels').click();
    await page.getByTestId('labels-work-order').selectOption(chain.wo.id);
    const first = page.locator('[data-testid="labels-sheet"] img').first();
    await first.waitFor();
    // Every label drawn (each QR code is its own request).
    await page.waitForFunction(
      () => {
        const imgs = [...document.querySelectorAll('[data-testid="labels-sheet"] img')];
        return imgs.length > 0 && imgs.every((img) => img.complete && img.naturalWidth > 0);
      },
      undefined,
      { timeout: 60_000 },
    );
    assert.match(
      await first.getAttribute('src'),
      new RegExp(`^/api/qr/01/${chain.lot.gtin}/21/${chain.lot.serialFrom}\\.svg`),
    );
    await p.shot(page, 'factory-labels');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
