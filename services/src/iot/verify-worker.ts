import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/**
 * A chunk of ES256 signatures to check on a worker thread. Keys travel as SPKI
 * DER under a key id the ingest assigns to each cached device record; a worker
 * parses each key once and keeps the KeyObject (parsing costs more than the
 * verification itself).
 */
export interface VerifyTask {
  /** Keys this chunk needs: [keyId, SPKI DER]. */
  readonly keys: readonly (readonly [number, Uint8Array])[];
  readonly keyIds: readonly number[];
  readonly bodies: readonly string[];
  /** base64url r||s. */
  readonly sigs: readonly string[];
}

const MAX_KEYS = 200_000;
const keys = new Map<number, KeyObject>();

/** Returns 1 per valid signature, 0 otherwise, in task order. */
export default function verifyChunk(task: VerifyTask): Uint8Array {
  for (const [id, der] of task.keys) {
    if (keys.has(id)) continue;
    if (keys.size >= MAX_KEYS) keys.clear();
    keys.set(id, createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }));
  }
  const out = new Uint8Array(task.bodies.length);
  for (let i = 0; i < out.length; i++) {
    const key = keys.get(task.keyIds[i] as number);
    const sig = Buffer.from(task.sigs[i] as string, 'base64url');
    if (!key || sig.length !== 64) continue;
    out[i] = verify('sha256', Buffer.from(task.bodies[i] as string), { key, dsaEncoding: 'ieee-p1363' }, sig) ? 1 : 0;
  }
  return out;
}
