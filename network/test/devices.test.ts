import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ChaincodeEvent, ErrorCodes, LedgerEvents } from '@c2m/shared';
import { devicesContract, EndorseError } from '../src/index.js';
import { certification, newDeviceKeys, possessionProof, TEST_DEVICE_PUBLIC_KEY } from './helpers/devices.js';
import { startNetwork, type TestNetwork } from './helpers/network.js';

const PUBLIC_KEY = TEST_DEVICE_PUBLIC_KEY;
const FINGERPRINT = 'ab'.repeat(32);

describe('devices through the real fabric-shim stub', () => {
  let net: TestNetwork;
  before(async () => {
    net = await startNetwork();
  });
  after(async () => net.cleanup());

  it('registers a device for the calling factory and certifies it', async () => {
    const factory = devicesContract(net.ledger, net.factory1);
    const certifier = devicesContract(net.ledger, net.certifier);
    const reg = await factory.registerDevice({
      deviceId: 'dev-1',
      model: 'PLC-9',
      serial: 'S1',
      line: 'L1',
      certificateFingerprint: FINGERPRINT,
      publicKeyPem: PUBLIC_KEY,
    });
    assert.equal(reg.record.ownerMspId, 'Factory1Org');
    assert.equal(reg.record.status, 'REGISTERED');
    assert.equal(reg.record.lastChange.by.cn, 'f1-manager');
    const validUntil = new Date(Date.now() + 86_400_000).toISOString();
    const cert = await certifier.certifyDevice('dev-1', certification('dev-1', validUntil, 'calibrated'));
    assert.equal(cert.record.status, 'CERTIFIED');
    assert.equal(cert.record.validUntil, validUntil);
    assert.deepEqual(cert.record.lastChange.by, { mspId: 'PlatformOrg', cn: 'certifier-1' });
    assert.equal(cert.record.lastChange.action, 'certify');
    assert.match(cert.record.lastChange.proof?.challenge ?? '', /^C2M-POP\/1 dev-1 /);

    const read = await factory.readDevice('dev-1');
    assert.deepEqual(read, cert.record);
    const info = await net.ledger.transaction(cert.txId);
    assert.equal(info?.validationCode, 'VALID');
    assert.equal(info?.blockNumber, cert.blockNumber);
  });

  it('emits events with exactly the bytes written', async () => {
    const events: ChaincodeEvent[] = [];
    const sub = await net.ledger.listen({ blockNumber: 0 }, (e) => {
      events.push(e);
    });
    await new Promise((r) => setTimeout(r, 20));
    sub.close();
    const certified = events.find((e) => e.eventName === LedgerEvents.deviceCertified);
    assert.ok(certified);
    const current = await devicesContract(net.ledger, net.factory1).readDevice('dev-1');
    assert.deepEqual(JSON.parse(Buffer.from(certified.payload).toString()), current);
  });

  it('refuses a factory certifying, with the chaincode code', async () => {
    const factory = devicesContract(net.ledger, net.factory1);
    await assert.rejects(
      factory.certifyDevice('dev-1', certification('dev-1', new Date(Date.now() + 1e7))),
      (err: unknown) => {
        assert.ok(err instanceof EndorseError);
        assert.equal(err.code, ErrorCodes.ACCESS_DENIED);
        assert.match(err.txId, /^[0-9a-f]{64}$/);
        return true;
      },
    );
  });

  it('refuses a duplicate device and a non-factory registrant', async () => {
    const d = {
      deviceId: 'dev-1',
      model: 'm',
      serial: 's',
      line: 'l',
      certificateFingerprint: FINGERPRINT,
      publicKeyPem: PUBLIC_KEY,
    };
    await assert.rejects(devicesContract(net.ledger, net.factory2).registerDevice(d), {
      code: ErrorCodes.DEVICE_EXISTS,
    });
    await assert.rejects(devicesContract(net.ledger, net.brand).registerDevice({ ...d, deviceId: 'dev-9' }), {
      code: ErrorCodes.ACCESS_DENIED,
    });
    await assert.rejects(
      devicesContract(net.ledger, net.factory1).registerDevice({
        ...d,
        deviceId: 'dev-9',
        certificateFingerprint: 'xyz',
      }),
      {
        code: ErrorCodes.VALIDATION_FAILED,
      },
    );
  });

  it('answers certification at a time from history', async () => {
    const certifier = devicesContract(net.ledger, net.certifier);
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await certifier.suspend('dev-1', 'recalibration due');
    const suspendedAt = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await certifier.reactivate('dev-1');
    assert.equal((await certifier.wasCertifiedAt('dev-1', before)).certified, true);
    const mid = await certifier.wasCertifiedAt('dev-1', suspendedAt);
    assert.equal(mid.certified, false);
    assert.equal(mid.status, 'SUSPENDED');
    assert.equal((await certifier.wasCertifiedAt('dev-1', new Date())).certified, true);
    assert.equal((await certifier.wasCertifiedAt('dev-1', '2000-01-01T00:00:00Z')).certified, false);
    const history = await certifier.history('dev-1');
    assert.deepEqual(
      history.map((h) => h.value?.status),
      ['CERTIFIED', 'SUSPENDED', 'CERTIFIED', 'REGISTERED'],
    );
    await certifier.revoke('dev-1', 'tampered');
    await assert.rejects(certifier.reactivate('dev-1'), { code: ErrorCodes.DEVICE_REVOKED });
  });

  it('certifies only with a fresh proof of possession by the registered key', async () => {
    const factory = devicesContract(net.ledger, net.factory1);
    const certifier = devicesContract(net.ledger, net.certifier);
    await factory.registerDevice({
      deviceId: 'dev-pop',
      model: 'm',
      serial: 's',
      line: 'l',
      certificateFingerprint: 'cd'.repeat(32),
      publicKeyPem: PUBLIC_KEY,
    });
    const until = new Date(Date.now() + 1e8);
    const other = newDeviceKeys();
    const attempts = [
      // signed by a key that is not the device's
      { proof: possessionProof('dev-pop', { privateKey: other.privateKey }), code: ErrorCodes.POSSESSION_NOT_PROVEN },
      // a proof made for another device
      { proof: possessionProof('dev-1'), code: ErrorCodes.POSSESSION_NOT_PROVEN },
      // made an hour ago
      {
        proof: possessionProof('dev-pop', { issuedAt: new Date(Date.now() - 3_600_000) }),
        code: ErrorCodes.POSSESSION_NOT_PROVEN,
      },
      // not a challenge at all (e.g. a device message body)
      { proof: { challenge: '{"deviceId":"dev-pop"}', signature: 'AAAA' }, code: ErrorCodes.VALIDATION_FAILED },
    ];
    for (const a of attempts) {
      await assert.rejects(certifier.certifyDevice('dev-pop', { validUntil: until, proof: a.proof }), { code: a.code });
    }
    // A valid signature over a different challenge text does not carry over.
    const good = possessionProof('dev-pop');
    const swapped = { challenge: possessionProof('dev-pop').challenge, signature: good.signature };
    await assert.rejects(certifier.certifyDevice('dev-pop', { validUntil: until, proof: swapped }), {
      code: ErrorCodes.POSSESSION_NOT_PROVEN,
    });
    assert.equal((await certifier.readDevice('dev-pop')).status, 'REGISTERED');
    const ok = await certifier.certifyDevice('dev-pop', { validUntil: until, proof: good });
    assert.equal(ok.record.status, 'CERTIFIED');
    assert.deepEqual(ok.record.lastChange.proof, good);
  });

  it('rotates a key by the owning factory only; the device needs a new proof with the new key', async () => {
    const factory = devicesContract(net.ledger, net.factory1);
    const certifier = devicesContract(net.ledger, net.certifier);
    const next = newDeviceKeys();
    const rotation = { certificateFingerprint: '12'.repeat(32), publicKeyPem: next.publicKeyPem, note: 'board swap' };
    await assert.rejects(devicesContract(net.ledger, net.factory2).rotateKey('dev-pop', rotation), {
      code: ErrorCodes.ACCESS_DENIED,
    });
    await assert.rejects(certifier.rotateKey('dev-pop', rotation), { code: ErrorCodes.ACCESS_DENIED });
    await assert.rejects(factory.rotateKey('dev-pop', { ...rotation, publicKeyPem: PUBLIC_KEY }), {
      code: ErrorCodes.VALIDATION_FAILED,
    });
    const beforeRotation = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const rotated = await factory.rotateKey('dev-pop', rotation);
    assert.equal(rotated.record.status, 'REGISTERED');
    assert.equal(rotated.record.validUntil, null);
    assert.equal(rotated.record.keyVersion, 2);
    assert.equal(rotated.record.publicKeyPem, next.publicKeyPem);
    assert.deepEqual(rotated.record.lastChange.by, { mspId: 'Factory1Org', cn: 'f1-manager' });
    assert.equal(rotated.record.lastChange.action, 'rotateKey');
    // The old key no longer proves possession; the new one does.
    const until = new Date(Date.now() + 1e8);
    await assert.rejects(certifier.certifyDevice('dev-pop', { validUntil: until, proof: possessionProof('dev-pop') }), {
      code: ErrorCodes.POSSESSION_NOT_PROVEN,
    });
    await certifier.certifyDevice('dev-pop', {
      validUntil: until,
      proof: possessionProof('dev-pop', { privateKey: next.privateKey }),
    });
    // Certified before the rotation, not between rotation and re-certification.
    assert.equal((await certifier.wasCertifiedAt('dev-pop', beforeRotation)).certified, true);
    assert.equal((await certifier.wasCertifiedAt('dev-pop', rotated.record.lastChange.at)).certified, false);
    // History keeps each key with the time it was in force.
    const keys = (await certifier.history('dev-pop')).map((h) => h.value?.publicKeyPem);
    assert.equal(keys[0], next.publicKeyPem);
    assert.equal(keys.at(-1), PUBLIC_KEY);
    await certifier.revoke('dev-pop', 'tampered');
    await assert.rejects(factory.rotateKey('dev-pop', { ...rotation, certificateFingerprint: '34'.repeat(32) }), {
      code: ErrorCodes.DEVICE_REVOKED,
    });
  });
});
