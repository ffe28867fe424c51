import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { devicesContract } from '../src/index.js';
import { TEST_DEVICE_PUBLIC_KEY } from './helpers/devices.js';
import { startNetwork } from './helpers/network.js';

const device = (deviceId: string) => ({
  deviceId,
  model: 'm',
  serial: 's',
  line: 'l',
  certificateFingerprint: 'cd'.repeat(32),
  publicKeyPem: TEST_DEVICE_PUBLIC_KEY,
});

describe('block cutting', () => {
  it('group commit: a lone transaction does not wait for the block timeout', { timeout: 20_000 }, async () => {
    // A timeout far past the test's own: the commit can only come from cutting while the committer is idle.
    const net = await startNetwork({ blockTimeoutMs: 600_000 });
    try {
      const devices = devicesContract(net.ledger, net.factory1);
      const one = await devices.registerDevice(device('gc-1'));
      const two = await devices.registerDevice(device('gc-2'));
      assert.equal(two.blockNumber, one.blockNumber + 1);
      // Sent together, with the committer busy on the first block: the rest share what comes after it.
      const many = await Promise.all(Array.from({ length: 12 }, (_, i) => devices.registerDevice(device(`gc-m${i}`))));
      const blocks = new Set(many.map((c) => c.blockNumber));
      assert.ok(blocks.size < many.length, `12 transactions in ${blocks.size} blocks`);
    } finally {
      await net.cleanup();
    }
  });

  it('without group commit, a partial block waits for its timeout (Fabric’s orderer rule)', async () => {
    const net = await startNetwork({ blockTimeoutMs: 200, cutWhenIdle: false });
    try {
      const before = await net.ledger.height();
      const started = performance.now();
      const pending = devicesContract(net.ledger, net.factory1).registerDevice(device('nc-1'));
      const done = await pending;
      assert.ok(performance.now() - started >= 190, 'committed before the block timeout');
      assert.equal(done.blockNumber, before);
    } finally {
      await net.cleanup();
    }
  });
});
