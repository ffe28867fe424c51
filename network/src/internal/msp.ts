import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { type MessageVerifier, sharedCryptoPool } from '@c2m/identity';

/** Fabric NodeOU roles an X.509 identity can carry (OU=client|peer|admin|orderer). */
export type MspRole = 'client' | 'peer' | 'admin' | 'orderer';

export interface ValidatedIdentity {
  readonly mspId: string;
  readonly certificatePem: string;
  readonly roles: ReadonlySet<MspRole>;
  readonly publicKey: KeyObject;
  /**
   * Checks a DER ECDSA signature over SHA-256(message) off the JavaScript thread, in batches on the process's
   * crypto threads (@c2m/identity's CryptoPool), as a peer validates a block's transactions in parallel.
   */
  readonly verifier: MessageVerifier;
  readonly validFromMs: number;
  readonly validToMs: number;
}

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

/**
 * The channel's MSPs: one CA certificate per org. An identity is valid for an
 * MSP when its certificate was issued and signed by that org's CA; results
 * are cached per certificate, since verifying the chain dominates otherwise.
 */
export class MspRegistry {
  readonly #cas = new Map<string, X509Certificate>();
  readonly #cache = new Map<string, ValidatedIdentity | IdentityError>();

  constructor(caCertificates: Readonly<Record<string, string>>) {
    for (const [mspId, pem] of Object.entries(caCertificates)) this.#cas.set(mspId, new X509Certificate(pem));
  }

  get mspIds(): string[] {
    return [...this.#cas.keys()];
  }

  /** Validates the identity for its MSP; `atMs` is the transaction time, so replays judge by the time of the transaction. */
  validate(mspId: string, certificatePem: string, atMs: number): ValidatedIdentity {
    const cacheKey = `${mspId}\u0000${certificatePem}`;
    let entry = this.#cache.get(cacheKey);
    if (!entry) {
      entry = this.#check(mspId, certificatePem);
      this.#cache.set(cacheKey, entry);
    }
    if (entry instanceof IdentityError) throw entry;
    if (atMs < entry.validFromMs || atMs > entry.validToMs) {
      throw new IdentityError(`certificate of ${mspId} is not valid at ${new Date(atMs).toISOString()}`);
    }
    return entry;
  }

  #check(mspId: string, pem: string): ValidatedIdentity | IdentityError {
    const ca = this.#cas.get(mspId);
    if (!ca) return new IdentityError(`MSP ${mspId} is not a member of the channel`);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch {
      return new IdentityError(`identity of ${mspId} is not an X.509 certificate`);
    }
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
      return new IdentityError(`certificate ${subjectCn(cert)} was not issued by the CA of ${mspId}`);
    }
    const publicKey = createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' }));
    const roles = new Set<MspRole>();
    for (const line of cert.subject.split('\n')) {
      const m = /^OU=(client|peer|admin|orderer)$/.exec(line.trim());
      if (m) roles.add(m[1] as MspRole);
    }
    return {
      mspId,
      certificatePem: pem,
      roles,
      publicKey,
      verifier: sharedCryptoPool().verifier(publicKey),
      validFromMs: Date.parse(cert.validFrom),
      validToMs: Date.parse(cert.validTo),
    };
  }
}

function subjectCn(cert: X509Certificate): string {
  return /CN=([^\n]*)/.exec(cert.subject)?.[1] ?? cert.subject;
}
