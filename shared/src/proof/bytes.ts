/**
 * Byte helpers for the offline verifier, on the platform's WebCrypto only
 * (Node 20 and every browser), so one verifier runs in the CLI, the server
 * and the portal. Decoders are strict: a hex or base64 string has exactly one
 * accepted spelling, so a bundle cannot be altered without altering meaning.
 */

const HEX = /^(?:[0-9a-f]{2})*$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]*$/;

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Lower-case hex only. */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string' || !HEX.test(hex)) throw new Error(`not lower-case hex: ${String(hex).slice(0, 20)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? ALPHABET[n & 63]! : '=';
  }
  return out;
}

const DECODE = new Map([...ALPHABET].map((c, i) => [c, i]));

/** Standard padded base64; a non-canonical spelling (stray bits, missing padding) is refused. */
export function fromBase64(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !B64.test(s)) throw new Error('not canonical base64');
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const n =
      (DECODE.get(s[i]!)! << 18) |
      (DECODE.get(s[i + 1]!)! << 12) |
      ((DECODE.get(s[i + 2]!) ?? 0) << 6) |
      (DECODE.get(s[i + 3]!) ?? 0);
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  if (toBase64(out) !== s) throw new Error('not canonical base64');
  return out;
}

/** Unpadded base64url (JWS), canonical only. */
export function fromBase64Url(s: string): Uint8Array {
  if (typeof s !== 'string' || !B64URL.test(s) || s.length % 4 === 1) throw new Error('not canonical base64url');
  const std = s.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(std + '='.repeat((4 - (std.length % 4)) % 4));
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
export const utf8 = (s: string): Uint8Array => encoder.encode(s);
export const fromUtf8 = (b: Uint8Array): string => decoder.decode(b);

export type Digest = 'SHA-256' | 'SHA-384';

export async function digest(bytes: Uint8Array, alg: Digest = 'SHA-256'): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest(alg, bytes as Uint8Array<ArrayBuffer>));
}

export const sha256 = (bytes: Uint8Array): Promise<Uint8Array> => digest(bytes, 'SHA-256');

export function pemToDer(pem: string): Uint8Array {
  const m = /^-----BEGIN ([A-Z ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----\s*$/.exec(pem.trim());
  if (!m) throw new Error('not a PEM block');
  return fromBase64(m[2]!.replace(/\r?\n/g, ''));
}
