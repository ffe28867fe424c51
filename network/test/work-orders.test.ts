import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, Orgs } from '@c2m/shared';
import { termsHash, workOrdersContract } from '../src/index.js';
import { startNetwork, type TestNetwork } from './helpers/network.js';

const TERMS = { unitPriceMinor: 1234, currency: 'CNY', quantities: { 'SKU-RED-M': 5000 } };

describe('work orders with private terms', () => {
  let net: TestNetwork;
  before(async () => {
    net = await startNetwork();
  });
  after(async () => net.cleanup());

  it('commits with only the hash on the channel and the terms in the collection', async () => {
    const brand = workOrdersContract(net.ledger, net.brand);
    const wo = await brand.commitWorkOrder({
      workOrderId: 'wo-1',
      orderId: 'o-1',
      factoryMspId: Orgs.factory1,
      terms: TERMS,
    });
    assert.equal(wo.record.termsHash, termsHash(TERMS));
    assert.equal(wo.record.status, 'COMMITTED');

    const blocks = await readFile(join(net.dir, 'blocks.bin'));
    assert.equal(blocks.includes(Buffer.from('unitPriceMinor')), false, 'terms must not be in the block file');
    assert.equal(
      blocks.includes(Buffer.from(Buffer.from(JSON.stringify(TERMS)).toString('base64').slice(0, 16))),
      false,
    );

    const stored = await workOrdersContract(net.ledger, net.factory1).readTerms('wo-1');
    assert.equal(createHash('sha256').update(stored).digest('hex'), wo.record.termsHash);
    assert.deepEqual(JSON.parse(stored), TERMS);
    await assert.rejects(workOrdersContract(net.ledger, net.factory2).readTerms('wo-1'), {
      code: ErrorCodes.ACCESS_DENIED,
    });
  });

  it('rejects terms that do not match the hash', async () => {
    await assert.rejects(
      net.ledger.submit(net.brand, 'WorkOrders:CommitWorkOrder', {
        arguments: ['wo-x', 'o-1', Orgs.factory1, termsHash({ other: 1 })],
        transientData: { terms: JSON.stringify(TERMS) },
      }),
      { code: ErrorCodes.VALIDATION_FAILED },
    );
  });

  it('lets only the named factory accept, then enforces milestone order and reporters', async () => {
    await assert.rejects(workOrdersContract(net.ledger, net.factory2).acceptWorkOrder('wo-1'), {
      name: 'EndorseError',
      code: ErrorCodes.ACCESS_DENIED,
    });
    const f1 = workOrdersContract(net.ledger, net.factory1);
    const accepted = await f1.acceptWorkOrder('wo-1');
    assert.equal(accepted.record.status, 'ACCEPTED');
    await assert.rejects(f1.recordMilestone('wo-1', 'SHIPPED', {}), { code: ErrorCodes.INVALID_STATE });
    await f1.recordMilestone('wo-1', 'PRODUCED', { units: 5000 });
    await f1.recordMilestone('wo-1', 'QC_PASSED', { aql: '1.0' });
    await f1.recordMilestone('wo-1', 'SHIPPED', { sscc: '000000000000000001' });
    await assert.rejects(f1.recordMilestone('wo-1', 'DELIVERED', {}), { code: ErrorCodes.ACCESS_DENIED });
    const delivered = await workOrdersContract(net.ledger, net.brand).recordMilestone('wo-1', 'DELIVERED', {
      pod: 'signed',
    });
    assert.deepEqual(
      delivered.record.milestones.map((m) => m.milestone),
      ['PRODUCED', 'QC_PASSED', 'SHIPPED', 'DELIVERED'],
    );
  });

  it('lists a factory’s work orders through the composite-key index, page by page', async () => {
    const brand = workOrdersContract(net.ledger, net.brand);
    await Promise.all(
      ['wo-2', 'wo-3', 'wo-4', 'wo-5'].map((id) =>
        brand.commitWorkOrder({ workOrderId: id, orderId: 'o-2', factoryMspId: Orgs.factory1, terms: { id } }),
      ),
    );
    await brand.commitWorkOrder({ workOrderId: 'wo-6', orderId: 'o-2', factoryMspId: Orgs.factory2, terms: 'x' });
    const f1 = workOrdersContract(net.ledger, net.factory1);
    const ids: string[] = [];
    let bookmark = '';
    let pages = 0;
    do {
      const page = await f1.listByFactory(Orgs.factory1, { pageSize: 2, bookmark });
      ids.push(...page.records.map((r) => r.workOrderId));
      bookmark = page.bookmark;
      pages++;
    } while (bookmark);
    assert.deepEqual(ids, ['wo-1', 'wo-2', 'wo-3', 'wo-4', 'wo-5']);
    assert.equal(pages, 3);
    await assert.rejects(workOrdersContract(net.ledger, net.factory2).listByFactory(Orgs.factory1), {
      code: ErrorCodes.ACCESS_DENIED,
    });
  });

  it('records the GS1 lots a factory starts production under, once, checked by the chaincode', async () => {
    await workOrdersContract(net.ledger, net.brand).commitWorkOrder({
      workOrderId: 'wo-lots',
      orderId: 'o-1',
      factoryMspId: Orgs.factory1,
      terms: TERMS,
    });
    const f1 = workOrdersContract(net.ledger, net.factory1);
    const lot = { gtin: '06941410000010', lot: 'L261207A', quantity: 500, serialFrom: 1, serialTo: 500 };
    await assert.rejects(f1.startProduction('wo-lots', [lot]), { code: ErrorCodes.INVALID_STATE });
    await f1.acceptWorkOrder('wo-lots');
    await assert.rejects(f1.startProduction('wo-lots', [{ ...lot, gtin: '06941410000011' }]), {
      code: ErrorCodes.VALIDATION_FAILED,
    });
    await assert.rejects(f1.startProduction('wo-lots', [{ ...lot, serialTo: 499 }]), {
      code: ErrorCodes.VALIDATION_FAILED,
    });
    await assert.rejects(f1.startProduction('wo-lots', [{ ...lot, lot: 'has space' }]), {
      code: ErrorCodes.VALIDATION_FAILED,
    });
    await assert.rejects(workOrdersContract(net.ledger, net.factory2).startProduction('wo-lots', [lot]), {
      code: ErrorCodes.ACCESS_DENIED,
    });
    const started = await f1.startProduction('wo-lots', [lot]);
    assert.deepEqual(started.record.lots, [lot]);
    assert.equal(started.record.status, 'ACCEPTED');
    await assert.rejects(f1.startProduction('wo-lots', [{ ...lot, lot: 'L2' }]), { code: ErrorCodes.INVALID_STATE });
    assert.deepEqual((await f1.readWorkOrder('wo-lots')).lots, [lot]);
  });
});
