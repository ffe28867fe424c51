import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { createDeviceOutbox, decodeConfirmation, encodeConfirmation } from '../src/iot/confirmations.js';
import { waitFor } from './helpers.js';

test('a confirmation from arbitrary bytes never throws and yields only well-formed results', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
        fc
          .array(fc.record({ seq: fc.jsonValue(), sig: fc.jsonValue(), status: fc.jsonValue() }), { maxLength: 5 })
          .map((results) => JSON.stringify({ v: 1, results })),
      ),
      (payload) => {
        for (const r of decodeConfirmation(payload)) {
          assert.ok(Number.isSafeInteger(r.seq));
          assert.equal(typeof r.sig, 'string');
          assert.ok(['stored', 'duplicate', 'rejected'].includes(r.status));
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('the device outbox releases a message only for its own seq and signature, whatever else arrives', async () => {
  const root = `conf-${randomUUID().slice(0, 8)}/c2m/v1`;
  const events = `${root}/Factory1Org/dev-1/events`;
  const confirm = `${root}/Factory1Org/dev-1/confirm`;
  const device = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
  const forger = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
  const outbox = createDeviceOutbox(device, { resendAfterMs: 60_000 });
  try {
    const sig = 'S'.repeat(86);
    await outbox.send(events, 'dev-1', 7, '{"body":"x","sig":"y"}', sig);
    await outbox.send(events, 'dev-1', 8, '{"body":"x","sig":"y"}', `T${'S'.repeat(85)}`);
    const hostile = [
      Buffer.from([0xff, 0x00, 0x7b]),
      '{"v":1,"results":"nope"}',
      encodeConfirmation([{ seq: 7, sig: 'X'.repeat(86), status: 'stored' }]), // a forged message's signature
      encodeConfirmation([{ seq: 9, sig, status: 'stored' }]), // a seq the device never sent
      JSON.stringify({ v: 2, results: [{ seq: 7, sig: sig.slice(0, 16), status: 'stored' }] }),
    ];
    for (const h of hostile) await forger.publishAsync(confirm, h, { qos: 1 });
    // Another device's confirmation topic, with the right seq and signature, releases nothing here either.
    await forger.publishAsync(
      `${root}/Factory1Org/dev-2/confirm`,
      encodeConfirmation([{ seq: 7, sig, status: 'stored' }]),
      { qos: 1 },
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(outbox.unconfirmed(), 2);
    await forger.publishAsync(confirm, encodeConfirmation([{ seq: 7, sig, status: 'stored' }]), { qos: 1 });
    await waitFor('seq 7 released', async () => outbox.unconfirmed() === 1);
    assert.equal(outbox.figures.stored, 1);
  } finally {
    outbox.close();
    await device.endAsync();
    await forger.endAsync();
  }
});
