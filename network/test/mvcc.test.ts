import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '@c2m/shared';
import { CommitError, devicesContract } from '../src/index.js';
import { certification, TEST_DEVICE_PUBLIC_KEY } from './helpers/devices.js';
import { startNetwork, type TestNetwork } from './helpers/network.js';

const device = (deviceId: string) => ({
  deviceId,
  model: 'm',
  serial: 's',
  line: 'l',
  certificateFingerprint: 'ef'.repeat(32),
  publicKeyPem: TEST_DEVICE_PUBLIC_KEY,
});

describe('MVCC', () => {
  let net: TestNetwork;
  before(async () => {
    // A long timeout puts both transactions into one block, the case Fabric checks against earlier txs in the block.
    net = await startNetwork({ blockTimeoutMs: 30, cutWhenIdle: false });
    await devicesContract(net.ledger, net.factory1).registerDevice(device('dev-m'));
    await devicesContract(net.ledger, net.certifier).certifyDevice(
      'dev-m',
      certification('dev-m', new Date(Date.now() + 1e8)),
    );
  });
  after(async () => net.cleanup());

  it('commits one of two concurrent read-modify-writes and marks the other MVCC_READ_CONFLICT', async () => {
    const [a, b] = await Promise.allSettled([
      net.ledger.submit(net.certifier, 'Devices:SuspendDevice', { arguments: ['dev-m', 'a'] }),
      net.ledger.submit(net.certifier, 'Devices:RevokeDevice', { arguments: ['dev-m', 'b'] }),
    ]);
    const outcomes = [a, b].map((r) => r.status);
    assert.deepEqual(outcomes.sort(), ['fulfilled', 'rejected']);
    const rejected = (a.status === 'rejected' ? a : b) as PromiseRejectedResult;
    const fulfilled = (a.status === 'fulfilled' ? a : b) as PromiseFulfilledResult<{ blockNumber: number }>;
    assert.ok(rejected.reason instanceof CommitError);
    assert.equal(rejected.reason.validationCode, 'MVCC_READ_CONFLICT');
    assert.equal(rejected.reason.code, ErrorCodes.MVCC_READ_CONFLICT);
    assert.equal(rejected.reason.blockNumber, fulfilled.value.blockNumber, 'both were ordered into the same block');
    const info = await net.ledger.transaction(rejected.reason.txId);
    assert.equal(info?.validationCode, 'MVCC_READ_CONFLICT');
    const block = await net.ledger.block(fulfilled.value.blockNumber);
    assert.deepEqual(block.transactions.map((t) => t.validationCode).sort(), ['MVCC_READ_CONFLICT', 'VALID']);
    // Only the valid transaction's write is visible.
    const current = await devicesContract(net.ledger, net.certifier).readDevice('dev-m');
    assert.equal(current.revision, 3);
  });

  it('facades retry an MVCC conflict as a new transaction', async () => {
    const certifier = devicesContract(net.ledger, net.certifier);
    await devicesContract(net.ledger, net.factory1).registerDevice(device('dev-r'));
    const until = new Date(Date.now() + 1e8);
    const results = await Promise.all([
      certifier.certifyDevice('dev-r', certification('dev-r', until)),
      certifier.certifyDevice('dev-r', certification('dev-r', until)),
    ]);
    assert.notEqual(results[0].txId, results[1].txId);
    assert.equal((await certifier.readDevice('dev-r')).revision, 3);
  });
});
