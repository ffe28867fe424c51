import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { FABRIC_ATTRS_OID, x509 } from './x509.js';

/** What a ledger or service needs to know about an identity certificate. */
export interface IdentityCertificateInfo {
  readonly commonName: string;
  /** The subject's O, which is the MSP id for certificates issued by this package (and by Fabric CA here). */
  readonly mspId: string;
  readonly ous: readonly string[];
  /** Fabric CA attributes (extension 1.2.3.4.5.6.7.8.1); empty when absent. */
  readonly attrs: Readonly<Record<string, string>>;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Hex SHA-256 of the DER encoding. */
  readonly fingerprint: string;
  readonly serialNumber: string;
  readonly issuerCommonName: string;
}

/** Hex SHA-256 of the certificate's DER encoding (lower case, no separators). */
export function certificateFingerprint(certificatePem: string): string {
  return createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
}

export function publicKeyFromCertificate(certificatePem: string): KeyObject {
  return new X509Certificate(certificatePem).publicKey;
}

/**
 * True when `certificatePem` was issued and signed by the CA in `caCertificatePem` (a CA certificate) and
 * both are valid at `at` (default now). Malformed input gives false, never an exception.
 */
export function verifyCertificateChain(
  certificatePem: string,
  caCertificatePem: string,
  at: Date = new Date(),
): boolean {
  try {
    const cert = new X509Certificate(certificatePem);
    const ca = new X509Certificate(caCertificatePem);
    if (!ca.ca) return false;
    // checkIssued compares issuer/subject names and key identifiers; verify checks the signature itself.
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    return withinValidity(cert, at) && withinValidity(ca, at);
  } catch {
    return false;
  }
}

function withinValidity(cert: X509Certificate, at: Date): boolean {
  const t = at.getTime();
  return Date.parse(cert.validFrom) <= t && t <= Date.parse(cert.validTo);
}

/** Reads subject, Fabric attributes and validity from a PEM certificate. Throws on malformed input. */
export function parseIdentityCertificate(certificatePem: string): IdentityCertificateInfo {
  const cert = new x509.X509Certificate(certificatePem);
  return {
    commonName: cert.subjectName.getField('CN')[0] ?? '',
    mspId: cert.subjectName.getField('O')[0] ?? '',
    ous: cert.subjectName.getField('OU'),
    attrs: readFabricAttributes(cert),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    fingerprint: createHash('sha256').update(new Uint8Array(cert.rawData)).digest('hex'),
    serialNumber: cert.serialNumber,
    issuerCommonName: cert.issuerName.getField('CN')[0] ?? '',
  };
}

function readFabricAttributes(cert: x509.X509Certificate): Record<string, string> {
  const ext = cert.getExtension(FABRIC_ATTRS_OID);
  if (!ext) return {};
  const parsed = JSON.parse(new TextDecoder().decode(ext.value)) as { attrs?: Record<string, unknown> };
  const attrs: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.attrs ?? {})) {
    if (typeof value === 'string') attrs[name] = value;
  }
  return attrs;
}
