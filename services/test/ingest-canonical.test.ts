import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from '@c2m/shared';
import fc from 'fast-check';
import { DeviceMessageError, parseDeviceMessage } from '../src/iot/device-message.js';
import { structureProblem } from '../src/iot/message-rules.js';

/**
 * The ingest's canonical-body check takes a fast path (JSON.stringify when keys
 * are already sorted); it must accept and reject exactly what the reference
 * serialiser does, including integer-like keys, which JSON.parse reorders.
 */
test('the canonical-body check agrees with canonicalJson on arbitrary data', () => {
  const key = fc.oneof(fc.string({ maxLength: 4 }), fc.nat({ max: 20 }).map(String));
  const data = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
  fc.assert(
    fc.property(data, fc.boolean(), (d, shuffled) => {
      const body = { v: 1, deviceId: 'd-1', seq: 1, time: '2026-11-28T08:00:00.000Z', type: 'machine.state', data: d };
      const canonical = canonicalJson(body);
      const text = shuffled
        ? JSON.stringify({ ...body, data: Object.fromEntries(Object.entries(d).reverse()) })
        : canonical;
      const payload = JSON.stringify({ body: text, sig: 'A'.repeat(86) });
      let accepted: boolean;
      try {
        parseDeviceMessage(payload, 1 << 20);
        accepted = true;
      } catch (err) {
        assert.ok(err instanceof DeviceMessageError, String(err));
        assert.equal(err.reason, 'VALIDATION_FAILED');
        accepted = false;
      }
      // Accepted exactly when the text is the canonical form of what it parses to (and storable: no NUL).
      assert.equal(
        accepted,
        canonicalJson(JSON.parse(text)) === text && structureProblem(JSON.parse(text)) === undefined,
      );
    }),
    { numRuns: 500 },
  );
});
