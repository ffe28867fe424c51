// Access tokens live minutes (ACCESS_TOKEN_TTL); the portal renews them with the refresh token instead of
// dropping the user. Here they live 6 seconds: a signed-in page keeps working well past that, the refresh token
// is rotated, and logging out ends the session on the server, not only in the tab.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipWithoutChromium, startDemoPlatform } from './support.mjs';

describe('portal session renewal', { skip: skipWithoutChromium, timeout: 300_000 }, () => {
  let p;
  before(async () => {
    // The platform is spawned with this process's environment.
    process.env.ACCESS_TOKEN_TTL = '6';
    p = await startDemoPlatform({ name: 'refresh' });
    delete process.env.ACCESS_TOKEN_TTL;
  });
  after(async () => p?.stop());

  test('the portal outlives its access token, and logout revokes the session', async () => {
    const { page, context, errors } = await p.newPage();
    await p.loginAs(page, 'brand');
    const stored = () =>
      page.evaluate(() => ({
        token: sessionStorage.getItem('c2m.token'),
        refresh: sessionStorage.getItem('c2m.refresh'),
      }));
    const first = await stored();
    assert.ok(first.token && first.refresh);
    await page.waitForTimeout(7000);
    assert.equal((await p.api('GET', '/api/me', { token: first.token })).status, 401, 'the first token has expired');
    // The page's calls after expiry (a reload, then its polls) renew the token instead of logging out.
    await page.reload();
    await page.getByTestId('current-user').waitFor();
    await page.waitForFunction((old) => sessionStorage.getItem('c2m.token') !== old, first.token, { timeout: 20_000 });
    const second = await stored();
    assert.notEqual(second.refresh, first.refresh, 'the refresh token was rotated');
    assert.equal((await p.api('GET', '/api/me', { token: second.token })).status, 200);
    // The renewed token has seconds left: a 401 within them comes from the revoked session, not from exp.
    await page.getByTestId('logout').click();
    await page.waitForFunction(() => sessionStorage.getItem('c2m.token') === null);
    await p.waitFor(
      'the session to end on the server',
      async () => ((await p.api('GET', '/api/me', { token: second.token })).status === 401 ? true : undefined),
      2_500,
    );
    assert.deepEqual(errors, []);
    await context.close();
  });
});
