// The platform's Content-Security-Policy in a real browser: the portals load and run under it (the other
// portal tests, which fail on any CSP report), and it does block what it is there to block: an injected inline
// script and an inline event handler, the two usual ways an XSS runs. This also proves that support.mjs sees
// Chromium's CSP reports, so those tests' "no errors" means "no violations".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipWithoutChromium, startDemoPlatform } from './support.mjs';

describe('content security policy in Chromium', { skip: skipWithoutChromium, timeout: 300_000 }, () => {
  let p;
  before(async () => {
    p = await startDemoPlatform({ name: 'csp' });
  });
  after(async () => p?.stop());

  test('injected inline script and event handlers do not run, and are reported', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'brand');
    assert.deepEqual(errors, [], 'the portal itself runs without a violation');
    await page.evaluate(() => {
      window.__pwned = 0;
      const s = document.createElement('script');
      s.textContent = 'window.__pwned = 1';
      document.body.appendChild(s);
      const d = document.createElement('div');
      d.innerHTML = '<img src="data:," onload="window.__pwned = 2" onerror="window.__pwned = 2">';
      document.body.appendChild(d);
    });
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => window.__pwned), 0);
    assert.ok(
      errors.some((e) => e.startsWith('CSP:') && /script-src/.test(e)),
      JSON.stringify(errors),
    );
    await context.close();
  });
});
