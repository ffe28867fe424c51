import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { p256 } from '@noble/curves/nist';
import { createSigner, isLowS, signMessage, verifySignature } from '../src/index.js';

const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** The same signature with S replaced by n - S: valid ECDSA, but Fabric rejects it as malleable. */
function flipS(der: Uint8Array): Uint8Array {
  const sig = p256.Signature.fromBytes(der, 'der');
  return new p256.Signature(sig.r, p256.Point.CURVE().n - sig.s).toBytes('der');
}

describe('signers', () => {
  it('createSigner signs the digest as given: node:crypto verifies it as ECDSA-SHA256 of the message', async () => {
    const sign = createSigner(privateKey);
    for (let i = 0; i < 50; i++) {
      const message = randomBytes(1 + i * 7);
      const signature = await sign(sha256(message));
      assert.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature), 'verifies');
      assert.ok(isLowS(signature), 'low S');
      assert.ok(verifySignature(publicKey, { digest: sha256(message) }, signature));
    }
  });

  it('createSigner refuses anything but a 32-byte digest', async () => {
    await assert.rejects(createSigner(privateKey)(new Uint8Array(10)), TypeError);
  });

  it('signMessage hashes the message itself and always yields low S', () => {
    // Half of raw OpenSSL signatures have high S; 64 tries leave no chance of missing the normalisation.
    for (let i = 0; i < 64; i++) {
      const message = randomBytes(64);
      const signature = signMessage(privateKey, message);
      assert.ok(isLowS(signature));
      assert.ok(verifySignature(publicKey, { message }, signature));
      assert.ok(verifySignature(publicKey, { digest: sha256(message) }, signature));
    }
  });

  it('verifySignature rejects other messages, other keys, high S and garbage', async () => {
    const message = new TextEncoder().encode('{"count":12}');
    const signature = await createSigner(privateKey)(sha256(message));
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    assert.ok(!verifySignature(publicKey, { message: new TextEncoder().encode('{"count":13}') }, signature));
    assert.ok(!verifySignature(other, { message }, signature));
    const high = flipS(signature);
    assert.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, high), 'mathematically valid');
    assert.ok(!verifySignature(publicKey, { message }, high), 'but refused by default');
    assert.ok(!verifySignature(publicKey, { digest: sha256(message) }, high));
    assert.ok(verifySignature(publicKey, { message }, high, { allowHighS: true }));
    assert.ok(!verifySignature(publicKey, { message }, new Uint8Array([0x30, 0x02, 0x00, 0x00])));
    assert.ok(!verifySignature('not a certificate', { message }, signature));
  });

  it('refuses keys that are not P-256', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    assert.throws(() => createSigner(p384.privateKey), TypeError);
    assert.throws(() => signMessage(p384.privateKey, new Uint8Array(1)), TypeError);
  });
});
