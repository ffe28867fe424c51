/**
 * The services' Merkle rule (services/src/trace/merkle.ts; services/README.md
 * "Proof bundles"), restated for the browser with WebCrypto:
 *   leaf  = SHA-256(0x00 ‖ UTF-8 bytes of the signed message)
 *   node  = SHA-256(left ‖ right); an odd node is carried up unpaired
 *   proof = sibling hashes bottom-up, `position` = the sibling's side.
 * It must match the batcher byte for byte; keeping it in this one file means a
 * change of rule is a change here only.
 */
export interface MerkleRule {
  readonly description: string;
  leaf(message: string): Promise<Uint8Array>;
  node(left: Uint8Array, right: Uint8Array): Promise<Uint8Array>;
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const utf8 = new TextEncoder();
// Domain separation: a leaf can never be mistaken for an inner node (second-preimage).
const LEAF_PREFIX = new Uint8Array([0]);

export const c2mMerkleRule: MerkleRule = {
  description: 'leaf = SHA-256(0x00 ‖ message); node = SHA-256(left ‖ right)',
  leaf: (message) => sha256(concat(LEAF_PREFIX, utf8.encode(message))),
  node: (left, right) => sha256(concat(left, right)),
};

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const h = hex.trim().replace(/^0x/i, '').toLowerCase();
  if (h.length % 2 !== 0 || /[^0-9a-f]/.test(h)) throw new Error(`not a hex string: ${hex.slice(0, 20)}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function sameHex(a: string, b: string): boolean {
  return a.trim().replace(/^0x/i, '').toLowerCase() === b.trim().replace(/^0x/i, '').toLowerCase();
}
