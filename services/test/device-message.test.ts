import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import {
  DeviceMessageError,
  parseDeviceMessage,
  signDeviceMessage,
  verifyDeviceSignature,
} from '../src/iot/device-message.js';
import { certifiedAt } from '../src/iot/device-registry.js';

const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const body = {
  v: 1 as const,
  deviceId: 'knit-01',
  seq: 7,
  time: '2026-11-28T08:00:00.000Z',
  type: 'production.count' as const,
  data: { workOrderId: 'WO-1', units: 12 },
};

test('a signed message parses and verifies with the device key, and only with it', () => {
  const env = signDeviceMessage(body, keys.privateKey);
  const parsed = parseDeviceMessage(JSON.stringify(env));
  assert.deepEqual(parsed.body, body);
  assert.ok(verifyDeviceSignature(parsed.envelope, keys.publicKey));
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.equal(verifyDeviceSignature(parsed.envelope, other.publicKey), false);
  const tampered = { ...env, body: env.body.replace('"units":12', '"units":99') };
  assert.equal(verifyDeviceSignature(tampered, keys.publicKey), false);
});

test('malformed, oversized, non-canonical and incomplete messages are rejected with a reason', () => {
  const reason = (payload: string, max?: number) => {
    try {
      parseDeviceMessage(payload, max);
      return 'accepted';
    } catch (err) {
      assert.ok(err instanceof DeviceMessageError);
      return err.reason;
    }
  };
  assert.equal(reason('{not json'), 'MALFORMED_JSON');
  assert.equal(reason(JSON.stringify(signDeviceMessage(body, keys.privateKey)), 50), 'PAYLOAD_TOO_LARGE');
  assert.equal(reason(JSON.stringify({ body: JSON.stringify(body, null, 2), sig: 'x' })), 'VALIDATION_FAILED');
  assert.equal(reason(JSON.stringify({ body: JSON.stringify({ ...body, seq: 0 }), sig: 'x' })), 'VALIDATION_FAILED');
  assert.equal(
    reason(JSON.stringify({ body: JSON.stringify({ ...body, type: 'nope' }), sig: 'x' })),
    'VALIDATION_FAILED',
  );
});

test('certification at time T follows the ledger state in force at T', () => {
  const t = (h: number) => Date.parse(`2026-11-28T${String(h).padStart(2, '0')}:00:00Z`);
  const states = [
    { from: t(1), status: 'REGISTERED' },
    { from: t(2), status: 'CERTIFIED', validUntil: t(20) },
    { from: t(5), status: 'SUSPENDED' },
    { from: t(6), status: 'CERTIFIED', validUntil: t(8) },
    { from: t(9), status: 'REVOKED' },
  ];
  assert.equal(certifiedAt(states, t(0)), false);
  assert.equal(certifiedAt(states, t(1)), false);
  assert.equal(certifiedAt(states, t(3)), true);
  assert.equal(certifiedAt(states, t(5)), false);
  assert.equal(certifiedAt(states, t(7)), true);
  assert.equal(certifiedAt(states, t(8)), false, 'validity ended');
  assert.equal(certifiedAt(states, t(10)), false);
});
