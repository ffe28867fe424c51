import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CodedError, ErrorCodes } from '@c2m/shared';
import { certificateFingerprint } from './certificates.js';
import { x509 } from './x509.js';

/**
 * An existing org CA for the store to issue from instead of making its own, e.g. the Fabric CA or cryptogen
 * CA whose certificate is the org's root in the channel's MSP. Give the certificate and the key each either
 * inline or as a path.
 */
export interface AdoptedCaMaterial {
  readonly certificatePem?: string;
  readonly certPath?: string;
  readonly privateKeyPem?: string;
  /**
   * A PEM private key file, or a folder of them (a Fabric CA server's `msp/keystore`, which also holds its
   * TLS key): the one key that matches the certificate is used.
   */
  readonly keyPath?: string;
}

/** Where a Fabric tool left an org CA's certificate and key. */
export interface CaFiles {
  readonly layout: 'fabric-ca-server' | 'cryptogen';
  readonly certPath: string;
  readonly keyPath: string;
}

/** An adopted CA after every check: what the store writes into `ca/<mspId>/`. */
export interface CheckedCa {
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
  readonly fingerprint: string;
  /** Where it came from, for `adopted.json` and messages. */
  readonly source: { readonly certificate: string; readonly key: string };
}

const CERT_BEGIN = '-----BEGIN CERTIFICATE-----';

function invalid(mspId: string, why: string): CodedError {
  return new CodedError(ErrorCodes.VALIDATION_FAILED, `CA of ${mspId}: ${why}`);
}

/**
 * Finds an org CA's certificate and private key in the layouts Fabric's tools write:
 * - a Fabric CA server home (`FABRIC_CA_SERVER_HOME`): `ca-cert.pem` and `msp/keystore/*_sk`; the keystore
 *   also holds the server's TLS key, so the key that matches the certificate is picked;
 * - a cryptogen org folder (`…/peerOrganizations/<domain>` or `…/ordererOrganizations/<domain>`), or its
 *   `ca/` folder: `ca/ca.<domain>-cert.pem` and `ca/priv_sk`;
 * - cryptogen's output folder (holding `peerOrganizations/`, `ordererOrganizations/`) with `options.domain`.
 * Throws `VALIDATION_FAILED` naming what was looked for when nothing fits.
 */
export async function findCaFiles(dir: string, options: { readonly domain?: string } = {}): Promise<CaFiles> {
  const fabricCaCert = join(dir, 'ca-cert.pem');
  if (await isFile(fabricCaCert)) {
    const certificatePem = await readFile(fabricCaCert, 'utf8');
    const keystore = join(dir, 'msp', 'keystore');
    const keyPath = await matchingKeyFile(certificatePem, keystore, `Fabric CA server home ${dir}`);
    return { layout: 'fabric-ca-server', certPath: fabricCaCert, keyPath };
  }
  const orgDirs = options.domain
    ? [join(dir, 'peerOrganizations', options.domain), join(dir, 'ordererOrganizations', options.domain)]
    : [dir];
  for (const orgDir of orgDirs) {
    // An org folder holds ca/; the ca/ folder itself is accepted too (its parent names the domain).
    const caDir = basename(orgDir) === 'ca' ? orgDir : join(orgDir, 'ca');
    const domain = basename(caDir === orgDir ? join(orgDir, '..') : orgDir);
    const certPath = join(caDir, `ca.${domain}-cert.pem`);
    if (await isFile(certPath)) {
      const keyPath = await matchingKeyFile(await readFile(certPath, 'utf8'), caDir, `cryptogen CA folder ${caDir}`);
      return { layout: 'cryptogen', certPath, keyPath };
    }
  }
  const looked = options.domain
    ? `${join(dir, '{peer,orderer}Organizations', options.domain, 'ca', `ca.${options.domain}-cert.pem`)}`
    : `${fabricCaCert} (Fabric CA server home) or ${join(dir, 'ca', `ca.${basename(dir)}-cert.pem`)} (cryptogen org)`;
  throw new CodedError(ErrorCodes.VALIDATION_FAILED, `no CA certificate found: looked for ${looked}`);
}

/**
 * Reads and checks an adopted CA: one certificate, a CA (basicConstraints CA, keyCertSign when key usage is
 * present), valid now, self-signed when it says so (issuer = subject), an ECDSA P-256 key (the store issues
 * with P-256/SHA-256), and a private key that matches it. Throws `VALIDATION_FAILED`; reads only.
 */
