import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CodedError, ErrorCodes, Orgs, ROLE_ATTRIBUTE, Roles } from '@c2m/shared';
import {
  certificateFingerprint,
  demoConsortium,
  demoUsers,
  type IdentityStore,
  openIdentityStore,
  parseIdentityCertificate,
  verifyCertificateChain,
  verifySignature,
} from '../src/index.js';
import { tempDir } from './helpers.js';

const require = createRequire(import.meta.url);
// fabric-shim is CommonJS; this is the class the chaincode gets as ctx.clientIdentity.
const { ClientIdentity } = require('fabric-shim') as {
  ClientIdentity: new (
    stub: unknown,
  ) => {
    getMSPID(): string;
    getID(): string;
    getAttributeValue(name: string): string | null;
    assertAttributeValue(name: string, value: string): boolean;
  };
};

function clientIdentityOf(identity: { mspId: string; certificatePem: string }) {
  const stub = {
    getChannelID: () => 'c2m',
    getTxID: () => 'tx1',
    getCreator: () => ({ mspid: identity.mspId, idBytes: new TextEncoder().encode(identity.certificatePem) }),
  };
  return new ClientIdentity(stub);
}

function fingerprints(store: IdentityStore): Record<string, string> {
  const out: Record<string, string> = {};
  for (const org of store.orgs()) {
    out[`ca:${org.mspId}`] = certificateFingerprint(org.caCertificatePem);
    out[`peer:${org.mspId}`] = certificateFingerprint(store.peerIdentity(org.mspId).certificatePem);
  }
  for (const user of store.users())
    out[`user:${user.username}`] = certificateFingerprint(store.userIdentity(user.username).certificatePem);
  return out;
}

