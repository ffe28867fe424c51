import { createPublicKey, type KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import type { Signer } from '@c2m/shared';
import { p256 } from '@noble/curves/nist';

/**
 * Two ways to sign, one signature scheme (ECDSA P-256 over SHA-256, DER, low-S as Fabric requires):
 * - `createSigner(key)(digest)` signs a precomputed SHA-256 digest as is, like fabric-gateway's signer
 *   (same library, @noble/curves); `sign(digest)` equals `signMessage(key, message)` when
 *   `digest = sha256(message)`, so signatures from either verify the same way.
 * - `signMessage(key, message)` hashes the message itself with node:crypto (OpenSSL, several times faster):
 *   the choice for devices and bulk signing.
 * node:crypto cannot sign a digest without hashing it again, which is why the digest path uses noble.
 */
export function createSigner(privateKey: KeyObject): Signer {
  const scalar = privateScalar(privateKey);
  return async (digest: Uint8Array): Promise<Uint8Array> => {
    if (digest.length !== 32) throw new TypeError('signer: expected a 32-byte SHA-256 digest');
    return p256.sign(digest, scalar, { prehash: false, lowS: true }).toBytes('der');
  };
}

/** ECDSA-SHA256 signature of `message` (hashed here), DER, normalised to low S. */
export function signMessage(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  assertP256(privateKey);
  return normaliseLowS(new Uint8Array(sign('sha256', message, { key: privateKey, dsaEncoding: 'der' })));
}

/** Either the signed message (hashed here with SHA-256) or its SHA-256 digest. */
export type SignedData = { readonly message: Uint8Array } | { readonly digest: Uint8Array };

export interface VerifyOptions {
  /** Accept high-S signatures. Fabric rejects them, so the default is false. */
  readonly allowHighS?: boolean;
}

/**
 * Checks a DER ECDSA P-256 signature against a certificate (PEM) or public key. Pass a cached KeyObject
 * on hot paths: parsing the certificate each time costs more than the verification.
 * Returns false for any malformed input.
 */
export function verifySignature(
  signer: string | KeyObject,
  data: SignedData,
  signature: Uint8Array,
  options: VerifyOptions = {},
): boolean {
  try {
    const key = typeof signer === 'string' ? new X509Certificate(signer).publicKey : toPublicKey(signer);
    assertP256(key);
    const parsed = p256.Signature.fromBytes(signature, 'der');
    if (!options.allowHighS && parsed.hasHighS()) return false;
    if ('message' in data) return verify('sha256', data.message, { key, dsaEncoding: 'der' }, signature);
    if (data.digest.length !== 32) return false;
    return p256.verify(signature, data.digest, publicPoint(key), { prehash: false, lowS: false, format: 'der' });
  } catch {
    return false;
  }
}

/** True when the DER signature's S is in the lower half of the curve order (Fabric's malleability rule). */
export function isLowS(signature: Uint8Array): boolean {
  return !p256.Signature.fromBytes(signature, 'der').hasHighS();
}

function normaliseLowS(der: Uint8Array): Uint8Array {
  const sig = p256.Signature.fromBytes(der, 'der');
  if (!sig.hasHighS()) return der;
  return new p256.Signature(sig.r, p256.Point.CURVE().n - sig.s).toBytes('der');
}

function toPublicKey(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

function assertP256(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError('expected an EC P-256 key');
  }
}

function privateScalar(privateKey: KeyObject): Uint8Array {
  if (privateKey.type !== 'private') throw new TypeError('createSigner: expected a private key');
  assertP256(privateKey);
  const { d } = privateKey.export({ format: 'jwk' });
  if (!d) throw new TypeError('createSigner: private key has no scalar');
  return new Uint8Array(Buffer.from(d, 'base64url'));
}

function publicPoint(publicKey: KeyObject): Uint8Array {
  const { x, y } = publicKey.export({ format: 'jwk' });
  if (!x || !y) throw new TypeError('expected an EC public key');
  return new Uint8Array(Buffer.concat([Buffer.from([4]), Buffer.from(x, 'base64url'), Buffer.from(y, 'base64url')]));
}
