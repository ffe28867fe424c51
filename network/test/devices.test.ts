import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ChaincodeEvent, ErrorCodes, LedgerEvents } from '@c2m/shared';
import { devicesContract, EndorseError } from '../src/index.js';
import { startNetwork, type TestNetwork } from './helpers/network.js';

const PUBLIC_KEY = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n';
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
    const cert = await certifier.certifyDevice('dev-1', validUntil, 'calibrated');
    assert.equal(cert.record.status, 'CERTIFIED');
    assert.equal(cert.record.validUntil, validUntil);
    assert.deepEqual(cert.record.lastChange.by, { mspId: 'PlatformOrg', cn: 'certifier-1' });

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
    await assert.rejects(factory.certifyDevice('dev-1', new Date(Date.now() + 1e7)), (err: unknown) => {
      assert.ok(err instanceof EndorseError);
      assert.equal(err.code, ErrorCodes.ACCESS_DENIED);
      assert.match(err.txId, /^[0-9a-f]{64}$/);
      return true;
    });
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
});
