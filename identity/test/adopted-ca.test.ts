import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { CodedError, ErrorCodes, Orgs, ROLE_ATTRIBUTE, Roles } from '@c2m/shared';
import {
  type AdoptedCaMaterial,
  createDeviceCsr,
  demoConsortium,
  demoUsers,
  FABRIC_ATTRS_OID,
  findCaFiles,
  generateDeviceKeyPair,
  type OrgDescription,
  openIdentityStore,
  parseIdentityCertificate,
  verifyCertificateChain,
} from '../src/index.js';
import { x509 } from '../src/x509.js';
import {
  cryptogenCaSubject,
  fabricCaSubject,
  makeCa,
  rawNames,
  type TestCa,
  writeCryptogenOrg,
  writeFabricCaServerHome,
} from './fabric-layouts.js';
import { tempDir } from './helpers.js';

const require = createRequire(import.meta.url);
const { ClientIdentity } = require('fabric-shim') as {
  ClientIdentity: new (stub: unknown) => { getMSPID(): string; getAttributeValue(name: string): string | null };
};

function clientIdentityOf(identity: { mspId: string; certificatePem: string }) {
  return new ClientIdentity({
    getChannelID: () => 'c2m',
    getTxID: () => 'tx1',
    getCreator: () => ({ mspid: identity.mspId, idBytes: new TextEncoder().encode(identity.certificatePem) }),
  });
}

function fingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/** Every file under `dir`: content hash and mode, to prove a refused open changed nothing. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else {
        const hash = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
        out[relative(dir, path)] = `${hash} ${((await stat(path)).mode & 0o777).toString(8)}`;
      }
    }
  };
  await walk(dir);
  return out;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function coded(code: string, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof CodedError, `expected a CodedError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

const platformOnly: readonly OrgDescription[] = demoConsortium.filter((o) => o.mspId === Orgs.platform);

describe('identity store on adopted CAs (Fabric CA server homes and cryptogen folders)', async () => {
  const root = await tempDir();
  // PlatformOrg and BrandOrg: Fabric CA servers (this repo's csr names; Fabric CA's defaults for BrandOrg).
  const fabricCas: Record<string, TestCa> = {
    [Orgs.platform]: await makeCa({ subject: fabricCaSubject('platform', Orgs.platform), pathLength: 1 }),
    [Orgs.brand]: await makeCa({
      subject: 'C=US, ST=North Carolina, O=Hyperledger, OU=Fabric, CN=fabric-ca-server',
      pathLength: 1,
    }),
  };
  await writeFabricCaServerHome(join(root, 'fabric-ca', 'platform'), fabricCas[Orgs.platform]!);
  await writeFabricCaServerHome(join(root, 'fabric-ca', 'brand'), fabricCas[Orgs.brand]!);
  // The factories from cryptogen's peerOrganizations, FinanceOrg from its ordererOrganizations (the lookup the
  // orderer org needs), all with O=<domain> and SHA-256 key identifiers.
  const organizations = join(root, 'organizations');
  const cryptogenCas: Record<string, TestCa> = {};
  for (const [mspId, domain, kind] of [
    [Orgs.factory1, 'factory1.c2m.local', 'peerOrganizations'],
    [Orgs.factory2, 'factory2.c2m.local', 'peerOrganizations'],
    [Orgs.finance, 'finance.c2m.local', 'ordererOrganizations'],
  ] as const) {
    // FinanceOrg's CA expires in 400 days, before the 730 days users get: their certificates stop with it.
    const notAfter = mspId === Orgs.finance ? new Date(Date.now() + 400 * 24 * 3600_000) : undefined;
    cryptogenCas[mspId] = await makeCa({ subject: cryptogenCaSubject(domain), ski: 'sha256', notAfter });
    await writeCryptogenOrg(organizations, kind, domain, cryptogenCas[mspId]!);
  }
  const cas: Record<string, TestCa> = { ...fabricCas, ...cryptogenCas };

  const platformFiles = await findCaFiles(join(root, 'fabric-ca', 'platform'));
  const brandFiles = await findCaFiles(join(root, 'fabric-ca', 'brand'));
  const factory1Files = await findCaFiles(organizations, { domain: 'factory1.c2m.local' });
  const factory2Files = await findCaFiles(join(organizations, 'peerOrganizations', 'factory2.c2m.local'));
  const financeFiles = await findCaFiles(join(organizations, 'ordererOrganizations', 'finance.c2m.local', 'ca'));
  const caMaterial: Record<string, AdoptedCaMaterial> = {
    [Orgs.platform]: { certPath: platformFiles.certPath, keyPath: platformFiles.keyPath },
    // A keystore folder as keyPath: the store picks the key that matches, as the settings file relies on.
    [Orgs.brand]: { certPath: brandFiles.certPath, keyPath: join(root, 'fabric-ca', 'brand', 'msp', 'keystore') },
    [Orgs.factory1]: { certPath: factory1Files.certPath, keyPath: factory1Files.keyPath },
    [Orgs.factory2]: { certPath: factory2Files.certPath, keyPath: factory2Files.keyPath },
    [Orgs.finance]: {
      certificatePem: await readFile(financeFiles.certPath, 'utf8'),
      privateKeyPem: await readFile(financeFiles.keyPath, 'utf8'),
    },
  };
  const dataDir = join(root, 'identity');
  const store = await openIdentityStore({ dataDir, caMaterial });

  it('finds the CA certificate and the matching key in both layouts', () => {
    assert.equal(platformFiles.layout, 'fabric-ca-server');
    assert.equal(platformFiles.certPath, join(root, 'fabric-ca', 'platform', 'ca-cert.pem'));
    assert.match(platformFiles.keyPath, /msp\/keystore\/[0-9a-f]{64}_sk$/);
    assert.doesNotMatch(platformFiles.keyPath, /\/0[0-9a-f]{64}_sk$/, 'not the TLS key that sorts first');
    for (const [files, domain, kind] of [
      [factory1Files, 'factory1.c2m.local', 'peerOrganizations'],
      [factory2Files, 'factory2.c2m.local', 'peerOrganizations'],
      [financeFiles, 'finance.c2m.local', 'ordererOrganizations'],
    ] as const) {
      assert.equal(files.layout, 'cryptogen');
      assert.equal(files.certPath, join(organizations, kind, domain, 'ca', `ca.${domain}-cert.pem`));
      assert.equal(files.keyPath, join(organizations, kind, domain, 'ca', 'priv_sk'));
    }
  });

  it('serves the adopted CAs as the org roots and keeps a private copy of each key', async () => {
    for (const [mspId, ca] of Object.entries(cas)) {
      assert.equal(fingerprint(store.caCertificates()[mspId]!), fingerprint(ca.certificatePem), mspId);
      const caDir = join(dataDir, 'ca', mspId);
      const keyPath = join(caDir, 'ca-key.pem');
      assert.equal((await stat(keyPath)).mode & 0o777, 0o600, `${mspId} CA key is 0600`);
      const copied = createPublicKey(createPrivateKey(await readFile(keyPath, 'utf8'))).export({
        type: 'spki',
        format: 'der',
      });
      assert.ok(copied.equals(createPublicKey(ca.privateKey).export({ type: 'spki', format: 'der' })));
      const record = JSON.parse(await readFile(join(caDir, 'adopted.json'), 'utf8')) as { fingerprint: string };
      assert.equal(record.fingerprint, fingerprint(ca.certificatePem));
      assert.equal(
        fingerprint(await readFile(join(dataDir, 'msp', mspId, 'cacerts', 'ca.pem'), 'utf8')),
        fingerprint(ca.certificatePem),
      );
    }
    // The adopted subjects do not carry the MSP id, and that is accepted for them.
    assert.equal(parseIdentityCertificate(cas[Orgs.factory1]!.certificatePem).mspId, 'factory1.c2m.local');
    assert.equal(parseIdentityCertificate(cas[Orgs.brand]!.certificatePem).mspId, 'Hyperledger');
  });

  it('issues every peer and user certificate from its adopted CA, in the shape Fabric checks', () => {
    const identities = [
      ...store.orgs().map((o) => ({ name: 'peer0', identity: store.peerIdentity(o.mspId), ou: 'peer', role: 'peer' })),
      ...demoUsers.map((u) => ({
        name: u.username,
        identity: store.userIdentity(u.username),
        ou: u.role === Roles.admin ? 'admin' : 'client',
        role: u.role as string,
      })),
    ];
    assert.equal(identities.length, 11);
    for (const { name, identity, ou, role } of identities) {
      const ca = cas[identity.mspId]!;
      const label = `${name}@${identity.mspId}`;
      assert.ok(verifyCertificateChain(identity.certificatePem, ca.certificatePem), `${label} chains to adopted CA`);
      for (const [other, otherCa] of Object.entries(cas)) {
        if (other !== identity.mspId)
          assert.ok(!verifyCertificateChain(identity.certificatePem, otherCa.certificatePem));
      }
      // Fabric's MSP (Go) looks the issuer up by these exact bytes, and by AKI = the CA's SKI.
      assert.ok(rawNames(identity.certificatePem).issuer.equals(rawNames(ca.certificatePem).subject), label);
      const cert = new x509.X509Certificate(identity.certificatePem);
      const caCert = new x509.X509Certificate(ca.certificatePem);
      assert.equal(
        cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId,
        caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
        `${label} AKI = CA SKI`,
      );
      const info = parseIdentityCertificate(identity.certificatePem);
      assert.deepEqual(info.ous, [ou], label);
      assert.ok(info.notAfter.getTime() <= caCert.notAfter.getTime(), `${label} does not outlive its CA`);
      assert.equal(info.attrs[ROLE_ATTRIBUTE], role, label);
      // Fabric CA's attribute extension: OID 1.2.3.4.5.6.7.8.1, value the raw JSON {"attrs":{...}}.
      const attrs = cert.getExtension(FABRIC_ATTRS_OID);
      assert.equal(FABRIC_ATTRS_OID, '1.2.3.4.5.6.7.8.1');
      assert.ok(attrs && !attrs.critical);
      const json = JSON.parse(new TextDecoder().decode(attrs.value)) as { attrs: Record<string, string> };
      assert.deepEqual(Object.keys(json), ['attrs']);
      assert.equal(json.attrs.role, role);
      const cid = clientIdentityOf(identity);
      assert.equal(cid.getMSPID(), identity.mspId);
      assert.equal(cid.getAttributeValue('role'), role, `${label}: fabric-shim reads the role`);
    }
  });

  it('issues device certificates from the adopted factory CA: OU=device, role device, clientAuth', async () => {
    const { privateKey, publicKey } = generateDeviceKeyPair();
    const csr = await createDeviceCsr(privateKey, publicKey, { deviceId: 'F1-KNIT-001', mspId: Orgs.factory1 });
    const pem = await store.issueDeviceCertificate(Orgs.factory1, csr, { deviceId: 'F1-KNIT-001' });
    assert.ok(verifyCertificateChain(pem, cas[Orgs.factory1]!.certificatePem));
    assert.ok(!verifyCertificateChain(pem, cas[Orgs.factory2]!.certificatePem));
    assert.ok(rawNames(pem).issuer.equals(rawNames(cas[Orgs.factory1]!.certificatePem).subject));
    const info = parseIdentityCertificate(pem);
    assert.deepEqual(info.ous, ['device']);
    assert.equal(info.attrs[ROLE_ATTRIBUTE], Roles.device);
    assert.equal(clientIdentityOf({ mspId: Orgs.factory1, certificatePem: pem }).getAttributeValue('role'), 'device');
    assert.deepEqual(new X509Certificate(pem).keyUsage, ['1.3.6.1.5.5.7.3.2']);
  });

  it('reopens the same: with the same caMaterial, and without it (the data dir holds the adopted CAs)', async () => {
    const before = await snapshot(dataDir);
    const again = await openIdentityStore({ dataDir, caMaterial });
    const plain = await openIdentityStore({ dataDir });
    for (const reopened of [again, plain]) {
      assert.deepEqual(reopened.caCertificates(), store.caCertificates());
      for (const u of demoUsers) {
        assert.equal(reopened.userIdentity(u.username).certificatePem, store.userIdentity(u.username).certificatePem);
      }
    }
    assert.deepEqual(await snapshot(dataDir), before);
    assert.ok(await plain.authenticate('factory1', 'demo'));
  });

  it('refuses a different adopted CA for a data dir that has one, with CONFLICT, and changes nothing', async () => {
    const before = await snapshot(dataDir);
    const other = await makeCa({ subject: cryptogenCaSubject('factory1.c2m.local'), ski: 'sha256' });
    await assert.rejects(
      openIdentityStore({
        dataDir,
        caMaterial: {
          ...caMaterial,
          [Orgs.factory1]: { certificatePem: other.certificatePem, privateKeyPem: other.keyPem },
        },
      }),
      coded(ErrorCodes.CONFLICT, /Factory1Org \(data dir has another adopted CA/),
    );
    assert.deepEqual(await snapshot(dataDir), before);
  });
});

describe('adopting CAs: refusals', async () => {
  const root = await tempDir();
  const good = await makeCa({ subject: fabricCaSubject('platform', Orgs.platform) });
  const open = (dataDir: string, material: AdoptedCaMaterial) =>
    openIdentityStore({ dataDir, consortium: platformOnly, caMaterial: { [Orgs.platform]: material } });

  it('refuses a key that does not match the certificate; a fresh data dir is not even created', async () => {
    const other = await makeCa({ subject: fabricCaSubject('platform', Orgs.platform) });
    const dataDir = join(root, 'mismatched');
    await assert.rejects(
      open(dataDir, { certificatePem: good.certificatePem, privateKeyPem: other.keyPem }),
      coded(ErrorCodes.VALIDATION_FAILED, /CA of PlatformOrg: the key privateKeyPem does not match/),
    );
    assert.equal(await exists(dataDir), false);
    // A keystore folder without the CA's key.
    const home = join(root, 'home-without-key');
    await writeFabricCaServerHome(home, other);
    await assert.rejects(
      open(dataDir, { certificatePem: good.certificatePem, keyPath: join(home, 'msp', 'keystore') }),
      coded(ErrorCodes.VALIDATION_FAILED, /none of the 2 private keys in .* matches/),
    );
    await assert.rejects(findCaFiles(join(root, 'nowhere')), coded(ErrorCodes.VALIDATION_FAILED, /no CA certificate/));
    assert.equal(await exists(dataDir), false);
  });

  it('refuses certificates that cannot be an org CA', async () => {
    const dataDir = join(root, 'not-a-ca');
    const leaf = await makeCa({ subject: 'O=PlatformOrg, OU=client, CN=someone', ca: false });
    await assert.rejects(
      open(dataDir, { certificatePem: leaf.certificatePem, privateKeyPem: leaf.keyPem }),
      coded(ErrorCodes.VALIDATION_FAILED, /not a CA certificate \(basicConstraints CA is not set\)/),
    );
    const noCertSign = await makeCa({ subject: 'CN=ca', keyUsage: x509.KeyUsageFlags.digitalSignature });
    await assert.rejects(
      open(dataDir, { certificatePem: noCertSign.certificatePem, privateKeyPem: noCertSign.keyPem }),
      coded(ErrorCodes.VALIDATION_FAILED, /keyCertSign/),
    );
    const p384 = await makeCa({ subject: 'CN=ca', curve: 'P-384' });
    await assert.rejects(
      open(dataDir, { certificatePem: p384.certificatePem, privateKeyPem: p384.keyPem }),
      coded(ErrorCodes.VALIDATION_FAILED, /not ECDSA P-256/),
    );
    await assert.rejects(
      open(dataDir, { certificatePem: good.certificatePem + good.certificatePem, privateKeyPem: good.keyPem }),
      coded(ErrorCodes.VALIDATION_FAILED, /expected one PEM certificate, found 2/),
    );
    await assert.rejects(
      open(dataDir, { certPath: join(root, 'missing.pem'), privateKeyPem: good.keyPem }),
      coded(ErrorCodes.VALIDATION_FAILED, /cannot read certificate .*missing\.pem: ENOENT/),
    );
    await assert.rejects(
      open(dataDir, { certificatePem: good.certificatePem, certPath: 'x', privateKeyPem: good.keyPem }),
      coded(ErrorCodes.VALIDATION_FAILED, /exactly one of certificatePem and certPath/),
    );
    await assert.rejects(
      openIdentityStore({
        dataDir,
        consortium: platformOnly,
        caMaterial: { BrandOrg: { certificatePem: good.certificatePem, privateKeyPem: good.keyPem } },
      }),
      coded(ErrorCodes.VALIDATION_FAILED, /BrandOrg, which is not in the consortium/),
    );
    assert.equal(await exists(dataDir), false);
  });

  it('refuses to adopt a CA into a data dir created with its own CAs (CONFLICT), changing nothing', async () => {
    const dataDir = join(root, 'own');
    const own = await openIdentityStore({ dataDir, consortium: platformOnly });
    const before = await snapshot(dataDir);
    await assert.rejects(
      open(dataDir, { certificatePem: good.certificatePem, privateKeyPem: good.keyPem }),
      coded(ErrorCodes.CONFLICT, /PlatformOrg \(data dir has its own CA .*Use a new data dir/),
    );
    assert.deepEqual(await snapshot(dataDir), before);
    // Adopting the very CA the dir already has is no conflict.
    const caDir = join(dataDir, 'ca', Orgs.platform);
    const same = await open(dataDir, { certPath: join(caDir, 'ca-cert.pem'), keyPath: join(caDir, 'ca-key.pem') });
    assert.deepEqual(same.caCertificates(), own.caCertificates());
  });

  it('one CA for two orgs is refused', async () => {
    const dataDir = join(root, 'shared-ca');
    await assert.rejects(
      openIdentityStore({
        dataDir,
        consortium: demoConsortium.filter((o) => o.mspId === Orgs.platform || o.mspId === Orgs.brand),
        caMaterial: {
          [Orgs.platform]: { certificatePem: good.certificatePem, privateKeyPem: good.keyPem },
          [Orgs.brand]: { certificatePem: good.certificatePem, privateKeyPem: good.keyPem },
        },
      }),
      coded(ErrorCodes.VALIDATION_FAILED, /PlatformOrg and BrandOrg are given the same CA/),
    );
    assert.equal(await exists(dataDir), false);
  });
});
