// The financier's month of a factory's anchored batches, in headless Chromium against the demo platform:
// the section reads GET /api/factories/:mspId/anchors (from the ledger) page by page, and what it shows
// (batches, events, the per-day chart, the table) must be what that route answers.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertChartDrawn, skipWithoutChromium, startDemoPlatform } from './support.mjs';

describe('financier: a factory’s anchored batches by month', { skip: skipWithoutChromium, timeout: 300_000 }, () => {
  let p;
  let financier;
  let factoryMspId = '';

  /** Every page of the route, 50 at a time (the portal asks for 200), as the financier. */
  async function apiAnchors(mspId, from, to) {
    const items = [];
    let bookmark = '';
    do {
      const q = new URLSearchParams({ from, to, pageSize: '50', ...(bookmark ? { bookmark } : {}) });
      const r = await p.api('GET', `/api/factories/${encodeURIComponent(mspId)}/anchors?${q}`, { token: financier });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      items.push(...r.body.items);
      bookmark = r.body.bookmark;
    } while (bookmark);
    return items;
  }

  const monthValue = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
  const totals = (items) => ({ batches: items.length, events: items.reduce((n, a) => n + a.eventCount, 0) });

  /** The current month in this machine's zone (Chromium's too), as the portal computes it. */
  function thisMonth() {
    const now = new Date();
    return {
      from: new Date(now.getFullYear(), now.getMonth(), 1).toISOString(),
      to: new Date(now.getFullYear(), now.getMonth() + 1, 1).toISOString(),
    };
  }

  before(async () => {
    p = await startDemoPlatform({ name: 'anchors' });
    financier = await p.token('financier');
    // The demo's devices report for one factory; wait until the ledger lists its anchored batches for this month.
    const orgs = await p.api('GET', '/api/orgs', { token: financier });
    const factories = orgs.body.items.filter((o) => o.kind === 'factory').map((o) => o.mspId);
    assert.ok(factories.length >= 2, `factories: ${factories}`);
    factoryMspId = await p.waitFor(
      'a factory with anchored batches this month',
      async () => {
        const { from, to } = thisMonth();
        for (const f of factories) if ((await apiAnchors(f, from, to)).length > 0) return f;
        return undefined;
      },
      150_000,
    );
  });
  after(async () => {
    await p?.stop();
  });

  test('the section shows the month’s batches and events as the ledger lists them, a drawn chart and the table', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'financier');
    const section = page.getByTestId('factory-anchors');
    await section.scrollIntoViewIfNeeded();
    await page.getByTestId('anchors-factory').selectOption(factoryMspId);
    const body = page.locator(
      `[data-testid="factory-anchors-body"][data-factory="${factoryMspId}"][data-state="ready"]`,
    );
    await body.waitFor();
    // The default is this month, and that is the window the page asked the ledger for.
    const { from, to } = thisMonth();
    assert.equal(await page.getByTestId('anchors-month').inputValue(), monthValue(new Date()));
    assert.equal(await body.getAttribute('data-from'), from);
    assert.equal(await body.getAttribute('data-to'), to);

    // The demo keeps one device reporting, so batches keep coming: compare when the ledger held still around
    // a refresh, and in any case the page may only show what lies between the answers before and after it.
    let matched = false;
    for (let attempt = 0; attempt < 10 && !matched; attempt++) {
      const fetchedAt = await body.getAttribute('data-fetched-at');
      const beforeItems = await apiAnchors(factoryMspId, from, to);
      await page.getByTestId('anchors-refresh').click();
      await page
        .locator(`[data-testid="factory-anchors-body"][data-state="ready"]:not([data-fetched-at="${fetchedAt}"])`)
        .waitFor();
      const shown = {
        batches: Number(await page.getByTestId('anchors-batches').getAttribute('data-value')),
        events: Number(await page.getByTestId('anchors-events').getAttribute('data-value')),
      };
      const afterItems = await apiAnchors(factoryMspId, from, to);
      const [b, a] = [totals(beforeItems), totals(afterItems)];
      assert.ok(
        b.batches <= shown.batches && shown.batches <= a.batches,
        `batches ${shown.batches} not in [${b.batches}, ${a.batches}]`,
      );
      assert.ok(
        b.events <= shown.events && shown.events <= a.events,
        `events ${shown.events} not in [${b.events}, ${a.events}]`,
      );
      if (b.batches !== a.batches) continue;
      matched = true;
      assert.deepEqual(shown, b);
      assert.ok(b.batches > 0 && b.events > 0);
      // The table: newest first, one row per batch (up to the first 100), the tx id shortened with the full one kept.
      const rows = page.getByTestId('anchors-month-row');
      assert.equal(await rows.count(), Math.min(b.batches, 100));
      const newest = beforeItems.at(-1);
      assert.equal(await rows.first().getAttribute('data-batch-id'), newest.batchId);
      const tx = rows.first().locator('td').last().locator('code');
      assert.equal(await tx.getAttribute('title'), newest.txId);
      assert.ok(((await tx.textContent()) ?? '').length < newest.txId.length, 'tx id shortened');
      assert.notEqual((await page.getByTestId('anchors-first-event').textContent())?.trim(), '–');
    }
    assert.ok(matched, 'the ledger never held still for a refresh');

    await assertChartDrawn(page, 'anchors-chart');
    console.log(`screenshot: ${await p.shot(page, 'financier-anchors')}`);

    // A month without anchors says so.
    await page.getByTestId('anchors-month').fill('2020-01');
    await page.getByTestId('anchors-empty').waitFor();
    assert.match((await page.getByTestId('anchors-empty').textContent()) ?? '', /No anchored batches/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('in Chinese the section speaks Chinese', async () => {
    const { page, context, errors } = await p.newPage({ locale: 'zh-CN' });
    await p.loginAs(page, 'financier');
    await page.getByTestId('anchors-factory').selectOption(factoryMspId);
    await page.locator('[data-testid="factory-anchors-body"][data-state="ready"]').waitFor();
    const text = (await page.getByTestId('factory-anchors').textContent()) ?? '';
    for (const s of ['已锚定批次', '批次数', '事件数', '每日事件数', '上链时间']) assert.ok(text.includes(s), s);
    await assertChartDrawn(page, 'anchors-chart');
    console.log(`screenshot: ${await p.shot(page, 'financier-anchors-zh')}`);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
