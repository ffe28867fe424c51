import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromBase64, fromBase64Url, fromHex, toBase64 } from '../src/proof/bytes.js';
import { bytesField, readFields } from '../src/proof/protobuf.js';
import { sha256Sync } from '../src/proof/sha256.js';
import { derSignatureToRaw } from '../src/proof/x509.js';

describe('offline verifier primitives', () => {
  it('sha256Sync equals node:crypto on any input, block boundaries included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        assert.equal(Buffer.from(sha256Sync(b)).toString('hex'), createHash('sha256').update(b).digest('hex'));
      }),
      { numRuns: 500 },
    );
  });

  it('base64 and hex have exactly one accepted spelling', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const s = Buffer.from(b).toString('base64');
        assert.equal(toBase64(b), s);
        assert.deepEqual(Buffer.from(fromBase64(s)), Buffer.from(b));
        assert.deepEqual(Buffer.from(fromBase64Url(Buffer.from(b).toString('base64url'))), Buffer.from(b));
      }),
    );
    for (const bad of ['QQ', 'QR==', 'QQ=', 'Q===', 'QQ==\n', ' QQ==', 'QQ==QQ=='])
      assert.throws(() => fromBase64(bad), /base64/);
    for (const bad of ['AB', 'a', 'zz', '0x00', ' 00']) assert.throws(() => fromHex(bad), /hex/);
    assert.throws(() => fromBase64Url('QR'), /base64/);
  });

  it('the protobuf reader refuses truncated and malformed input instead of reading past it', () => {
    assert.deepEqual(
      Buffer.from(bytesField(readFields(Uint8Array.from([0x0a, 0x02, 0x68, 0x69])), 1)).toString(),
      'hi',
    );
    for (const bad of [
      [0x0a, 0x05, 0x68],
      [0x08],
      [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
      [0x0b],
      [0x00, 0x01],
      [0x09, 1, 2],
    ]) {
      assert.throws(() => readFields(Uint8Array.from(bad)), /protobuf/, JSON.stringify(bad));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          readFields(b);
        } catch (err) {
          assert.match((err as Error).message, /protobuf|not length-delimited/);
        }
      }),
    );
  });

  it('DER ECDSA signatures convert to r‖s and malformed ones are refused', () => {
    const der = Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07]);
    const raw = derSignatureToRaw(der, 32);
    assert.equal(raw[31], 5);
    assert.equal(raw[63], 7);
    for (const bad of [
      [0x30, 0x03, 0x02, 0x01, 0x05],
      [0x31, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07],
      [0x30, 0x06, 0x04, 0x01, 0x05, 0x02, 0x01, 0x07],
      [0x30],
    ]) {
      assert.throws(() => derSignatureToRaw(Uint8Array.from(bad), 32), JSON.stringify(bad));
    }
  });
});
