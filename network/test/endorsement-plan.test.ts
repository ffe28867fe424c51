import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, Orgs } from '@c2m/shared';
import { EndorseError, parsePolicy, termsHash, workOrdersContract } from '../src/index.js';
import { endorsementPlan, greedyOrgs } from '../src/internal/endorsement-plan.js';
import { ALL_ORGS, startNetwork, type TestNetwork } from './helpers/network.js';

const policy = parsePolicy(
  "AND('PlatformOrg.peer', OutOf(1, 'BrandOrg.peer', 'Factory1Org.peer', 'Factory2Org.peer', 'FinanceOrg.peer'))",
);
const collections = { terms: { members: [Orgs.brand, Orgs.factory1, Orgs.factory2] } };
const everyone = (m: string) => (ALL_ORGS as readonly string[]).includes(m);

describe('endorsement plan (the Fabric Gateway’s choice of endorsers)', () => {
  it('plans greedily from the first org when no transient data is involved', () => {
    assert.deepEqual(greedyOrgs(Orgs.brand, [policy], everyone), {
      satisfied: true,
      orgs: [Orgs.brand, Orgs.platform],
    });
    const plan = endorsementPlan({
      firstMspId: Orgs.brand,
      policies: [policy],
      hasPeer: everyone,
      hasTransientData: false,
      collectionsTouched: ['terms'],
      collections,
    });
    assert.deepEqual(plan, { ok: true, orgs: [Orgs.brand, Orgs.platform] });
  });

  it('refuses a plan that needs a non-member when transient data is involved, naming the collections', () => {
    const plan = endorsementPlan({
      firstMspId: Orgs.brand,
      policies: [policy],
      hasPeer: everyone,
      hasTransientData: true,
      collectionsTouched: ['terms', 'terms'],
      collections,
    });
    assert.equal(plan.ok, false);
    assert.match(!plan.ok ? plan.message : '', /distribution policy of the private data collection\(s\): \[terms\];/);
  });

  it('chooses only members when they satisfy the policy, leaving out a non-member first org', () => {
    const membersOnly = parsePolicy("OutOf(2, 'BrandOrg.peer', 'Factory1Org.peer', 'FinanceOrg.peer')");
    const plan = endorsementPlan({
      firstMspId: Orgs.finance,
      policies: [membersOnly],
      hasPeer: everyone,
      hasTransientData: true,
      collectionsTouched: ['terms'],
      collections,
    });
    assert.deepEqual(plan, { ok: true, orgs: [Orgs.brand, Orgs.factory1] });
  });

  it('treats an unknown collection as having no members, and leaves unsatisfiable policies to validation', () => {
    const unknown = endorsementPlan({
      firstMspId: Orgs.brand,
      policies: [policy],
      hasPeer: everyone,
      hasTransientData: true,
      collectionsTouched: ['no-such-collection'],
      collections,
    });
    assert.equal(unknown.ok, false);
    // No peer at all for the policy's orgs: not the collections' fault, so no refusal here (the Gateway's
    // discovery error; the engine lets validation report the policy failure).
    const nobody = endorsementPlan({
      firstMspId: Orgs.brand,
      policies: [policy],
      hasPeer: (m) => m === Orgs.brand,
      hasTransientData: true,
      collectionsTouched: ['terms'],
      collections,
    });
    assert.deepEqual(nobody, { ok: true, orgs: [Orgs.brand] });
  });
});

describe('embedded engine refuses what the Gateway refuses', () => {
  let net: TestNetwork;
  before(async () => {
    // No FinanceOrg peer: its users have no gateway org to keep transient data in.
    const full = await startNetwork({}, { registerOrgs: false });
    const peers = Object.fromEntries(ALL_ORGS.filter((m) => m !== Orgs.finance).map((m) => [m, full.orgs[m]!.peer]));
    await full.cleanup();
    net = await startNetwork({ peers });
  });
  after(async () => net.cleanup());

  const terms = 'price=1';
  const commit = (workOrderId: string) => ({
    arguments: [workOrderId, 'order-1', Orgs.factory1, termsHash(terms)],
    transientData: { terms },
  });

  it('refuses transient data when the plan needs PlatformOrg, outside brandFactoryTerms', async () => {
    await assert.rejects(net.ledger.submit(net.brand, 'WorkOrders:CommitWorkOrder', commit('wo-plan-1')), (err) => {
      assert.ok(err instanceof EndorseError);
      assert.equal(err.code, ErrorCodes.ENDORSEMENT_PLAN_REFUSED);
      assert.match(err.txId, /^[0-9a-f]{64}$/);
      return true;
    });
    // Named endorsers are the caller's choice, as with the Gateway's endorsingOrganizations; the facade names them.
    const named = await net.ledger.submit(net.brand, 'WorkOrders:CommitWorkOrder', {
      ...commit('wo-plan-2'),
      endorsingOrganizations: [Orgs.platform, Orgs.brand],
    });
    assert.ok(named.blockNumber > 0);
    const viaFacade = await workOrdersContract(net.ledger, net.brand).commitWorkOrder({
      workOrderId: 'wo-plan-3',
      orderId: 'order-1',
      factoryMspId: Orgs.factory1,
      terms,
    });
    assert.equal(viaFacade.record.termsHash, termsHash(terms));
  });

  it('refuses transient data from a creator whose org has no peer, for submit and evaluate', async () => {
    for (const call of [
      () => net.ledger.submit(net.financier, 'WorkOrders:CommitWorkOrder', commit('wo-plan-4')),
      () =>
        net.ledger.evaluate(net.financier, 'WorkOrders:ReadWorkOrderTerms', {
          arguments: ['wo-plan-2'],
          transientData: { x: 'y' },
        }),
    ]) {
      await assert.rejects(call(), (err) => {
        assert.ok(err instanceof EndorseError);
        assert.equal(err.code, ErrorCodes.ENDORSEMENT_PLAN_REFUSED);
        assert.match(err.message, /no endorsers found in the gateway's organization/);
        return true;
      });
    }
    // Without transient data another org's peer is chosen, as the Gateway's discovery does.
    const read = await workOrdersContract(net.ledger, net.financier).readWorkOrder('wo-plan-2');
    assert.equal(read.workOrderId, 'wo-plan-2');
  });
});
