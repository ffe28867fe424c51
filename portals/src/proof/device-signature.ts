/** ES256 (ECDSA P-256 + SHA-256, r‖s signatures as in JWS): the device message signature, in WebCrypto. */

function pemToDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

export function base64UrlToBytes(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

/** Imports an SPKI PEM public key for ES256 verification. */
export function importDeviceKey(publicKeyPem: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    'spki',
    pemToDer(publicKeyPem) as Uint8Array<ArrayBuffer>,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  );
}

/** WebCrypto's ECDSA signature format is r‖s already, the same as ES256, so no DER conversion. */
export function verifyEs256(key: CryptoKey, message: string, sigBase64Url: string): Promise<boolean> {
  const sig = base64UrlToBytes(sigBase64Url);
  if (sig.length !== 64) return Promise.resolve(false);
  return crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    sig as Uint8Array<ArrayBuffer>,
    new TextEncoder().encode(message),
  );
}
