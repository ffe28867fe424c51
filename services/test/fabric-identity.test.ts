/**
 * LEDGER=fabric: the platform's identity store issues from the org CAs the connection settings name, before
 * the ledger opens. No Fabric network is needed for this part: the settings file, the CA folders and the
 * store are real; the ledger side is covered in network/test/adopted-cas.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDeviceCsr, generateDeviceKeyPair, verifyCertificateChain } from '@c2m/identity';
// The identity package's fixtures for the CA folders Fabric CA and cryptogen leave.
import {
  cryptogenCaSubject,
  fabricCaSubject,
  makeCa,
  type TestCa,
  writeCryptogenOrg,
  writeFabricCaServerHome,
} from '@c2m/identity/dist/test/fabric-layouts.js';
import { CodedError, ErrorCodes, Orgs } from '@c2m/shared';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { loadFabricConnection, openPlatformIdentity } from '../src/ledger/open-ledger.js';

describe('LEDGER=fabric: the identity store adopts the CAs the settings name', () => {
  let root: string;
  let settingsPath: string;
  let platformCa: TestCa;
  let factoryCa: TestCa;
  const logs: { level: number; msg: string; orgs?: string[] }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'c2m-fabric-identity-'));
    const build = path.join(root, 'build');
    platformCa = await makeCa({ subject: fabricCaSubject('platform', Orgs.platform), pathLength: 1 });
    await writeFabricCaServerHome(path.join(build, 'fabric-ca', 'platform'), platformCa);
    factoryCa = await makeCa({ subject: cryptogenCaSubject('factory1.c2m.local'), ski: 'sha256' });
    const factoryDir = await writeCryptogenOrg(
      path.join(build, 'organizations'),
      'peerOrganizations',
      'factory1.c2m.local',
      factoryCa,
    );
    await mkdir(path.join(build, 'tls'), { recursive: true });
    await writeFile(path.join(build, 'tls', 'ca.crt'), platformCa.certificatePem);
    const peers = (port: number) => [{ endpoint: `127.0.0.1:${port}`, tlsRootCertPath: 'tls/ca.crt' }];
    const factoryCaDir = path.relative(build, path.join(factoryDir, 'ca'));
    settingsPath = path.join(build, 'connection.json');
    await writeFile(
      settingsPath,
      JSON.stringify({
        channel: 'c2m',
        chaincode: 'c2m',
        observerMspId: Orgs.platform,
        organizations: {
          [Orgs.platform]: {
            peers: peers(7051),
            identity: { certPath: 'admin/cert.pem', keyPath: 'admin/key.pem' },
            ca: { certPath: 'fabric-ca/platform/ca-cert.pem', keyPath: 'fabric-ca/platform/msp/keystore' },
          },
          [Orgs.factory1]: {
            peers: peers(9051),
            ca: { certPath: `${factoryCaDir}/ca.factory1.c2m.local-cert.pem`, keyPath: `${factoryCaDir}/priv_sk` },
          },
          [Orgs.brand]: { peers: peers(8051) },
        },
      }),
    );
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('reads FABRIC_CONNECTION only for LEDGER=fabric, and says which variable is missing', async () => {
    const dataDir = path.join(root, 'data-env');
    assert.equal(await loadFabricConnection(loadConfig({ dataDir, ledger: 'embedded' }), {}), undefined);
    await assert.rejects(
      loadFabricConnection(loadConfig({ dataDir, ledger: 'fabric' }), {}),
      /needs FABRIC_CONNECTION/,
    );
    const settings = await loadFabricConnection(loadConfig({ dataDir, ledger: 'fabric' }), {
      FABRIC_CONNECTION: settingsPath,
    });
    assert.deepEqual(Object.keys(settings!.cas).sort(), [Orgs.factory1, Orgs.platform]);
  });

  it('logs in and issues users, peers and devices from the adopted CAs; warns about orgs without one', async () => {
    // Demo mode: the demo users' identities exist (their logins are the services' accounts, src/auth/).
    const config = loadConfig({ dataDir: path.join(root, 'data'), ledger: 'fabric', demo: true });
    const settings = await loadFabricConnection(config, { FABRIC_CONNECTION: settingsPath });
    const store = await openPlatformIdentity(config, settings, logger);
    assert.ok(store.user('factory1'), 'demo users are enrolled as on the embedded ledger');
    for (const user of ['platform', 'certifier']) {
      assert.ok(verifyCertificateChain(store.userIdentity(user).certificatePem, platformCa.certificatePem), user);
    }
    assert.ok(verifyCertificateChain(store.userIdentity('factory1').certificatePem, factoryCa.certificatePem));
    assert.ok(verifyCertificateChain(store.peerIdentity(Orgs.factory1).certificatePem, factoryCa.certificatePem));
    const { privateKey, publicKey } = generateDeviceKeyPair();
    const csr = await createDeviceCsr(privateKey, publicKey, { deviceId: 'F1-DEV-1', mspId: Orgs.factory1 });
    const device = await store.issueDeviceCertificate(Orgs.factory1, csr, { deviceId: 'F1-DEV-1' });
    assert.ok(verifyCertificateChain(device, factoryCa.certificatePem));
    // BrandOrg has peers but no `ca`; Factory2Org and FinanceOrg are not in the file at all.
    assert.ok(!verifyCertificateChain(store.userIdentity('brand').certificatePem, platformCa.certificatePem));
    const warning = logs.find((l) => l.level === 40);
    assert.deepEqual(warning?.orgs, [Orgs.brand, Orgs.factory2, Orgs.finance]);
    assert.match(warning!.msg, /no CA for these orgs/);
  });

  it('refuses to start on a data dir made for the embedded ledger (its own CAs), with CONFLICT', async () => {
    const dataDir = path.join(root, 'data-embedded');
    await openPlatformIdentity(loadConfig({ dataDir, ledger: 'embedded' }), undefined, logger);
    const config = loadConfig({ dataDir, ledger: 'fabric' });
    const settings = await loadFabricConnection(config, { FABRIC_CONNECTION: settingsPath });
    await assert.rejects(openPlatformIdentity(config, settings, logger), (err: unknown) => {
      assert.ok(err instanceof CodedError);
      assert.equal(err.code, ErrorCodes.CONFLICT);
      assert.match(err.message, /PlatformOrg \(data dir has its own CA.*Factory1Org \(data dir has its own CA/);
      return true;
    });
  });
});
