import type { CertificationAnswer, DeviceRecord, PossessionProof } from '@c2m/chaincode';
import type { Ledger, LedgerIdentity } from '@c2m/shared';
import { type Committed, evaluateJson, isoString, submitCommitted } from './submit.js';

export interface DeviceRegistration {
  readonly deviceId: string;
  readonly model: string;
  readonly serial: string;
  readonly line: string;
  /** sha256 (hex) of the device certificate's DER. */
  readonly certificateFingerprint: string;
  readonly publicKeyPem: string;
}

export interface DeviceHistoryEntry {
  readonly txId: string;
  readonly timestamp: string;
  /** null when the key was deleted in that transaction. */
  readonly value: DeviceRecord | null;
}

export interface Certification {
  readonly validUntil: string | Date;
  readonly note?: string;
  /** The device's ES256 signature over a fresh challenge (shared `possessionChallengeText`); the chaincode verifies it. */
  readonly proof: PossessionProof;
}

export interface KeyRotation {
  /** sha256 (hex) of the new certificate's DER. */
  readonly certificateFingerprint: string;
  readonly publicKeyPem: string;
  readonly note?: string;
}

export interface DevicesContract {
  /** By a factory org; the device belongs to the caller's MSP. */
  registerDevice(input: DeviceRegistration): Promise<Committed<DeviceRecord>>;
  /** PlatformOrg certifier only, with the device's proof of possession. */
  certifyDevice(deviceId: string, certification: Certification): Promise<Committed<DeviceRecord>>;
  /** By the owning factory: new certificate and key; the device returns to REGISTERED. */
  rotateKey(deviceId: string, rotation: KeyRotation): Promise<Committed<DeviceRecord>>;
  suspend(deviceId: string, note?: string): Promise<Committed<DeviceRecord>>;
  reactivate(deviceId: string, note?: string): Promise<Committed<DeviceRecord>>;
  revoke(deviceId: string, note?: string): Promise<Committed<DeviceRecord>>;
  readDevice(deviceId: string): Promise<DeviceRecord>;
  /** Newest first. */
  history(deviceId: string): Promise<DeviceHistoryEntry[]>;
  wasCertifiedAt(deviceId: string, time: string | Date): Promise<CertificationAnswer>;
}

export function devicesContract(ledger: Ledger, identity: LedgerIdentity): DevicesContract {
  const submit = (fn: string, args: string[]) =>
    submitCommitted<DeviceRecord>(ledger, identity, fn, { arguments: args });
  return {
    registerDevice: (d) =>
      submit('Devices:RegisterDevice', [
        d.deviceId,
        d.model,
        d.serial,
        d.line,
        d.certificateFingerprint,
        d.publicKeyPem,
      ]),
    certifyDevice: (deviceId, c) =>
      submit('Devices:CertifyDevice', [
        deviceId,
        isoString(c.validUntil),
        c.note ?? '',
        c.proof.challenge,
        c.proof.signature,
      ]),
    rotateKey: (deviceId, r) =>
      submit('Devices:RotateDeviceKey', [deviceId, r.certificateFingerprint, r.publicKeyPem, r.note ?? '']),
    suspend: (deviceId, note = '') => submit('Devices:SuspendDevice', [deviceId, note]),
    reactivate: (deviceId, note = '') => submit('Devices:ReactivateDevice', [deviceId, note]),
    revoke: (deviceId, note = '') => submit('Devices:RevokeDevice', [deviceId, note]),
    readDevice: (deviceId) => evaluateJson(ledger, identity, 'Devices:ReadDevice', [deviceId]),
    history: (deviceId) => evaluateJson(ledger, identity, 'Devices:DeviceHistory', [deviceId]),
    wasCertifiedAt: (deviceId, time) =>
      evaluateJson(ledger, identity, 'Devices:WasCertifiedAt', [deviceId, isoString(time)]),
  };
}
