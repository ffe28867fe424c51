/**
 * The platform's identity store on a network's own CAs: the settings file names each org's CA (a Fabric CA
 * server home or cryptogen's folder, as network.sh writes them), the store adopts them, and the ledger's
 * MSPs trust only those roots, as a real channel's would.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { contracts } from '@c2m/chaincode';
import {
  certificateFingerprint,
  createDeviceCsr,
  generateDeviceKeyPair,
  type IdentityStore,
  openIdentityStore,
} from '@c2m/identity';
// The identity package's own test fixtures for Fabric's on-disk CA layouts (one copy of that knowledge).
import {
  cryptogenCaSubject,
  fabricCaSubject,
  makeCa,
  writeCryptogenOrg,
  writeFabricCaServerHome,
} from '@c2m/identity/dist/test/fabric-layouts.js';
import { ErrorCodes, type Ledger, Orgs } from '@c2m/shared';
import {
  caMaterialFromSettings,
  devicesContract,
  EndorseError,
  type FabricSettings,
  FabricSettingsError,
  loadFabricSettings,
  openEmbeddedLedger,
  orgsContract,
} from '../src/index.js';
import { possessionProof } from './helpers/devices.js';

const ORGS = [
  { mspId: Orgs.platform, short: 'platform', layout: 'fabric-ca' },
  { mspId: Orgs.brand, short: 'brand', layout: 'fabric-ca' },
  { mspId: Orgs.factory1, short: 'factory1', layout: 'cryptogen' },
  { mspId: Orgs.factory2, short: 'factory2', layout: 'cryptogen' },
  { mspId: Orgs.finance, short: 'finance', layout: 'cryptogen' },
] as const;
const FINANCE = { mspId: Orgs.finance, kind: 'finance', name: 'Finance' } as const;

const NETWORK_SH = fileURLToPath(new URL('../../fabric/scripts/network.sh', import.meta.url));

/**
 * The CA material of a build folder as `network.sh crypto` leaves it, PlatformOrg and BrandOrg from Fabric CA
 * (server homes, the CA certificate copied into the org MSP's cacerts/ca.pem), the others from cryptogen; then
 * `network.sh settings` writes connection.json from it. Returns the CA certificates: the channel's MSP roots.
 */
async function writeBuild(build: string): Promise<Record<string, string>> {
  const caPems: Record<string, string> = {};
  for (const { mspId, short, layout } of ORGS) {
    const domain = `${short}.c2m.local`;
    const orgDir = join(build, 'organizations', 'peerOrganizations', domain);
    if (layout === 'fabric-ca') {
      const made = await makeCa({ subject: fabricCaSubject(short, mspId), pathLength: 1 });
      await writeFabricCaServerHome(join(build, 'fabric-ca', short), made);
      await mkdir(join(orgDir, 'msp', 'cacerts'), { recursive: true });
      await writeFile(join(orgDir, 'msp', 'cacerts', 'ca.pem'), made.certificatePem);
      caPems[mspId] = made.certificatePem;
    } else {
      const made = await makeCa({ subject: cryptogenCaSubject(domain), ski: 'sha256' });
      await writeCryptogenOrg(join(build, 'organizations'), 'peerOrganizations', domain, made);
      caPems[mspId] = made.certificatePem;
    }
    await mkdir(join(orgDir, 'peers', `peer0.${domain}`, 'tls'), { recursive: true });
    await writeFile(join(orgDir, 'peers', `peer0.${domain}`, 'tls', 'ca.crt'), caPems[mspId]!);
  }
  // MODE=local only so that BUILD_DIR may be elsewhere; the settings step needs no Fabric tools.
  await promisify(execFile)('bash', [NETWORK_SH, 'settings'], {
    env: { ...process.env, MODE: 'local', BUILD_DIR: build },
  });
  return caPems;
}

