/**
 * The worker side of `crypto-pool.ts`: holds the keys it was handed and signs or verifies batches of
 * messages with node:crypto (ECDSA P-256 over SHA-256, DER; signatures normalised to low S), away from the
 * JavaScript thread that runs the ledger and the services.
 *
 * A batch arrives as one transferred buffer and leaves as one, so a hundred operations cost the caller two
 * messages, not a hundred:
 * - sign:   in [u32 key][u32 length][message]...       out [u8 length][DER signature]... ([0] = failed)
 * - verify: in [u32 key][u32 length][u32 length][message][signature]...   out [u8 1|0]...
 */
import { createPrivateKey, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { signMessage } from './signer.js';

export type ToCryptoThread =
  | { readonly type: 'key'; readonly key: number; readonly der: Uint8Array; readonly kind: 'pkcs8' | 'spki' }
  | {
      readonly type: 'sign' | 'verify';
      readonly batch: number;
      readonly data: ArrayBuffer;
      readonly count: number;
    };
export interface FromCryptoThread {
  readonly batch: number;
  readonly data: ArrayBuffer;
  /** Why a signature could not be made, by its index in the batch. */
  readonly errors: Record<number, string>;
}

const keys = new Map<number, KeyObject>();

function signBatch(input: Buffer, count: number, errors: Record<number, string>): Buffer {
  const out = Buffer.allocUnsafe(count * 73);
  let at = 0;
  let written = 0;
  for (let i = 0; i < count; i++) {
    const key = keys.get(input.readUInt32LE(at));
    const length = input.readUInt32LE(at + 4);
    const message = input.subarray(at + 8, at + 8 + length);
    at += 8 + length;
    try {
      if (key?.type !== 'private') throw new Error('no private key for this request');
      const signature = signMessage(key, message);
      out[written] = signature.length;
      out.set(signature, written + 1);
      written += 1 + signature.length;
    } catch (err) {
      errors[i] = (err as Error).message;
      out[written++] = 0;
    }
  }
  return out.subarray(0, written);
}

function verifyBatch(input: Buffer, count: number): Buffer {
  const out = Buffer.allocUnsafe(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const key = keys.get(input.readUInt32LE(at));
    const messageLength = input.readUInt32LE(at + 4);
    const signatureLength = input.readUInt32LE(at + 8);
    const message = input.subarray(at + 12, at + 12 + messageLength);
    const signature = input.subarray(at + 12 + messageLength, at + 12 + messageLength + signatureLength);
    at += 12 + messageLength + signatureLength;
    let ok = false;
    try {
      ok = key !== undefined && verify('sha256', message, key, signature);
    } catch {
      ok = false;
    }
    out[i] = ok ? 1 : 0;
  }
  return out;
}

parentPort?.on('message', (msg: ToCryptoThread) => {
  if (msg.type === 'key') {
    const der = Buffer.from(msg.der);
    keys.set(
      msg.key,
      msg.kind === 'pkcs8'
        ? createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
        : createPublicKey({ key: der, format: 'der', type: 'spki' }),
    );
    return;
  }
  const errors: Record<number, string> = {};
  const input = Buffer.from(msg.data);
  const out = msg.type === 'sign' ? signBatch(input, msg.count, errors) : verifyBatch(input, msg.count);
  const data = new ArrayBuffer(out.byteLength);
  new Uint8Array(data).set(out);
  const reply: FromCryptoThread = { batch: msg.batch, data, errors };
  parentPort?.postMessage(reply, [data]);
});
