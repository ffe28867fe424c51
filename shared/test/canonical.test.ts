import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalJson, codedMessage, ErrorCodes, parseCodedMessage } from '../src/index.js';

test('canonicalJson sorts keys at every depth and drops undefined', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } }),
    '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
  );
});

test('canonicalJson is stable under key order and round-trips through JSON.parse', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const s = canonicalJson(v);
      assert.equal(canonicalJson(JSON.parse(s)), s);
    }),
  );
});

test('coded messages survive peer prefixes', () => {
  const wire = `chaincode response 500, ${codedMessage(ErrorCodes.DEVICE_NOT_CERTIFIED, 'device d1 is SUSPENDED')}`;
  assert.deepEqual(parseCodedMessage(wire), { code: 'DEVICE_NOT_CERTIFIED', message: 'device d1 is SUSPENDED' });
  assert.equal(parseCodedMessage('plain failure'), undefined);
});