describe('identity store on the CAs a settings file names, on a ledger that trusts only those', () => {
  let root: string;
  let build: string;
  let caPems: Record<string, string>;
  let settings: FabricSettings;
  let store: IdentityStore;
  let ledger: Ledger;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'c2m-adopted-'));
    build = join(root, 'build');
    caPems = await writeBuild(build);
    settings = await loadFabricSettings(join(build, 'connection.json'));
    store = await openIdentityStore({ dataDir: join(root, 'identity'), caMaterial: caMaterialFromSettings(settings) });
    ledger = await openEmbeddedLedger({
      dataDir: join(root, 'ledger'),
      contracts,
      // The channel's MSP roots are the network's CA certificates, read from the build folder, not the store.
      caCertificates: caPems,
      peers: Object.fromEntries(ORGS.map(({ mspId }) => [mspId, store.peerIdentity(mspId)])),
      blockTimeoutMs: 5,
    });
  });
  after(async () => {
    await ledger?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('network.sh settings names each org’s CA, in both layouts; paths load relative to the file', async () => {
    assert.deepEqual(caMaterialFromSettings(settings), {
      [Orgs.platform]: {
        certPath: join(build, 'fabric-ca/platform/ca-cert.pem'),
        keyPath: join(build, 'fabric-ca/platform/msp/keystore'),
      },
      [Orgs.brand]: {
        certPath: join(build, 'fabric-ca/brand/ca-cert.pem'),
        keyPath: join(build, 'fabric-ca/brand/msp/keystore'),
      },
      ...Object.fromEntries(
        ['factory1', 'factory2', 'finance'].map((short, i) => {
          const ca = join(build, `organizations/peerOrganizations/${short}.c2m.local/ca`);
          return [
            [Orgs.factory1, Orgs.factory2, Orgs.finance][i],
            { certPath: join(ca, `ca.${short}.c2m.local-cert.pem`), keyPath: join(ca, 'priv_sk') },
          ];
        }),
      ),
    });
    for (const { mspId } of ORGS) {
      assert.equal(certificateFingerprint(store.caCertificates()[mspId]!), certificateFingerprint(caPems[mspId]!));
    }
    // The container's copy names the same files (relative paths), only the peer endpoints differ.
    const docker = await loadFabricSettings(join(build, 'connection.docker.json'));
    assert.deepEqual(caMaterialFromSettings(docker), caMaterialFromSettings(settings));
    assert.equal(docker.peers[Orgs.brand]![0]!.endpoint, 'peer0.brand.c2m.local:8051');
  });

  it('lets the platform user and a factory user from the store submit; the certifier certifies the device', async () => {
    const platform = orgsContract(ledger, store.userIdentity('platform'));
    for (const [mspId, kind] of [
      [Orgs.brand, 'brand'],
      [Orgs.factory1, 'factory'],
    ] as const) {
      const committed = await platform.registerOrg({ mspId, kind, name: mspId });
      assert.equal(committed.record.mspId, mspId);
    }
    // A device certificate from the adopted factory CA, registered by the factory's manager.
    const { privateKey, publicKey } = generateDeviceKeyPair();
    const csr = await createDeviceCsr(privateKey, publicKey, { deviceId: 'F1-KNIT-001', mspId: Orgs.factory1 });
    const certPem = await store.issueDeviceCertificate(Orgs.factory1, csr, { deviceId: 'F1-KNIT-001' });
    assert.ok(new X509Certificate(certPem).verify(new X509Certificate(caPems[Orgs.factory1]!).publicKey));
    const factory = devicesContract(ledger, store.userIdentity('factory1'));
    const registered = await factory.registerDevice({
      deviceId: 'F1-KNIT-001',
      model: 'KNIT-200',
      serial: 'S-1',
      line: 'L1',
      certificateFingerprint: certificateFingerprint(certPem),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    assert.equal(registered.record.ownerMspId, Orgs.factory1);
    const certified = await devicesContract(ledger, store.userIdentity('certifier')).certifyDevice('F1-KNIT-001', {
      validUntil: new Date(Date.now() + 30 * 24 * 3600_000),
      proof: possessionProof('F1-KNIT-001', { privateKey }),
    });
    assert.equal(certified.record.status, 'CERTIFIED');
  });

  it('refuses users of a store with its own CAs: not valid members of the channel’s MSPs', async () => {
    const own = await openIdentityStore({ dataDir: join(root, 'own-identity') });
    for (const [user, submit] of [
      ['platform', () => orgsContract(ledger, own.userIdentity('platform')).registerOrg(FINANCE)],
      ['factory1', () => devicesContract(ledger, own.userIdentity('factory1')).suspend('F1-KNIT-001')],
    ] as const) {
      await assert.rejects(submit(), (err: unknown) => {
        assert.ok(err instanceof EndorseError, `${user}: ${String(err)}`);
        assert.equal(err.code, ErrorCodes.ENDORSEMENT_FAILED);
        assert.equal(err.details[0]?.status, 403);
        assert.match(err.message, new RegExp(`certificate ${user} was not issued by the CA of`));
        return true;
      });
    }
    // Nothing reached the ledger: the device is still certified, FinanceOrg still unregistered.
    const device = await devicesContract(ledger, store.userIdentity('factory1')).readDevice('F1-KNIT-001');
    assert.equal(device.status, 'CERTIFIED');
    await assert.rejects(orgsContract(ledger, store.userIdentity('platform')).getOrg(Orgs.finance), {
      code: ErrorCodes.NOT_FOUND,
    });
  });

  it('names a CA file that is missing or not a certificate, for the org it belongs to', async () => {
    const file = JSON.parse(await readFile(join(build, 'connection.json'), 'utf8')) as {
      organizations: Record<string, { ca: { certPath: string; keyPath: string } }>;
    };
    const variant = async (name: string, mspId: string, ca: { certPath: string; keyPath: string }) => {
      const changed = structuredClone(file);
      changed.organizations[mspId]!.ca = ca;
      await writeFile(join(build, name), JSON.stringify(changed));
      return loadFabricSettings(join(build, name));
    };
    const factory2Ca = file.organizations[Orgs.factory2]!.ca;
    await assert.rejects(
      variant('no-cert.json', Orgs.factory2, { ...factory2Ca, certPath: 'organizations/nope/ca-cert.pem' }),
      (err: unknown) =>
        err instanceof FabricSettingsError &&
        /^CA certificate of Factory2Org: ENOENT .*organizations\/nope\/ca-cert\.pem$/.test(err.message),
    );
    await assert.rejects(
      variant('no-key.json', Orgs.brand, { certPath: 'fabric-ca/brand/ca-cert.pem', keyPath: 'fabric-ca/brand/gone' }),
      /CA key of BrandOrg: ENOENT .*fabric-ca\/brand\/gone/,
    );
    await assert.rejects(
      variant('key-as-cert.json', Orgs.factory2, { certPath: factory2Ca.keyPath, keyPath: factory2Ca.keyPath }),
      /CA certificate of Factory2Org is not PEM/,
    );
    await writeFile(
      join(build, 'extra-field.json'),
      JSON.stringify({
        ...file,
        organizations: {
          ...file.organizations,
          [Orgs.finance]: { ...file.organizations[Orgs.finance], ca: { certPath: 'x' } },
        },
      }),
    );
    await assert.rejects(loadFabricSettings(join(build, 'extra-field.json')), /\/organizations\/FinanceOrg\/ca/);
  });
});
