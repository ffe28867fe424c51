import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, Orgs, TxValidationCodes } from '@c2m/shared';
import {
  CommitError,
  devicesContract,
  evaluatePolicy,
  formatPolicy,
  policyFromSignaturePolicyEnvelope,
  workOrdersContract,
} from '../src/index.js';
import { certification, possessionProof, TEST_DEVICE_PUBLIC_KEY } from './helpers/devices.js';
import { startNetwork, type TestNetwork } from './helpers/network.js';

const require = createRequire(import.meta.url);
const { KeyEndorsementPolicy } = require('fabric-shim') as {
  KeyEndorsementPolicy: new () => { addOrgs(role: string, ...orgs: string[]): void; getPolicy(): Uint8Array };
};

const TERMS = { unitPriceMinor: 990, currency: 'CNY', quantities: { 'SKU-1': 100 } };

describe('key-level (state-based) endorsement', () => {
  let net: TestNetwork;
  before(async () => {
    net = await startNetwork();
    await workOrdersContract(net.ledger, net.brand).commitWorkOrder({
      workOrderId: 'wo-sbe',
      orderId: 'o-sbe',
      factoryMspId: Orgs.factory1,
      terms: TERMS,
    });
  });
  after(async () => net.cleanup());

  it('reads the policy fabric-shim’s KeyEndorsementPolicy writes', () => {
    const ep = new KeyEndorsementPolicy();
    ep.addOrgs('PEER', Orgs.brand, Orgs.factory1);
    const policy = policyFromSignaturePolicyEnvelope(ep.getPolicy());
    assert.equal(formatPolicy(policy), `OutOf(2, '${Orgs.brand}.peer', '${Orgs.factory1}.peer')`);
    const peer = (mspId: string) => ({ mspId, roles: new Set(['peer']) });
    assert.equal(evaluatePolicy(policy, [peer(Orgs.brand), peer(Orgs.factory1)]), true);
    assert.equal(evaluatePolicy(policy, [peer(Orgs.platform), peer(Orgs.factory1)]), false);
  });

  it('refuses a work-order change endorsed by the chaincode policy but not by the order’s brand and factory', async () => {
    // PlatformOrg + Factory1Org satisfies the chaincode-wide policy; the work order's own policy needs BrandOrg.
    const err = await net.ledger
      .submit(net.factory1, 'WorkOrders:AcceptWorkOrder', {
        arguments: ['wo-sbe'],
        endorsingOrganizations: [Orgs.factory1, Orgs.platform],
      })
      .then(
        () => assert.fail('the write must not commit'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof CommitError);
    assert.equal(err.validationCode, TxValidationCodes.ENDORSEMENT_POLICY_FAILURE);
    assert.equal(err.code, ErrorCodes.ENDORSEMENT_POLICY_FAILURE);
    assert.equal((await workOrdersContract(net.ledger, net.brand).readWorkOrder('wo-sbe')).status, 'COMMITTED');
  });

  it('lets the two owners change it alone, and discovery picks them without being told', async () => {
    const explicit = await net.ledger.submit(net.factory1, 'WorkOrders:AcceptWorkOrder', {
      arguments: ['wo-sbe'],
      endorsingOrganizations: [Orgs.factory1, Orgs.brand],
    });
    assert.ok(explicit.txId);
    // No endorsers named: the engine simulates on the factory's peer, sees the key's policy and adds the brand.
    const produced = await workOrdersContract(net.ledger, net.factory1).recordMilestone('wo-sbe', 'PRODUCED', {
      units: 100,
    });
    assert.equal(produced.record.status, 'PRODUCED');
  });

  it('keeps enforcing the key-level policy after a restart (rebuilt from the blocks)', async () => {
    await net.reopen();
    const err = await net.ledger
      .submit(net.factory1, 'WorkOrders:RecordMilestone', {
        arguments: ['wo-sbe', 'QC_PASSED', '{}'],
        endorsingOrganizations: [Orgs.factory1, Orgs.platform, Orgs.factory2],
      })
      .then(
        () => assert.fail('the write must not commit'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof CommitError);
    assert.equal(err.validationCode, TxValidationCodes.ENDORSEMENT_POLICY_FAILURE);
    const ok = await workOrdersContract(net.ledger, net.factory1).recordMilestone('wo-sbe', 'QC_PASSED', {});
    assert.equal(ok.record.status, 'QC_PASSED');
  });
});

describe('key-level endorsement of device records', () => {
  let net: TestNetwork;
  const certifyArgs = (deviceId: string) => {
    const { challenge, signature } = possessionProof(deviceId);
    return [deviceId, new Date(Date.now() + 86_400_000).toISOString(), 'calibrated', challenge, signature];
  };
  before(async () => {
    net = await startNetwork();
    await devicesContract(net.ledger, net.factory1).registerDevice({
      deviceId: 'dev-sbe',
      model: 'PLC-9',
      serial: 'S-SBE',
      line: 'L1',
      certificateFingerprint: 'cd'.repeat(32),
      publicKeyPem: TEST_DEVICE_PUBLIC_KEY,
    });
  });
  after(async () => net.cleanup());

  it('refuses a change endorsed by the platform and another factory, not the owner', async () => {
    // PlatformOrg + Factory2Org satisfies the chaincode-wide policy; the device belongs to Factory1Org.
    const err = await net.ledger
      .submit(net.certifier, 'Devices:CertifyDevice', {
        arguments: certifyArgs('dev-sbe'),
        endorsingOrganizations: [Orgs.platform, Orgs.factory2],
      })
      .then(
        () => assert.fail('the certification must not commit'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof CommitError);
    assert.equal(err.validationCode, TxValidationCodes.ENDORSEMENT_POLICY_FAILURE);
    assert.equal((await devicesContract(net.ledger, net.factory1).readDevice('dev-sbe')).status, 'REGISTERED');
  });

  it('names the platform and the owner in the key’s policy, and discovery endorses with them', async () => {
    const certified = await devicesContract(net.ledger, net.certifier).certifyDevice(
      'dev-sbe',
      certification('dev-sbe', new Date(Date.now() + 86_400_000), 'calibrated'),
    );
    assert.equal(certified.record.status, 'CERTIFIED');
    const suspended = await devicesContract(net.ledger, net.certifier).suspend('dev-sbe', 'drift');
    assert.equal(suspended.record.status, 'SUSPENDED');
  });
});
