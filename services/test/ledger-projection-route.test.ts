import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { devicesContract } from '@c2m/network';
import request from 'supertest';
import { demoTokens, startTestPlatform, type TestPlatform, waitFor } from './helpers.js';

describe('ledger projection in the platform', () => {
  let t: TestPlatform;
  let token: string;
  before(async () => {
    t = await startTestPlatform();
    ({ factory1: token } = (await demoTokens(t, ['factory1'])) as { factory1: string });
  });
  after(async () => {
    await t?.close();
  });

  test('runs with the platform, projects a device the ledger committed, and reports its checkpoint', async () => {
    await request(t.app.server).get('/api/ledger/projection').expect(401);
    const committed = await devicesContract(
      t.platform.ledger,
      t.platform.identity.userIdentity('factory1'),
    ).registerDevice({
      deviceId: `dev-${randomBytes(3).toString('hex')}`,
      model: 'KM-1',
      serial: 'S1',
      line: 'line-1',
      certificateFingerprint: randomBytes(32).toString('hex'),
      publicKeyPem: generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    });
    const status = await waitFor('the projection at the device registration', async () => {
      const res = await request(t.app.server)
        .get('/api/ledger/projection')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      return res.body.checkpoint?.txId === committed.txId ? res.body : undefined;
    });
    assert.equal(status.running, true);
    assert.equal(status.checkpoint.blockNumber, committed.blockNumber);
    assert.equal(status.lastError, null);
    assert.ok(status.ledgerHeight > committed.blockNumber);
    const { rows } = await t.platform.pool.query('SELECT status, tx_id FROM ledger_devices WHERE device_id = $1', [
      committed.record.deviceId,
    ]);
    assert.deepEqual(rows, [{ status: 'REGISTERED', tx_id: committed.txId }]);
  });
});
