import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { CryptoPool, isLowS } from '../src/index.js';

const alice = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const bob = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('CryptoPool (signing and verification on a worker thread)', () => {
  it('signs a burst of messages for several keys: each low-S and verifiable with its own key only', async () => {
    const pool = new CryptoPool();
    try {
      const signAlice = pool.signer(alice.privateKey);
      const signBob = pool.signer(bob.privateKey);
      const messages = Array.from({ length: 300 }, (_, i) => randomBytes(50 + (i % 7) * 300));
      const signatures = await Promise.all(messages.map((m, i) => (i % 2 ? signBob(m) : signAlice(m))));
      signatures.forEach((sig, i) => {
        const mine = i % 2 ? bob.publicKey : alice.publicKey;
        const theirs = i % 2 ? alice.publicKey : bob.publicKey;
        assert.ok(isLowS(sig), `signature ${i} is low-S`);
        assert.ok(verify('sha256', messages[i]!, mine, sig), `signature ${i} verifies`);
        assert.equal(verify('sha256', messages[i]!, theirs, sig), false);
      });
    } finally {
      await pool.close();
    }
  });

  it('verifies: true for a good signature, false for a tampered message, signature or garbage', async () => {
    const pool = new CryptoPool();
    try {
      const check = pool.verifier(alice.publicKey);
      const message = randomBytes(400);
      const good = sign('sha256', message, alice.privateKey);
      const tampered = Buffer.from(message);
      tampered[10] = (tampered[10] ?? 0) ^ 1;
      const results = await Promise.all([
        check(message, good),
        check(tampered, good),
        check(message, sign('sha256', message, bob.privateKey)),
        check(message, Buffer.from('not a DER signature')),
        check(message, new Uint8Array(0)),
      ]);
      assert.deepEqual(results, [true, false, false, false, false]);
    } finally {
      await pool.close();
    }
  });

  it('finishes what it had when the thread stops, and starts a new thread for later work', {
    timeout: 10_000,
  }, async () => {
    const pool = new CryptoPool();
    const signAlice = pool.signer(alice.privateKey);
    const inFlight = Array.from({ length: 50 }, (_, i) => signAlice(Buffer.from(`message ${i}`)));
    // Let the batch reach the thread, then stop it under the batch's feet.
    await new Promise((r) => setImmediate(r));
    await pool.close();
    const signatures = await Promise.all(inFlight);
    signatures.forEach((sig, i) => {
      assert.ok(verify('sha256', Buffer.from(`message ${i}`), alice.publicKey, sig));
    });
    const after = await signAlice(Buffer.from('after'));
    assert.ok(verify('sha256', Buffer.from('after'), alice.publicKey, after));
    await pool.close();
  });

  it('refuses a public key as a signer and a private key as a verifier', () => {
    const pool = new CryptoPool();
    assert.throws(() => pool.signer(alice.publicKey), TypeError);
    assert.throws(() => pool.verifier(alice.privateKey), TypeError);
  });
});
