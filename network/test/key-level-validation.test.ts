/**
 * Key-level validation rules with a minimal contract (no decorators: fabric-contract-api then exposes every
 * method as a transaction taking strings), so that writes can be blind and two can share a block.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { Orgs, TxValidationCodes } from '@c2m/shared';
import { type Context, Contract } from 'fabric-contract-api';
import { CommitError, EndorseError } from '../src/index.js';
import { startNetwork, type TestNetwork } from './helpers/network.js';

const require = createRequire(import.meta.url);
const { KeyEndorsementPolicy } = require('fabric-shim') as {
  KeyEndorsementPolicy: new (
    policy?: Uint8Array,
  ) => { addOrgs(role: string, ...orgs: string[]): void; getPolicy(): Uint8Array; listOrgs(): string[] };
};

class KeyPolicyContract extends Contract {
  constructor() {
    super('KeyPolicy');
  }
  async Put(ctx: Context, key: string, value: string): Promise<void> {
    await ctx.stub.putState(key, Buffer.from(value));
  }
  async SetOwners(ctx: Context, key: string, owners: string): Promise<void> {
    const ep = new KeyEndorsementPolicy();
    ep.addOrgs('PEER', ...owners.split(','));
    await ctx.stub.setStateValidationParameter(key, ep.getPolicy());
  }
  async Owners(ctx: Context, key: string): Promise<string> {
    const bytes = await ctx.stub.getStateValidationParameter(key);
    return JSON.stringify(bytes && bytes.length > 0 ? new KeyEndorsementPolicy(bytes).listOrgs().sort() : []);
  }
  async SetPrivateOwners(ctx: Context, key: string): Promise<void> {
    const ep = new KeyEndorsementPolicy();
    ep.addOrgs('PEER', Orgs.brand);
    await ctx.stub.setPrivateDataValidationParameter('brandFactoryTerms', key, ep.getPolicy());
  }
}

describe('key-level validation rules', () => {
  let net: TestNetwork;
  const put = (key: string, value: string, endorsingOrganizations?: string[]) =>
    net.ledger.submit(net.admin, 'KeyPolicy:Put', { arguments: [key, value], endorsingOrganizations });
  const owners = async (key: string) =>
    JSON.parse(Buffer.from(await net.ledger.evaluate(net.admin, 'KeyPolicy:Owners', { arguments: [key] })).toString());

  before(async () => {
    net = await startNetwork(
      // Fabric's cutting rule only (no group commit): transactions sent together must share a block.
      { contracts: [KeyPolicyContract], blockSize: 2, blockTimeoutMs: 300, cutWhenIdle: false },
      { registerOrgs: false },
    );
  });
  after(async () => net.cleanup());

  it('stores the policy with the key: getStateValidationParameter reads it back, a value write keeps it', async () => {
    await put('k1', 'v1');
    assert.deepEqual(await owners('k1'), []);
    await net.ledger.submit(net.admin, 'KeyPolicy:SetOwners', { arguments: ['k1', `${Orgs.factory1},${Orgs.brand}`] });
    assert.deepEqual(await owners('k1'), [Orgs.brand, Orgs.factory1].sort());
    // Discovery adds the owners' peers; the platform alone (or with another org) no longer suffices.
    await put('k1', 'v2');
    assert.deepEqual(await owners('k1'), [Orgs.brand, Orgs.factory1].sort());
    await assert.rejects(put('k1', 'v3', [Orgs.platform, Orgs.factory2]), (err: unknown) => {
      assert.ok(err instanceof CommitError);
      assert.equal(err.validationCode, TxValidationCodes.ENDORSEMENT_POLICY_FAILURE);
      return true;
    });
  });

  it('invalidates a blind write to a key whose policy an earlier transaction of the same block changed', async () => {
    await put('k2', 'v1');
    const policyTx = net.ledger.submit(net.admin, 'KeyPolicy:SetOwners', { arguments: ['k2', Orgs.brand] });
    // Lets the policy change reach the orderer first; the block (size 2, 300 ms) then takes the blind write too.
    await new Promise((r) => setTimeout(r, 100));
    const [setPolicy, blind] = await Promise.allSettled([policyTx, put('k2', 'blind')]);
    assert.equal(setPolicy.status, 'fulfilled');
    const policy = (setPolicy as PromiseFulfilledResult<{ txId: string; blockNumber: number; txIndex: number }>).value;
    const block = await net.ledger.block(policy.blockNumber);
    assert.equal(block.transactions.length, 2, 'both transactions share a block');
    if (policy.txIndex === 0) {
      assert.equal(blind.status, 'rejected');
      const err = (blind as PromiseRejectedResult).reason;
      assert.ok(err instanceof CommitError);
      assert.equal(err.validationCode, TxValidationCodes.ENDORSEMENT_POLICY_FAILURE);
      assert.equal(err.blockNumber, policy.blockNumber);
    } else {
      // Ordered the other way round, the write came first and was judged by the old policy.
      assert.equal(blind.status, 'fulfilled');
    }
  });

  it('refuses key-level policies on private data, which the embedded ledger does not support', async () => {
    await assert.rejects(
      net.ledger.submit(net.admin, 'KeyPolicy:SetPrivateOwners', { arguments: ['p1'] }),
      (err: unknown) => err instanceof EndorseError && /private data/.test(err.message),
    );
  });
});
