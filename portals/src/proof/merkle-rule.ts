import { canonicalJson } from '@c2m/shared';

/**
 * How a proof bundle's hashes are computed. It must match the services' batcher
 * byte for byte (services/README.md, "Proof bundles"); it is kept in this one
 * place so that a change of rule is a change of this file only.
 */
export interface MerkleRule {
  readonly description: string;
  /** Hash of one event as it was put into the batch tree. */
  leaf(message: unknown): Promise<Uint8Array>;
  /** Parent of two children, left then right. */
  node(left: Uint8Array, right: Uint8Array): Promise<Uint8Array>;
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

const utf8 = new TextEncoder();

export const sha256CanonicalRule: MerkleRule = {
  description: 'leaf = SHA-256(canonical JSON of the message); node = SHA-256(left ‖ right)',
  leaf: (message) => sha256(utf8.encode(canonicalJson(message))),
  node: (left, right) => {
    const joined = new Uint8Array(left.length + right.length);
    joined.set(left, 0);
    joined.set(right, left.length);
    return sha256(joined);
  },
};

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Accepts `0x`-prefixed and upper-case hex as the services may print either. */
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
