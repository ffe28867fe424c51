import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSONSerializer } from 'fabric-contract-api';
import { contracts, KeyPrefixes, TimeIndexes } from '../src/index.js';

// The same loader fabric-chaincode-node uses on a peer; it reads the decorator metadata tsc emitted.
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract.js');

describe('contract metadata as a peer loads it', () => {
  const cc = new ChaincodeFromContract(
    [...contracts],
    { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } },
    {},
    'c2m',
    '0.1.0',
  );
  const txs = (name: string) =>
    Object.fromEntries(
      (cc.metadata.contracts[name].transactions as { name: string; tag: string[] }[]).map((t) => [
        t.name,
        t.tag.includes('SUBMIT') ? 'submit' : 'evaluate',
      ]),
    );

  it('exposes every transaction with the right submit/evaluate tag', () => {
    assert.deepEqual(txs('Orgs'), { RegisterOrg: 'submit', GetOrg: 'evaluate' });
    assert.deepEqual(txs('Devices'), {
      RegisterDevice: 'submit',
      CertifyDevice: 'submit',
      RotateDeviceKey: 'submit',
      SuspendDevice: 'submit',
      ReactivateDevice: 'submit',
      RevokeDevice: 'submit',
      ReadDevice: 'evaluate',
      DeviceHistory: 'evaluate',
      WasCertifiedAt: 'evaluate',
    });
    assert.deepEqual(txs('WorkOrders'), {
      CommitWorkOrder: 'submit',
      AcceptWorkOrder: 'submit',
      RecordMilestone: 'submit',
      StartProduction: 'submit',
      ReadWorkOrder: 'evaluate',
      ReadWorkOrderTerms: 'evaluate',
      ListWorkOrdersByFactory: 'evaluate',
    });
    assert.deepEqual(txs('Anchors'), {
      AnchorBatch: 'submit',
      ReadAnchor: 'evaluate',
      ListAnchorsByFactory: 'evaluate',
      ListAnchorsByFactoryAndTime: 'evaluate',
    });
  });

  it('keeps private helpers out of the transaction surface', () => {
    for (const name of ['Orgs', 'Devices', 'WorkOrders', 'Anchors']) {
      for (const t of Object.keys(txs(name))) assert.match(t, /^[A-Z]/);
    }
  });

  it('uses distinct key prefixes', () => {
    const values = [...Object.values(KeyPrefixes), ...Object.values(TimeIndexes)];
    assert.equal(new Set(values).size, values.length);
    // Time indexes are simple keys joined with '|': a prefix holding one would break their ranges.
    for (const prefix of Object.values(TimeIndexes)) assert.doesNotMatch(prefix, /\|/);
  });
});
