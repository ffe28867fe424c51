import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CodedError, ErrorCodes, Orgs, ROLE_ATTRIBUTE, Roles } from '@c2m/shared';
import {
  hashPasswordSync,
  openIdentityStore,
  parseIdentityCertificate,
  verifyCertificateChain,
  verifyPassword,
  verifyPasswordSync,
} from '../src/index.js';
import { tempDir } from './helpers.js';

// Run-time enrolment (services' user administration) and seeds without passwords (logins live in services).
describe('enrolUser and password-less seeds', () => {
  const service = { username: 'platform', mspId: Orgs.platform, role: Roles.admin, displayName: 'Service' };

  it('a seed without a password gets a certificate but can never log in through the store', async () => {
    const dataDir = await tempDir();
    const store = await openIdentityStore({ dataDir, users: [service] });
    assert.ok(store.userIdentity('platform'));
    assert.equal(await store.authenticate('platform', ''), undefined);
    assert.equal(await store.authenticate('platform', 'demo'), undefined);
    assert.equal(store.user('brand'), undefined, 'no demo user when seeds are given');
    const file = JSON.parse(await readFile(join(dataDir, 'users.json'), 'utf8'));
    assert.equal(file.users.platform.passwordHash, '');
  });

  it('enrols a user at run time, idempotently, and the next open loads it', async () => {
    const dataDir = await tempDir();
    const store = await openIdentityStore({ dataDir, users: [service] });
    const seed = { username: 'buyer1', mspId: Orgs.brand, role: Roles.brandManager, displayName: 'Buyer' };
    const record = await store.enrolUser(seed);
    assert.deepEqual([record.mspId, record.orgKind, record.role], [Orgs.brand, 'brand', Roles.brandManager]);
    const identity = store.userIdentity('buyer1');
    const info = parseIdentityCertificate(identity.certificatePem);
    assert.equal(info.commonName, 'buyer1');
    assert.equal(info.attrs[ROLE_ATTRIBUTE], Roles.brandManager);
    assert.ok(verifyCertificateChain(identity.certificatePem, store.org(Orgs.brand)!.caCertificatePem));
    // Again: the same certificate, nothing re-issued.
    await store.enrolUser(seed);
    assert.equal(store.userIdentity('buyer1').certificatePem, identity.certificatePem);
    const reopened = await openIdentityStore({ dataDir, users: [service] });
    assert.equal(reopened.userIdentity('buyer1').certificatePem, identity.certificatePem);
  });

  it('refuses another org or role for an enrolled name, bad names, roles and orgs', async () => {
    const store = await openIdentityStore({ dataDir: await tempDir(), users: [service] });
    await store.enrolUser({ username: 'x1', mspId: Orgs.brand, role: Roles.brandManager, displayName: 'X' });
    const code = (c: string) => (err: unknown) => err instanceof CodedError && err.code === c;
    await assert.rejects(
      store.enrolUser({ username: 'x1', mspId: Orgs.factory1, role: Roles.factoryManager, displayName: 'X' }),
      code(ErrorCodes.CONFLICT),
    );
    for (const bad of [
      { username: 'Bad Name', mspId: Orgs.brand, role: Roles.brandManager },
      { username: '../etc', mspId: Orgs.brand, role: Roles.brandManager },
      { username: 'peer0', mspId: Orgs.brand, role: Roles.brandManager },
      { username: 'ok1', mspId: 'NoSuchOrg', role: Roles.brandManager },
      { username: 'ok2', mspId: Orgs.brand, role: Roles.device },
      { username: 'ok3', mspId: Orgs.brand, role: 'root' },
    ]) {
      await assert.rejects(
        store.enrolUser({ ...bad, displayName: 'X' } as never),
        code(ErrorCodes.VALIDATION_FAILED),
        bad.username,
      );
    }
  });

  it('the synchronous hash is the same format as the async one and verifies both ways', async () => {
    const hash = hashPasswordSync('Correct-Horse-42');
    assert.match(hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.equal(verifyPasswordSync('Correct-Horse-42', hash), true);
    assert.equal(await verifyPassword('Correct-Horse-42', hash), true);
    assert.equal(verifyPasswordSync('correct-horse-42', hash), false);
    for (const bad of ['', 'scrypt$1$8$1$x$y', `scrypt$${2 ** 25}$8$1$AAAA$AAAA`, 'bcrypt$x', hash.slice(0, -10)]) {
      assert.equal(verifyPasswordSync('x', bad), false, bad);
    }
  });
});