describe('identity store', async () => {
  const dataDir = await tempDir();
  const store = await openIdentityStore({ dataDir });

  it('creates one CA per demo org, with a Fabric MSP folder', async () => {
    assert.deepEqual(
      store.orgs().map((o) => o.mspId),
      demoConsortium.map((o) => o.mspId),
    );
    for (const org of store.orgs()) {
      const ca = parseIdentityCertificate(org.caCertificatePem);
      assert.equal(ca.commonName, `ca.${org.mspId.toLowerCase()}.c2m.local`);
      assert.equal(ca.mspId, org.mspId);
      assert.ok(verifyCertificateChain(org.caCertificatePem, org.caCertificatePem), 'self-signed CA');
      const years = (ca.notAfter.getTime() - ca.notBefore.getTime()) / (365 * 24 * 3600e3);
      assert.ok(years > 9.9 && years < 10.1, `CA valid ~10 years, got ${years}`);
      const mspDir = join(dataDir, 'msp', org.mspId);
      assert.equal(await readFile(join(mspDir, 'cacerts', 'ca.pem'), 'utf8'), org.caCertificatePem);
      const config = await readFile(join(mspDir, 'config.yaml'), 'utf8');
      assert.match(config, /Enable: true/);
      for (const ou of ['client', 'peer', 'admin', 'orderer']) {
        assert.match(config, new RegExp(`OrganizationalUnitIdentifier: ${ou}\\n`));
      }
    }
    assert.deepEqual(Object.keys(store.caCertificates()).sort(), Object.values(Orgs).sort());
  });

  it('keeps private keys and secrets private (mode 0600, PKCS#8)', async () => {
    const userMsp = join(dataDir, 'msp', Orgs.brand, 'users', `brand@${Orgs.brand}`, 'msp');
    const keyPath = join(userMsp, 'keystore', 'key.pem');
    assert.equal((await stat(keyPath)).mode & 0o777, 0o600);
    assert.match(await readFile(keyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(
      await readFile(join(userMsp, 'signcerts', 'cert.pem'), 'utf8'),
      store.userIdentity('brand').certificatePem,
    );
    for (const file of ['users.json', 'api-token.secret', join('ca', Orgs.brand, 'ca-key.pem')]) {
      assert.equal((await stat(join(dataDir, file))).mode & 0o777, 0o600, file);
    }
    const users = await readFile(join(dataDir, 'users.json'), 'utf8');
    assert.doesNotMatch(users, /"password"/);
    assert.match(users, /"passwordHash": "scrypt\$/);
  });

  it('issues peer and user certificates that chain to their own org CA only', () => {
    const cas = store.caCertificates();
    for (const org of store.orgs()) {
      const peer = store.peerIdentity(org.mspId);
      const info = parseIdentityCertificate(peer.certificatePem);
      assert.equal(info.commonName, 'peer0');
      assert.deepEqual(info.ous, ['peer']);
      assert.equal(info.attrs[ROLE_ATTRIBUTE], Roles.peer);
      for (const other of store.orgs()) {
        assert.equal(verifyCertificateChain(peer.certificatePem, cas[other.mspId]!), other.mspId === org.mspId);
      }
    }
    const platform = parseIdentityCertificate(store.userIdentity('platform').certificatePem);
    assert.deepEqual(platform.ous, ['admin'], 'the admin role gets the NodeOU admin class');
    assert.deepEqual(parseIdentityCertificate(store.userIdentity('factory1').certificatePem).ous, ['client']);
  });

  it("gives certificates fabric-shim's ClientIdentity reads: MSP id, id and the role attribute", () => {
    for (const seed of demoUsers) {
      const cid = clientIdentityOf(store.userIdentity(seed.username));
      assert.equal(cid.getMSPID(), seed.mspId);
      assert.ok(cid.assertAttributeValue('role', seed.role), `${seed.username} has role ${seed.role}`);
      assert.equal(cid.assertAttributeValue('role', Roles.admin), seed.role === Roles.admin);
      assert.equal(cid.getAttributeValue('hf.EnrollmentID'), seed.username);
      assert.equal(cid.getAttributeValue('orgKind'), store.user(seed.username)!.orgKind);
    }
    const cid = clientIdentityOf(store.userIdentity('factory1'));
    assert.equal(
      cid.getID(),
      `x509::/O=${Orgs.factory1}/OU=client/CN=factory1::/O=${Orgs.factory1}/CN=ca.factory1org.c2m.local`,
    );
    assert.ok(clientIdentityOf(store.peerIdentity(Orgs.brand)).assertAttributeValue('role', 'peer'));
  });

  it('signs with identities whose signatures verify against their certificate', async () => {
    const identity = store.userIdentity('certifier');
    const message = randomBytes(200);
    const digest = createHash('sha256').update(message).digest();
    const signature = await identity.sign(digest);
    assert.ok(verifySignature(identity.certificatePem, { message }, signature));
    assert.ok(!verifySignature(store.userIdentity('brand').certificatePem, { message }, signature));
  });

  it('authenticates the right password only', async () => {
    assert.deepEqual(await store.authenticate('factory1', 'demo'), {
      username: 'factory1',
      mspId: Orgs.factory1,
      orgKind: 'factory',
      role: Roles.factoryManager,
      displayName: 'Factory No. 1 manager',
    });
    assert.equal(await store.authenticate('factory1', 'Demo'), undefined);
    assert.equal(await store.authenticate('factory1', ''), undefined);
    assert.equal(await store.authenticate('nobody', 'demo'), undefined);
  });

  it('answers NOT_FOUND for unknown orgs and users', () => {
    assert.equal(store.org('NoSuchOrg'), undefined);
    assert.equal(store.user('nobody'), undefined);
    assert.throws(
      () => store.peerIdentity('NoSuchOrg'),
      (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND,
    );
    assert.throws(
      () => store.userIdentity('nobody'),
      (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.NOT_FOUND,
    );
  });

  it('reopens with the same identities and secret, without regenerating', async () => {
    const again = await openIdentityStore({ dataDir });
    assert.deepEqual(fingerprints(again), fingerprints(store));
    assert.deepEqual(again.apiTokenSecret(), store.apiTokenSecret());
    assert.equal(store.apiTokenSecret().length, 32);
    assert.ok(await again.authenticate('brand', 'demo'));
    assert.deepEqual(again.org(Orgs.factory1)?.names, { en: 'Ningbo Sock Factory No. 1', zh: '宁波袜业一厂' });
  });

  it('enrols users added to the seed later and refuses a seed that changes an enrolled role', async () => {
    const extra = {
      username: 'carrier',
      password: 's3cret',
      mspId: Orgs.factory2,
      role: Roles.logistics,
      displayName: 'Carrier',
    };
    const grown = await openIdentityStore({ dataDir, consortium: demoConsortium, users: [...demoUsers, extra] });
    assert.equal(grown.user('carrier')?.role, Roles.logistics);
    assert.ok(await grown.authenticate('carrier', 's3cret'));
    assert.equal(fingerprints(grown)['user:brand'], fingerprints(store)['user:brand']);
    await assert.rejects(
      openIdentityStore({ dataDir, consortium: demoConsortium, users: [{ ...extra, role: Roles.admin }] }),
      (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.CONFLICT,
    );
  });

  it('refuses to load a certificate that does not chain to its org CA', async () => {
    const copy = await tempDir();
    await openIdentityStore({ dataDir: copy, users: [] });
    const certPath = join(copy, 'msp', Orgs.brand, 'users', `peer0@${Orgs.brand}`, 'msp', 'signcerts', 'cert.pem');
    // Swap in another org's peer certificate: a plausible mistake when copying MSP folders around.
    await writeFile(certPath, store.peerIdentity(Orgs.finance).certificatePem);
    await assert.rejects(
      openIdentityStore({ dataDir: copy, users: [] }),
      (err: unknown) =>
        err instanceof CodedError && err.code === ErrorCodes.INTERNAL && /does not chain/.test(err.message),
    );
  });
});

describe('seed validation', () => {
  it('refuses users of unknown orgs, reserved or malformed names, and roles users cannot hold', async () => {
    const dataDir = await tempDir();
    const base = { username: 'ops', password: 'pw', mspId: Orgs.platform, role: Roles.admin, displayName: 'Ops' };
    for (const bad of [
      { ...base, mspId: 'NoSuchOrg' },
      { ...base, username: 'peer0' },
      { ...base, username: 'Ops User' },
      { ...base, role: Roles.device },
      { ...base, password: '' },
    ]) {
      await assert.rejects(
        openIdentityStore({ dataDir, consortium: demoConsortium, users: [bad] }),
        (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.VALIDATION_FAILED,
        JSON.stringify(bad),
      );
    }
    await assert.rejects(openIdentityStore({ dataDir, consortium: demoConsortium, users: [base, base] }));
    assert.deepEqual(await readdir(dataDir), [], 'nothing written for a refused seed');
  });
});

describe('concurrent first open', () => {
  it('two processes opening an empty data dir end up with the same identities', async () => {
    const dataDir = await tempDir();
    const indexUrl = new URL('../src/index.js', import.meta.url).href;
    const script = `
      const { openIdentityStore, certificateFingerprint } = await import(${JSON.stringify(indexUrl)});
      const s = await openIdentityStore({ dataDir: process.argv[1] });
      const out = { secret: Buffer.from(s.apiTokenSecret()).toString('hex') };
      for (const o of s.orgs()) out[o.mspId] = certificateFingerprint(s.peerIdentity(o.mspId).certificatePem);
      for (const u of s.users()) out[u.username] = certificateFingerprint(s.userIdentity(u.username).certificatePem);
      process.stdout.write(JSON.stringify(out));
    `;
    const run = () =>
      promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, dataDir], {
        cwd: fileURLToPath(new URL('.', import.meta.url)),
      });
    const [a, b] = await Promise.all([run(), run()]);
    const first = JSON.parse(a.stdout) as Record<string, string>;
    assert.deepEqual(JSON.parse(b.stdout), first);
    assert.equal(Object.keys(first).length, 1 + demoConsortium.length + demoUsers.length);
    const reopened = await openIdentityStore({ dataDir });
    assert.equal(certificateFingerprint(reopened.userIdentity('platform').certificatePem), first.platform);
  });

  it('concurrent opens within one process agree too', async () => {
    const dataDir = await tempDir();
    const stores = await Promise.all([1, 2, 3].map(() => openIdentityStore({ dataDir, users: [] })));
    const [a, b, c] = stores.map((s) => JSON.stringify(s.caCertificates()));
    assert.equal(a, b);
    assert.equal(a, c);
  });
});
