import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { anchorsContract } from '@c2m/network';
import { Orgs } from '@c2m/shared';
import request from 'supertest';
import { demoTokens, startTestPlatform, type TestPlatform } from './helpers.js';

describe('GET /api/factories/:mspId/anchors (from the ledger, by time)', () => {
  let t: TestPlatform;
  const tokens: Record<string, string> = {};
  const run = randomBytes(3).toString('hex');
  before(async () => {
    t = await startTestPlatform();
    Object.assign(tokens, await demoTokens(t, ['financier']));
    // Anchored straight on the ledger by the platform admin, in no particular time order.
    const admin = anchorsContract(t.platform.ledger, t.platform.identity.userIdentity('platform'));
    for (const [n, first, last] of [
      [2, '2026-05-10T08:00:00Z', '2026-05-10T09:00:00Z'],
      [1, '2026-04-30T22:00:00Z', '2026-05-01T01:00:00Z'],
      [3, '2026-05-31T23:00:00Z', '2026-06-01T00:00:00Z'],
    ] as const) {
      await admin.anchorBatch({
        batchId: `abt-${run}-${n}`,
        factoryMspId: Orgs.factory1,
        merkleRootHex: randomBytes(32).toString('hex'),
        eventCount: 10 * n,
        firstEventTime: first,
        lastEventTime: last,
      });
    }
  });
  after(async () => {
    await t?.close();
  });

  const get = (token: string | undefined, query: string) => {
    const req = request(t.app.server).get(`/api/factories/${Orgs.factory1}/anchors?${query}`);
    return token ? req.set('Authorization', `Bearer ${token}`) : req;
  };

  test('a financier pages through May: the batches whose last event is in May, oldest first', async () => {
    const may = 'from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z';
    const first = await get(tokens.financier, `${may}&pageSize=1`).expect(200);
    const mine = (items: { batchId: string }[]) => items.filter((a) => a.batchId.startsWith(`abt-${run}`));
    assert.deepEqual(
      mine(first.body.items).map((a: { batchId: string }) => a.batchId),
      [`abt-${run}-1`],
    );
    assert.equal(first.body.items[0].anchoredBy.mspId, Orgs.platform);
    assert.match(first.body.items[0].txId, /^[0-9a-f]{64}$/);
    assert.notEqual(first.body.bookmark, '');
    const rest = await get(
      tokens.financier,
      `${may}&pageSize=50&bookmark=${encodeURIComponent(first.body.bookmark)}`,
    ).expect(200);
    assert.deepEqual(
      mine(rest.body.items).map((a: { batchId: string }) => a.batchId),
      [`abt-${run}-2`],
    );
    assert.equal(rest.body.bookmark, '');
    // June holds the batch that straddles the month boundary, and only in June.
    const june = await get(tokens.financier, 'from=2026-06-01T00:00:00Z&to=2026-07-01T00:00:00Z').expect(200);
    assert.deepEqual(
      mine(june.body.items).map((a: { batchId: string }) => a.batchId),
      [`abt-${run}-3`],
    );
  });

  test('bad windows get coded errors; unknown query fields are refused; nothing is listed without a login', async () => {
    await get(undefined, 'from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z').expect(401);
    const backwards = await get(tokens.financier, 'from=2026-06-01T00:00:00Z&to=2026-05-01T00:00:00Z').expect(400);
    assert.equal(backwards.body.code, 'VALIDATION_FAILED');
    const notATime = await get(tokens.financier, 'from=yesterday&to=2026-05-01T00:00:00Z').expect(400);
    assert.equal(notATime.body.code, 'VALIDATION_FAILED');
    await get(tokens.financier, 'from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z&extra=1').expect(400);
  });
});
