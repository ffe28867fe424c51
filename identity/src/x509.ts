// tsyringe (inside @peculiar/x509) needs the Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { type KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;

export { x509 };

/** Fabric CA's attribute extension; fabric-shim's ClientIdentity reads `{"attrs":{...}}` from it. */
export const FABRIC_ATTRS_OID = '1.2.3.4.5.6.7.8.1';

/**
 * Organisational units. client/peer/admin/orderer are Fabric's NodeOU classes; `device` deliberately is
 * not one of them, so with NodeOUs enabled a device certificate chains to its factory CA but is not a
 * valid MSP identity: a stolen device key can sign telemetry, never ledger transactions.
 */
export const OrganizationalUnits = {
  client: 'client',
  peer: 'peer',
  admin: 'admin',
  orderer: 'orderer',
  device: 'device',
  /** TLS endpoints of the device broker (its server certificate, the ingest's client certificate); not an MSP class either. */
  tls: 'tls',
} as const;
export type OrganizationalUnit = (typeof OrganizationalUnits)[keyof typeof OrganizationalUnits];

export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

const DAY_MS = 24 * 60 * 60 * 1000;
// Backdating absorbs clock skew between the issuing host and verifiers.
const BACKDATE_MS = 5 * 60 * 1000;

export function importSigningKey(privateKey: KeyObject): Promise<CryptoKey> {
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']) as Promise<CryptoKey>;
}

export function importVerifyingKey(publicKey: KeyObject): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('spki', spkiDer(publicKey), EC_ALGORITHM, true, ['verify']) as Promise<CryptoKey>;
}

export function spkiDer(publicKey: KeyObject): Uint8Array {
  return new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
}

/** A positive 128-bit serial (RFC 5280: unique per CA, at most 20 octets, non-negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** `notAfter` is capped at `until`: a certificate never outlives its CA (an adopted CA may expire sooner). */
function validity(days: number, until?: Date): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  const notAfter = Math.min(now + days * DAY_MS, until?.getTime() ?? Number.POSITIVE_INFINITY);
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(notAfter) };
}

export async function createCaCertificate(options: {
  commonName: string;
  mspId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  validityDays: number;
}): Promise<string> {
  const publicKey = spkiDer(options.publicKey);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ O: [options.mspId] }, { CN: [options.commonName] }],
    issuer: [{ O: [options.mspId] }, { CN: [options.commonName] }],
    ...validity(options.validityDays),
    publicKey,
    signingKey: await importSigningKey(options.privateKey),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      // pathLength 0: org CAs issue end-entity certificates only.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return cert.toString('pem');
}

export interface IssueOptions {
  readonly caCertificatePem: string;
  readonly caPrivateKey: KeyObject;
  /** SPKI DER of the subject's public key. */
  readonly publicKey: Uint8Array;
  readonly commonName: string;
  readonly ou: OrganizationalUnit;
  readonly mspId: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly validityDays: number;
  readonly clientAuth?: boolean;
  readonly serverAuth?: boolean;
  /** subjectAltName entries; TLS clients check the server's name against them. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/** Issues an end-entity certificate shaped like Fabric CA's: subject O/OU/CN, attrs extension, SKI/AKI. */
export async function issueCertificate(options: IssueOptions): Promise<string> {
  const ca = new x509.X509Certificate(options.caCertificatePem);
  const attrsJson = JSON.stringify({ attrs: options.attrs });
  // The AKI must repeat the CA's own SKI, whatever method made it: cryptogen uses SHA-256 of the key point,
  // not RFC 5280's SHA-1, and OpenSSL refuses a certificate whose AKI differs from its issuer's SKI.
  const caKeyId = ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(options.publicKey),
    caKeyId ? new x509.AuthorityKeyIdentifierExtension(caKeyId) : await x509.AuthorityKeyIdentifierExtension.create(ca),
    // Fabric CA writes the raw JSON bytes as the extension value (no inner ASN.1 wrapper).
    new x509.Extension(FABRIC_ATTRS_OID, false, new TextEncoder().encode(attrsJson)),
  ];
  const usages = [
    ...(options.clientAuth ? [x509.ExtendedKeyUsage.clientAuth] : []),
    ...(options.serverAuth ? [x509.ExtendedKeyUsage.serverAuth] : []),
  ];
  if (usages.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(usages));
  const altNames = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ O: [options.mspId] }, { OU: [options.ou] }, { CN: [options.commonName] }],
    // Fabric's MSP (Go) finds the issuer by comparing these bytes with the CA's subject bytes; the parsed name
    // re-serialises with its original string types (PrintableString, UTF8String), so they stay identical.
    issuer: ca.subjectName,
    ...validity(options.validityDays, ca.notAfter),
    publicKey: options.publicKey,
    signingKey: await importSigningKey(options.caPrivateKey),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return cert.toString('pem');
}