export async function checkAdoptedCa(mspId: string, material: AdoptedCaMaterial): Promise<CheckedCa> {
  if ((material.certificatePem === undefined) === (material.certPath === undefined)) {
    throw invalid(mspId, 'give exactly one of certificatePem and certPath');
  }
  if ((material.privateKeyPem === undefined) === (material.keyPath === undefined)) {
    throw invalid(mspId, 'give exactly one of privateKeyPem and keyPath');
  }
  const certSource = material.certPath ?? 'certificatePem';
  const certificatePem =
    material.certificatePem ??
    (await readFile(material.certPath!, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw invalid(mspId, `cannot read certificate ${material.certPath}: ${err.code ?? err.message}`);
    }));
  const problem = caCertificateProblem(certificatePem);
  if (problem) throw invalid(mspId, `${certSource}: ${problem}`);

  let privateKey: KeyObject;
  let keySource: string;
  if (material.privateKeyPem !== undefined) {
    keySource = 'privateKeyPem';
    try {
      privateKey = createPrivateKey(material.privateKeyPem);
    } catch {
      throw invalid(mspId, 'privateKeyPem is not a PEM private key');
    }
  } else {
    const path = material.keyPath!;
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw invalid(mspId, `cannot read key ${path}: ${err.code ?? err.message}`);
    });
    keySource = info.isDirectory() ? await matchingKeyFile(certificatePem, path, path, mspId) : path;
    const pem = await readFile(keySource, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw invalid(mspId, `cannot read key ${keySource}: ${err.code ?? err.message}`);
    });
    try {
      privateKey = createPrivateKey(pem);
    } catch {
      throw invalid(mspId, `${keySource} is not a PEM private key`);
    }
  }
  if (!keyMatchesCertificate(privateKey, certificatePem)) {
    throw invalid(mspId, `the key ${keySource} does not match the certificate ${certSource}`);
  }
  return {
    certificatePem: normalisePem(certificatePem),
    privateKey,
    fingerprint: certificateFingerprint(certificatePem),
    source: { certificate: certSource, key: keySource },
  };
}

/**
 * Why `pem` cannot serve as an org CA, or undefined when it can. Also used when the store reloads an adopted
 * CA, whose subject need not carry the MSP id (Fabric CA's says O=<org domain> or O=Hyperledger).
 */
export function caCertificateProblem(pem: string, at: Date = new Date()): string | undefined {
  const count = pem.split(CERT_BEGIN).length - 1;
  if (count !== 1) return `expected one PEM certificate, found ${count}`;
  let cert: X509Certificate;
  let parsed: x509.X509Certificate;
  try {
    cert = new X509Certificate(pem);
    parsed = new x509.X509Certificate(pem);
  } catch {
    return 'not a readable X.509 certificate';
  }
  if (!parsed.getExtension(x509.BasicConstraintsExtension)?.ca) {
    return 'not a CA certificate (basicConstraints CA is not set)';
  }
  const usage = parsed.getExtension(x509.KeyUsagesExtension);
  if (usage && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    return 'its key usage does not allow signing certificates (keyCertSign)';
  }
  // What verifiers here (OpenSSL) accept as an issuer; the two checks above say why when it is not.
  if (!cert.ca) return 'not accepted as a CA certificate by OpenSSL';
  const t = at.getTime();
  if (t < Date.parse(cert.validFrom) || t > Date.parse(cert.validTo)) {
    return `not valid now (valid ${cert.validFrom} to ${cert.validTo})`;
  }
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    return 'its key is not ECDSA P-256 (the store issues with P-256 and SHA-256)';
  }
  // A root must verify under its own key; an intermediate CA's chain is the channel MSP's business.
  if (cert.issuer === cert.subject && !cert.verify(key)) return 'self-signed, but its signature does not verify';
  return undefined;
}

export function keyMatchesCertificate(privateKey: KeyObject, certificatePem: string): boolean {
  try {
    const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const fromCert = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
}

/** The one file in `dir` holding the private key of `certificatePem`; other keys and non-key files are skipped. */
async function matchingKeyFile(certificatePem: string, dir: string, what: string, mspId?: string): Promise<string> {
  const fail = (why: string) =>
    mspId ? invalid(mspId, why) : new CodedError(ErrorCodes.VALIDATION_FAILED, `${what}: ${why}`);
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    throw fail(`cannot list ${dir}: ${err.code ?? err.message}`);
  });
  let keys = 0;
  const unreadable: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    if (!(await isFile(path))) continue;
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      unreadable.push(`${name} (${err.code ?? err.message})`);
      return undefined;
    });
    if (!text?.includes('PRIVATE KEY-----')) continue;
    let key: KeyObject;
    try {
      key = createPrivateKey(text);
    } catch {
      continue;
    }
    keys++;
    if (keyMatchesCertificate(key, certificatePem)) return path;
  }
  // A keystore written by another user (a CA container running as root) shows up here, not as a mismatch.
  const also = unreadable.length > 0 ? `; cannot read ${unreadable.join(', ')}` : '';
  throw fail(
    keys === 0
      ? `no PEM private key in ${dir}${also}`
      : `none of the ${keys} private keys in ${dir} matches the CA certificate${also}`,
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** One certificate, LF line ends, one trailing newline: what the store writes and compares. */
function normalisePem(pem: string): string {
  return `${new X509Certificate(pem).toString().trim()}\n`;
}
