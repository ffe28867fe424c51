import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, Orgs } from '@c2m/shared';
import { anchorsContract, workOrdersContract } from '../src/index.js';
import { startNetwork, type TestNetwork } from './helpers/network.js';

const batch = (batchId: string) => ({
  batchId,
  factoryMspId: Orgs.factory1,
  merkleRootHex: 'cd'.repeat(32),
  eventCount: 1000,
  firstEventTime: '2026-01-01T00:00:00Z',
  lastEventTime: '2026-01-01T00:05:00Z',
});

describe('anchors', () => {
  let net: TestNetwork;
  before(async () => {
    net = await startNetwork();
  });
  after(async () => net.cleanup());

  it('anchors a batch endorsed by the platform and the factory, and refuses it twice', async () => {
    const anchors = anchorsContract(net.ledger, net.admin);
    const a = await anchors.anchorBatch(batch('b-1'));
    assert.equal(a.record.eventCount, 1000);
    assert.equal(a.record.txId, a.txId);
    assert.deepEqual(await anchorsContract(net.ledger, net.financier).readAnchor('b-1'), a.record);
    await assert.rejects(anchors.anchorBatch(batch('b-1')), { code: ErrorCodes.ANCHOR_EXISTS });
    await assert.rejects(anchorsContract(net.ledger, net.certifier).anchorBatch(batch('b-2')), {
      code: ErrorCodes.ACCESS_DENIED,
    });
    await assert.rejects(anchors.readAnchor('nope'), { code: ErrorCodes.ANCHOR_NOT_FOUND });
  });

  it("refuses totals for another factory's work order; its own and unknown ones pass", async () => {
    await workOrdersContract(net.ledger, net.brand).commitWorkOrder({
      workOrderId: 'wo-f2',
      orderId: 'o-own',
      factoryMspId: Orgs.factory2,
      terms: { unitPriceMinor: 900 },
    });
    const anchors = anchorsContract(net.ledger, net.admin);
    const t = { events: 10, units: 100, qcPass: 0, qcFail: 0 };
    await assert.rejects(
      anchors.anchorBatch({ ...batch('own-x'), totals: { 'wo-f2': t } }),
      (err: { code?: string; message: string }) =>
        err.code === ErrorCodes.ACCESS_DENIED && /Factory2Org's, not Factory1Org's/.test(err.message),
    );
    const own = await anchors.anchorBatch({ ...batch('own-1'), factoryMspId: Orgs.factory2, totals: { 'wo-f2': t } });
    assert.deepEqual(own.record.totals, { 'wo-f2': t });
    assert.ok(await anchors.anchorBatch({ ...batch('own-2'), factoryMspId: Orgs.factory2, totals: { 'wo-later': t } }));
  });

  it("anchors a brand's batch of captured EPCIS events, without totals; an unregistered org's is refused", async () => {
    const anchors = anchorsContract(net.ledger, net.admin);
    const a = await anchors.anchorBatch({ ...batch('brand-1'), factoryMspId: Orgs.brand });
    assert.equal(a.record.factoryMspId, Orgs.brand);
    assert.equal(a.record.totals, undefined);
    const t = { events: 1, units: 1, qcPass: 0, qcFail: 0 };
    await assert.rejects(anchors.anchorBatch({ ...batch('brand-2'), factoryMspId: Orgs.brand, totals: { wo: t } }), {
      code: ErrorCodes.VALIDATION_FAILED,
    });
    await assert.rejects(anchors.anchorBatch({ ...batch('nobody-1'), factoryMspId: 'NobodyOrg' }), {
      code: ErrorCodes.VALIDATION_FAILED,
    });
  });

  it('commits per-work-order totals in the anchor and refuses totals that do not add up', async () => {
    const anchors = anchorsContract(net.ledger, net.admin);
    const totals = {
      'WO-2': { events: 400, units: 4000, qcPass: 3, qcFail: 1 },
      'WO-1': { events: 600, units: 1, qcPass: 0, qcFail: 0 },
    };
    const a = await anchors.anchorBatch({ ...batch('tot-1'), factoryMspId: Orgs.factory2, totals });
    assert.deepEqual(a.record.totals, totals);
    assert.deepEqual(Object.keys((await anchors.readAnchor('tot-1')).totals ?? {}), ['WO-1', 'WO-2']);
    // Anchors without totals (the six-field form) stay valid and readable.
    assert.equal(
      (await anchors.anchorBatch({ ...batch('tot-0'), factoryMspId: Orgs.factory2 })).record.totals,
      undefined,
    );
    const hostile: [string, unknown][] = [
      ['more events than the batch', { a: { events: 1001, units: 0, qcPass: 0, qcFail: 0 } }],
      ['negative units', { a: { events: 1, units: -1, qcPass: 0, qcFail: 0 } }],
      ['fractional', { a: { events: 1.5, units: 0, qcPass: 0, qcFail: 0 } }],
      ['QC beyond events', { a: { events: 1, units: 0, qcPass: 2, qcFail: 0 } }],
      ['extra field', { a: { events: 1, units: 0, qcPass: 0, qcFail: 0, bonus: 1 } }],
      ['missing field', { a: { events: 1, units: 0, qcPass: 0 } }],
      ['bad work order id', { 'a|b\u0000': { events: 1, units: 0, qcPass: 0, qcFail: 0 } }],
      ['not an object', [1, 2]],
      ['zero events', { a: { events: 0, units: 0, qcPass: 0, qcFail: 0 } }],
      [
        'too many work orders',
        Object.fromEntries(
          Array.from({ length: 257 }, (_, i) => [`w${i}`, { events: 1, units: 0, qcPass: 0, qcFail: 0 }]),
        ),
      ],
    ];
    for (const [what, t] of hostile) {
      await assert.rejects(
        anchors.anchorBatch({
          ...batch(`tot-${what.replace(/\W/g, '')}`),
          factoryMspId: Orgs.factory2,
          totals: t as never,
        }),
        { code: ErrorCodes.VALIDATION_FAILED },
        what,
      );
    }
    const raw = await net.ledger
      .submit(net.admin, 'Anchors:AnchorBatch', {
        arguments: [
          'tot-raw',
          Orgs.factory2,
          'ab'.repeat(32),
          '1',
          '2026-01-01T00:00:00Z',
          '2026-01-01T00:00:00Z',
          '{not json',
        ],
        endorsingOrganizations: [Orgs.platform, Orgs.factory2],
      })
      .catch((e: unknown) => e);
    assert.equal((raw as { code: string }).code, ErrorCodes.VALIDATION_FAILED);
  });

  it('fails the endorsement policy when only the platform endorses', async () => {
    const err = await net.ledger
      .submit(net.admin, 'Anchors:AnchorBatch', {
        arguments: ['b-3', Orgs.factory1, 'ab'.repeat(32), '1', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', ''],
        endorsingOrganizations: [Orgs.platform],
      })
      .catch((e: unknown) => e);
    assert.equal((err as { name: string }).name, 'CommitError');
    assert.equal((err as { validationCode: string }).validationCode, 'ENDORSEMENT_POLICY_FAILURE');
    assert.equal((err as { code: string }).code, ErrorCodes.ENDORSEMENT_POLICY_FAILURE);
    const info = await net.ledger.transaction((err as { txId: string }).txId);
    assert.equal(info?.validationCode, 'ENDORSEMENT_POLICY_FAILURE');
    await assert.rejects(anchorsContract(net.ledger, net.admin).readAnchor('b-3'), {
      code: ErrorCodes.ANCHOR_NOT_FOUND,
    });
  });

  it('lists anchors by factory with pagination', async () => {
    const anchors = anchorsContract(net.ledger, net.admin);
    for (const id of ['b-4', 'b-5']) await anchors.anchorBatch(batch(id));
    const first = await anchors.listByFactory(Orgs.factory1, { pageSize: 2 });
    assert.deepEqual(
      first.records.map((r) => r.batchId),
      ['b-1', 'b-4'],
    );
    const second = await anchors.listByFactory(Orgs.factory1, { pageSize: 2, bookmark: first.bookmark });
    assert.deepEqual(
      second.records.map((r) => r.batchId),
      ['b-5'],
    );
    assert.equal(second.bookmark, '');
  });

  it('lists a factory’s anchors by the time of their last event, each batch in exactly one window', async () => {
    const anchors = anchorsContract(net.ledger, net.admin);
    const at = (batchId: string, factoryMspId: string, first: string, last: string) =>
      anchors.anchorBatch({ ...batch(batchId), factoryMspId, firstEventTime: first, lastEventTime: last });
    // Anchored out of time order, one straddling the window boundary, one for another factory.
    await at('t-3', Orgs.factory1, '2026-03-02T09:00:00Z', '2026-03-02T10:00:00Z');
    await at('t-1', Orgs.factory1, '2026-02-27T23:00:00Z', '2026-02-28T08:00:00Z');
    await at('t-2', Orgs.factory1, '2026-02-28T23:30:00Z', '2026-03-01T00:30:00+00:00');
    await at('t-4', Orgs.factory1, '2026-03-31T23:00:00Z', '2026-04-01T00:00:00Z');
    await at('t-x', Orgs.factory2, '2026-03-05T00:00:00Z', '2026-03-05T01:00:00Z');
    const financier = anchorsContract(net.ledger, net.financier);
    const ids = async (from: string, to: string, pageSize?: number) =>
      (await financier.listByFactoryAndTime(Orgs.factory1, { from, to }, { pageSize })).records.map((r) => r.batchId);
    assert.deepEqual(await ids('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'), ['t-2', 't-3']);
    assert.deepEqual(await ids('2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z'), ['t-1']);
    assert.deepEqual(await ids('2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z'), ['t-4']);
    // Same instant in another zone; pages follow the bookmark in time order.
    const first = await financier.listByFactoryAndTime(
      Orgs.factory1,
      { from: '2026-02-28T08:00:00+08:00', to: '2026-05-01T00:00:00Z' },
      { pageSize: 2 },
    );
    assert.deepEqual(
      first.records.map((r) => r.batchId),
      ['t-1', 't-2'],
    );
    const rest = await financier.listByFactoryAndTime(
      Orgs.factory1,
      { from: '2026-02-28T00:00:00Z', to: '2026-05-01T00:00:00Z' },
      { pageSize: 2, bookmark: first.bookmark },
    );
    assert.deepEqual(
      rest.records.map((r) => r.batchId),
      ['t-3', 't-4'],
    );
    await assert.rejects(
      financier.listByFactoryAndTime(Orgs.factory1, { from: '2026-03-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }),
      {
        code: ErrorCodes.VALIDATION_FAILED,
      },
    );
    await assert.rejects(
      financier.listByFactoryAndTime(Orgs.factory1, { from: 'yesterday', to: '2026-03-01T00:00:00Z' }),
      {
        code: ErrorCodes.VALIDATION_FAILED,
      },
    );
  });
});
