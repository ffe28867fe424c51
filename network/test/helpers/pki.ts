/**
 * Throwaway MSP material for tests: one CA per org, peer and user
 * certificates carrying Fabric CA's attribute extension and NodeOU. Keeps the
 * tests independent of @c2m/identity's on-disk store.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

import type { LedgerIdentity } from '@c2m/shared';
import { p256 } from '@noble/curves/p256';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const ATTR_OID = '1.2.3.4.5.6.7.8.1';

export interface TestOrg {
  readonly mspId: string;
  readonly caPem: string;
  readonly peer: LedgerIdentity;
  user(name: string, role?: string, ou?: 'client' | 'admin'): Promise<LedgerIdentity>;
}

let serial = 1;

async function issue(
  caKeys: CryptoKeyPair | undefined,
  issuer: string | undefined,
  subject: string,
  extensions: x509.Extension[],
): Promise<{ pem: string; keys: CryptoKeyPair }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 24 * 3600_000);
  const notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(4, '0'),
    subject,
    issuer: issuer ?? subject,
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: (caKeys ?? keys).privateKey,
    extensions,
  });
  return { pem: cert.toString('pem'), keys };
}

async function signerFor(keys: CryptoKeyPair): Promise<(digest: Uint8Array) => Promise<Uint8Array>> {
  const jwk = await webcrypto.subtle.exportKey('jwk', keys.privateKey);
  const d = Buffer.from(jwk.d!, 'base64url');
  return async (digest) => p256.sign(digest, d, { lowS: true }).toDERRawBytes();
}

export async function createTestOrg(mspId: string): Promise<TestOrg> {
  const caSubject = `CN=ca.${mspId.toLowerCase()},O=${mspId}`;
  const ca = await issue(undefined, undefined, caSubject, [new x509.BasicConstraintsExtension(true, 0, true)]);
  const identity = async (name: string, ou: string, role?: string): Promise<LedgerIdentity> => {
    const ext: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
    if (role) ext.push(new x509.Extension(ATTR_OID, false, Buffer.from(JSON.stringify({ attrs: { role } }))));
    const { pem, keys } = await issue(ca.keys, caSubject, `CN=${name},OU=${ou},O=${mspId}`, ext);
    return { mspId, certificatePem: pem, sign: await signerFor(keys) };
  };
  const peer = await identity(`peer0.${mspId.toLowerCase()}`, 'peer');
  return {
    mspId,
    caPem: ca.pem,
    peer,
    user: (name, role, ou = 'client') => identity(name, ou, role),
  };
}

export async function createTestConsortium(mspIds: readonly string[]): Promise<Record<string, TestOrg>> {
  const orgs: Record<string, TestOrg> = {};
  for (const m of mspIds) orgs[m] = await createTestOrg(m);
  return orgs;
}
