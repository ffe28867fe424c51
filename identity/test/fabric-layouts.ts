/**
 * Org CAs as Fabric's tools leave them on disk, made with @peculiar/x509 like the store's own: a Fabric CA
 * server home and cryptogen's organizations/ folder, with the details that matter for adoption (subject
 * names that are not the MSP id, cryptogen's SHA-256 key identifiers, a TLS key beside the CA key).
 */
import { createHash, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importSigningKey, SIGNING_ALGORITHM, spkiDer, x509 } from '../src/x509.js';

export interface TestCa {
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
  /** PKCS#8 PEM, as Fabric CA's keystore and cryptogen's priv_sk hold it. */
  readonly keyPem: string;
}

export interface TestCaOptions {
  readonly subject: string;
  /** Defaults to true; false makes an end-entity certificate (for the "not a CA" case). */
  readonly ca?: boolean;
  readonly keyUsage?: number;
  /** `sha256`: cryptogen's key identifier (SHA-256 of the key point); `sha1`: RFC 5280's, as cfssl/Fabric CA. */
  readonly ski?: 'sha1' | 'sha256';
  readonly pathLength?: number;
  readonly notAfter?: Date;
  readonly curve?: 'P-256' | 'P-384';
}

let serial = 0x1000;

export async function makeCa(options: TestCaOptions): Promise<TestCa> {
  const curve = options.curve ?? 'P-256';
  const keys = generateKeyPairSync('ec', { namedCurve: curve });
  const publicKey = spkiDer(keys.publicKey);
  const jwk = keys.publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const ski =
    options.ski === 'sha256'
      ? new x509.SubjectKeyIdentifierExtension(createHash('sha256').update(point).digest('hex'))
      : await x509.SubjectKeyIdentifierExtension.create(publicKey);
  const isCa = options.ca ?? true;
  const signingKey =
    curve === 'P-256'
      ? await importSigningKey(keys.privateKey)
      : await globalThis.crypto.subtle.importKey(
          'pkcs8',
          keys.privateKey.export({ type: 'pkcs8', format: 'der' }),
          { name: 'ECDSA', namedCurve: curve },
          false,
          ['sign'],
        );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16),
    subject: options.subject,
    issuer: options.subject,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 5 * 365 * 24 * 3600_000),
    publicKey,
    signingKey,
    signingAlgorithm: { ...SIGNING_ALGORITHM, hash: curve === 'P-256' ? 'SHA-256' : 'SHA-384' },
    extensions: [
      new x509.BasicConstraintsExtension(isCa, isCa ? options.pathLength : undefined, true),
      new x509.KeyUsagesExtension(
        options.keyUsage ??
          (isCa
            ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature
            : x509.KeyUsageFlags.digitalSignature),
        true,
      ),
      ski,
    ],
  });
  return {
    certificatePem: cert.toString('pem'),
    privateKey: keys.privateKey,
    keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

/** Subject of a Fabric CA server's own certificate with this repo's csr settings (network/fabric/ca/…). */
export function fabricCaSubject(short: string, org: string): string {
  return `C=CN, ST=Zhejiang, L=Ningbo, O=${org}, CN=ca.${short}.c2m.local`;
}

/** Subject cryptogen gives an org CA: O is the org's domain, not its MSP id. */
export function cryptogenCaSubject(domain: string): string {
  return `C=US, ST=California, L=San Francisco, O=${domain}, CN=ca.${domain}`;
}

/** Fabric CA names keystore files by the key's SKI (hex SHA-256 of the point) plus `_sk`. */
function skiName(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return `${createHash('sha256').update(point).digest('hex')}_sk`;
}

/**
 * A Fabric CA server home: ca-cert.pem, tls-cert.pem and msp/keystore with the CA key and the TLS key (SEC1,
 * under a name that sorts first, so picking by name alone would take the wrong one).
 */
export async function writeFabricCaServerHome(home: string, ca: TestCa): Promise<void> {
  const keystore = join(home, 'msp', 'keystore');
  await mkdir(keystore, { recursive: true });
  const tls = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(home, 'ca-cert.pem'), ca.certificatePem);
  await writeFile(join(home, 'tls-cert.pem'), ca.certificatePem);
  await writeFile(join(home, 'fabric-ca-server-config.yaml'), 'version: 1.5.0\n');
  await writeFile(
    join(keystore, `0${skiName(tls.privateKey)}`),
    tls.privateKey.export({ type: 'sec1', format: 'pem' }),
    {
      mode: 0o600,
    },
  );
  await writeFile(join(keystore, skiName(ca.privateKey)), ca.keyPem, { mode: 0o600 });
  await writeFile(join(keystore, 'IssuerSecretKey'), 'not a PEM key');
}

/** cryptogen's org folder: ca/ca.<domain>-cert.pem + priv_sk, tlsca/ with its own pair, msp/cacerts. */
export async function writeCryptogenOrg(
  organizationsDir: string,
  kind: 'peerOrganizations' | 'ordererOrganizations',
  domain: string,
  ca: TestCa,
): Promise<string> {
  const orgDir = join(organizationsDir, kind, domain);
  await mkdir(join(orgDir, 'ca'), { recursive: true });
  await mkdir(join(orgDir, 'tlsca'), { recursive: true });
  await mkdir(join(orgDir, 'msp', 'cacerts'), { recursive: true });
  await writeFile(join(orgDir, 'ca', `ca.${domain}-cert.pem`), ca.certificatePem);
  await writeFile(join(orgDir, 'ca', 'priv_sk'), ca.keyPem, { mode: 0o600 });
  await writeFile(join(orgDir, 'msp', 'cacerts', `ca.${domain}-cert.pem`), ca.certificatePem);
  const tlsca = await makeCa({ subject: `C=US, O=${domain}, CN=tlsca.${domain}`, ski: 'sha256' });
  await writeFile(join(orgDir, 'tlsca', `tlsca.${domain}-cert.pem`), tlsca.certificatePem);
  await writeFile(join(orgDir, 'tlsca', 'priv_sk'), tlsca.keyPem, { mode: 0o600 });
  return orgDir;
}

/** The raw DER of a certificate's issuer and subject names (a minimal DER walk): Go compares these bytes. */
export function rawNames(pem: string): { issuer: Buffer; subject: Buffer } {
  const der = Buffer.from(new X509Certificate(pem).raw);
  const cert = tlv(der, 0);
  const tbs = children(der, cert)[0]!;
  const fields = children(der, tbs);
  // tbsCertificate: [0] version?, serial, signature, issuer, validity, subject, …
  const i = fields[0]!.tag === 0xa0 ? 1 : 0;
  const slice = (f: Tlv) => der.subarray(f.start, f.end);
  return { issuer: slice(fields[i + 2]!), subject: slice(fields[i + 4]!) };
}

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

function tlv(buf: Buffer, offset: number): Tlv {
  const tag = buf[offset]!;
  let length = buf[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    length = 0;
    for (let k = 0; k < n; k++) length = length * 256 + buf[offset + 2 + k]!;
    header = 2 + n;
  }
  return { tag, start: offset, contentStart: offset + header, end: offset + header + length };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let o = parent.contentStart; o < parent.end; ) {
    const child = tlv(buf, o);
    out.push(child);
    o = child.end;
  }
  return out;
}
