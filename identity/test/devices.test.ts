import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { CodedError, ErrorCodes, Orgs, Roles } from '@c2m/shared';
import {
  certificateFingerprint,
  createDeviceCsr,
  csrPublicKeyPem,
  generateDeviceKeyPair,
  openIdentityStore,
  parseIdentityCertificate,
  publicKeyFromCertificate,
  signMessage,
  verifyCertificateChain,
  verifySignature,
} from '../src/index.js';
import { tempDir } from './helpers.js';

const isCoded = (code: string, pattern?: RegExp) => (err: unknown) =>
  err instanceof CodedError && err.code === code && (!pattern || pattern.test(err.message));

describe('device certificates', async () => {
  const store = await openIdentityStore({ dataDir: await tempDir(), users: [] });
  const cas = store.caCertificates();
  const deviceId = 'F1-LINE2-KNIT-007';

  it('issues a certificate for a device CSR that chains to the factory CA and to no other', async () => {
    const keys = generateDeviceKeyPair();
    const csr = await createDeviceCsr(keys.privateKey, keys.publicKey, { deviceId, mspId: Orgs.factory1 });
    assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
    const pem = await store.issueDeviceCertificate(Orgs.factory1, csr, { deviceId, validityDays: 30 });

    assert.ok(verifyCertificateChain(pem, cas[Orgs.factory1]!));
    for (const mspId of [Orgs.factory2, Orgs.platform, Orgs.brand])
      assert.ok(!verifyCertificateChain(pem, cas[mspId]!));
    assert.ok(!verifyCertificateChain(pem, cas[Orgs.factory1]!, new Date(Date.now() + 31 * 24 * 3600e3)), 'expired');

    const info = parseIdentityCertificate(pem);
    assert.equal(info.commonName, deviceId);
    assert.equal(info.mspId, Orgs.factory1);
    assert.deepEqual(info.ous, ['device'], 'not a Fabric NodeOU class: a device cannot transact on the ledger');
    assert.equal(info.attrs.role, Roles.device);
    assert.equal(info.fingerprint, certificateFingerprint(pem));
    assert.equal(
      info.fingerprint,
      createHash('sha256')
        .update(
          new Uint8Array(
            Buffer.from(
              pem
                .split('\n')
                .filter((l) => !l.startsWith('-----'))
                .join(''),
              'base64',
            ),
          ),
        )
        .digest('hex'),
    );

    // The certificate carries the device's own key: its signed messages verify against it.
    const certKey = publicKeyFromCertificate(pem);
    assert.ok(certKey.equals(keys.publicKey));
    const message = new TextEncoder().encode('{"deviceId":"F1-LINE2-KNIT-007","seq":1}');
    assert.ok(verifySignature(pem, { message }, signMessage(keys.privateKey, message)));
  });

  it('refuses a CSR whose signature does not match its key', async () => {
    const keys = generateDeviceKeyPair();
    const impostor = generateDeviceKeyPair();
    // Signed by one key but asking to certify another: no proof of possession.
    const csr = await createDeviceCsr(impostor.privateKey, keys.publicKey, { deviceId, mspId: Orgs.factory1 });
    await assert.rejects(
      store.issueDeviceCertificate(Orgs.factory1, csr, { deviceId }),
      isCoded(ErrorCodes.VALIDATION_FAILED, /signature/),
    );
  });

  it('refuses a CSR for another device id or another org, and garbage', async () => {
    const keys = generateDeviceKeyPair();
    const csr = await createDeviceCsr(keys.privateKey, keys.publicKey, { deviceId, mspId: Orgs.factory1 });
    await assert.rejects(
      store.issueDeviceCertificate(Orgs.factory1, csr, { deviceId: 'F1-OTHER' }),
      isCoded(ErrorCodes.VALIDATION_FAILED, /CN/),
    );
    await assert.rejects(
      store.issueDeviceCertificate(Orgs.factory2, csr, { deviceId }),
      isCoded(ErrorCodes.VALIDATION_FAILED, /O must be Factory2Org/),
    );
    await assert.rejects(
      store.issueDeviceCertificate(Orgs.factory1, 'not a csr', { deviceId }),
      isCoded(ErrorCodes.VALIDATION_FAILED),
    );
    await assert.rejects(store.issueDeviceCertificate('NoSuchOrg', csr, { deviceId }), isCoded(ErrorCodes.NOT_FOUND));
    await assert.rejects(
      store.issueDeviceCertificate(Orgs.factory1, csr, { deviceId, validityDays: 0 }),
      isCoded(ErrorCodes.VALIDATION_FAILED),
    );
  });

  it('refuses device ids that would break MQTT topics and keys that are not P-256', async () => {
    const keys = generateDeviceKeyPair();
    await assert.rejects(
      createDeviceCsr(keys.privateKey, keys.publicKey, { deviceId: 'line/1', mspId: Orgs.factory1 }),
      isCoded(ErrorCodes.VALIDATION_FAILED),
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    await assert.rejects(createDeviceCsr(p384.privateKey, p384.publicKey, { deviceId, mspId: Orgs.factory1 }));
  });

  it('reads the key a CSR carries, so a re-uploaded request is recognised', async () => {
    const keys = generateDeviceKeyPair();
    const csr = await createDeviceCsr(keys.privateKey, keys.publicKey, { deviceId, mspId: Orgs.factory1 });
    const der = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });
    assert.ok(der(csrPublicKeyPem(csr)).equals(der(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString())));
    assert.throws(() => csrPublicKeyPem('not a csr'), isCoded(ErrorCodes.VALIDATION_FAILED));
  });

  it('issues TLS certificates for the device broker: server names and usage, not an MSP member', async () => {
    const server = await store.issueTlsCertificate(Orgs.platform, {
      commonName: 'c2m-broker',
      usage: 'server',
      dnsNames: ['broker.example.com'],
      ipAddresses: ['127.0.0.1'],
    });
    const cert = new X509Certificate(server.certificatePem);
    assert.ok(verifyCertificateChain(server.certificatePem, cas[Orgs.platform]!));
    assert.equal(cert.checkHost('broker.example.com'), 'broker.example.com');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkHost('evil.example.com'), undefined);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth only');
    assert.ok(cert.checkPrivateKey(createPrivateKey(server.privateKeyPem)));
    assert.deepEqual(parseIdentityCertificate(server.certificatePem).ous, ['tls']);
    const client = await store.issueTlsCertificate(Orgs.platform, { commonName: 'c2m-ingest', usage: 'client' });
    assert.deepEqual(new X509Certificate(client.certificatePem).keyUsage, ['1.3.6.1.5.5.7.3.2'], 'clientAuth only');
    await assert.rejects(
      store.issueTlsCertificate(Orgs.platform, { commonName: 'a b', usage: 'client' }),
      isCoded(ErrorCodes.VALIDATION_FAILED),
    );
    await assert.rejects(
      store.issueTlsCertificate('NoSuchOrg', { commonName: 'x', usage: 'client' }),
      isCoded(ErrorCodes.NOT_FOUND),
    );
  });
});
