import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IdentityStore } from '@c2m/identity';
import { Orgs } from '@c2m/shared';

/** The repository's Mosquitto configuration: services/mosquitto/ (mosquitto.conf and the two ACL files). */
export const MOSQUITTO_CONFIG_DIR = fileURLToPath(new URL('../../../mosquitto/', import.meta.url));

/** The CN of the ingest's client certificate; services.acl grants it read on device topics. */
export const INGEST_TLS_NAME = 'c2m-ingest';

export interface BrokerMaterialOptions {
  /** Names the broker is reached by (server certificate subjectAltName). */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

export interface BrokerMaterial {
  readonly dir: string;
  /** Trust anchor for clients checking the broker (devices and the ingest): the platform CA. */
  readonly platformCaFile: string;
  readonly ingestCertFile: string;
  readonly ingestKeyFile: string;
}

/**
 * Writes what the broker configuration refers to: the factory CA bundle the
 * device listener trusts, the platform CA the services listener trusts, the
 * broker's server certificate, the ingest's client certificate, and the ACL
 * files. Run again when a factory joins (its CA enters the bundle) and before
 * the certificates expire.
 */
export async function writeBrokerMaterial(
  identity: IdentityStore,
  dir: string,
  options: BrokerMaterialOptions = {},
): Promise<BrokerMaterial> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const cas = identity.caCertificates();
  const factoryCas = identity
    .orgs()
    .filter((o) => o.kind === 'factory')
    .map((o) => o.caCertificatePem.trim())
    .join('\n');
  const platformCa = cas[Orgs.platform];
  if (!platformCa) throw new Error('the identity store has no PlatformOrg CA');
  const server = await identity.issueTlsCertificate(Orgs.platform, {
    commonName: 'c2m-broker',
    usage: 'server',
    dnsNames: options.dnsNames ?? ['localhost'],
    ipAddresses: options.ipAddresses ?? ['127.0.0.1'],
  });
  const ingest = await identity.issueTlsCertificate(Orgs.platform, { commonName: INGEST_TLS_NAME, usage: 'client' });
  const file = (name: string) => path.join(dir, name);
  await writeFile(file('factory-cas.pem'), `${factoryCas}\n`);
  await writeFile(file('platform-ca.pem'), platformCa);
  await writeFile(file('broker-cert.pem'), server.certificatePem);
  await writeFile(file('broker-key.pem'), server.privateKeyPem, { mode: 0o600 });
  await writeFile(file('ingest-cert.pem'), ingest.certificatePem);
  await writeFile(file('ingest-key.pem'), ingest.privateKeyPem, { mode: 0o600 });
  for (const acl of ['devices.acl', 'services.acl']) await copyFile(path.join(MOSQUITTO_CONFIG_DIR, acl), file(acl));
  return {
    dir,
    platformCaFile: file('platform-ca.pem'),
    ingestCertFile: file('ingest-cert.pem'),
    ingestKeyFile: file('ingest-key.pem'),
  };
}
