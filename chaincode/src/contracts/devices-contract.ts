import { canonicalJson, type DeviceStatus, DeviceStatuses, LedgerEvents, OrgKinds, Roles } from '@c2m/shared';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { type Actor, actor, type Caller, requireOrgKind, requirePlatformRole } from '../lib/access.js';
import { ErrorCodes, fail } from '../lib/errors.js';
import { KeyPrefixes, recordKey } from '../lib/keys.js';
import { readRecord, unmarshal, writeRecord } from '../lib/marshal.js';
import { txTime } from '../lib/time.js';
import { hex, id, isoTime, pemPublicKey, text } from '../lib/validate.js';

export interface StatusChange {
  readonly from: DeviceStatus | null;
  readonly to: DeviceStatus;
  readonly at: string;
  readonly by: Actor;
  readonly txId: string;
  readonly note: string;
}

export interface DeviceRecord {
  readonly docType: 'device';
  readonly deviceId: string;
  readonly ownerMspId: string;
  readonly model: string;
  readonly serial: string;
  readonly line: string;
  readonly certificateFingerprint: string;
  readonly publicKeyPem: string;
  readonly status: DeviceStatus;
  /** End of the current certification; null until first certified. */
  readonly validUntil: string | null;
  readonly certifiedAt: string | null;
  readonly registeredAt: string;
  /** Bumped on every write, so history entries with the same timestamp still have an order. */
  readonly revision: number;
  readonly lastChange: StatusChange;
}

export interface CertificationAnswer {
  readonly deviceId: string;
  readonly at: string;
  readonly certified: boolean;
  readonly status: DeviceStatus | null;
  readonly validUntil: string | null;
}

/** Which statuses each lifecycle action may start from. Revocation is terminal. */
const TRANSITIONS = {
  certify: [DeviceStatuses.registered, DeviceStatuses.certified, DeviceStatuses.suspended],
  suspend: [DeviceStatuses.certified],
  reactivate: [DeviceStatuses.suspended],
  revoke: [DeviceStatuses.registered, DeviceStatuses.certified, DeviceStatuses.suspended],
} as const satisfies Record<string, readonly DeviceStatus[]>;

/** Validates a registration at the edge; the owner is the caller's MSP, never an argument. */
function newDevice(ctx: Context, by: Caller, args: Record<string, unknown>): DeviceRecord {
  const at = txTime(ctx);
  return {
    docType: 'device',
    deviceId: id('deviceId', args.deviceId),
    ownerMspId: by.mspId,
    model: text('model', args.model, 200),
    serial: text('serial', args.serial, 200),
    line: text('line', args.line, 200),
    certificateFingerprint: hex('certificateFingerprint', args.certificateFingerprint, 32),
    publicKeyPem: pemPublicKey('publicKeyPem', args.publicKeyPem),
    status: DeviceStatuses.registered,
    validUntil: null,
    certifiedAt: null,
    registeredAt: at,
    revision: 1,
    lastChange: {
      from: null,
      to: DeviceStatuses.registered,
      at,
      by: actor(by),
      txId: ctx.stub.getTxID(),
      note: '',
    },
  };
}

@Info({ title: 'Devices', description: 'Factory IoT devices and their certification' })
export class DevicesContract extends Contract {
  constructor() {
    super('Devices');
  }

  @Transaction()
  @Returns('string')
  async RegisterDevice(
    ctx: Context,
    deviceId: string,
    model: string,
    serial: string,
    line: string,
    certificateFingerprint: string,
    publicKeyPem: string,
  ): Promise<string> {
    const by = await requireOrgKind(ctx, OrgKinds.factory, 'RegisterDevice');
    const device = newDevice(ctx, by, { deviceId, model, serial, line, certificateFingerprint, publicKeyPem });
    const key = recordKey(ctx, KeyPrefixes.device, device.deviceId);
    if (await readRecord(ctx, key)) fail(ErrorCodes.DEVICE_EXISTS, `device ${device.deviceId} is already registered`);
    return writeRecord(ctx, key, device, LedgerEvents.deviceRegistered);
  }

  @Transaction()
  @Returns('string')
  async CertifyDevice(ctx: Context, deviceId: string, validUntil: string, note: string): Promise<string> {
    const by = requirePlatformRole(ctx, Roles.certifier, 'CertifyDevice');
    const until = isoTime('validUntil', validUntil);
    const now = txTime(ctx);
    if (until <= now)
      fail(ErrorCodes.VALIDATION_FAILED, `validUntil ${until} is not after the transaction time ${now}`);
    return this.#change(ctx, by, deviceId, 'certify', DeviceStatuses.certified, text('note', note, 1000, true), until);
  }

  @Transaction()
  @Returns('string')
  async SuspendDevice(ctx: Context, deviceId: string, note: string): Promise<string> {
    const by = requirePlatformRole(ctx, Roles.certifier, 'SuspendDevice');
    return this.#change(ctx, by, deviceId, 'suspend', DeviceStatuses.suspended, text('note', note, 1000, true));
  }

  @Transaction()
  @Returns('string')
  async ReactivateDevice(ctx: Context, deviceId: string, note: string): Promise<string> {
    const by = requirePlatformRole(ctx, Roles.certifier, 'ReactivateDevice');
    return this.#change(ctx, by, deviceId, 'reactivate', DeviceStatuses.certified, text('note', note, 1000, true));
  }

  @Transaction()
  @Returns('string')
  async RevokeDevice(ctx: Context, deviceId: string, note: string): Promise<string> {
    const by = requirePlatformRole(ctx, Roles.certifier, 'RevokeDevice');
    return this.#change(ctx, by, deviceId, 'revoke', DeviceStatuses.revoked, text('note', note, 1000, true));
  }

  @Transaction(false)
  @Returns('string')
  async ReadDevice(ctx: Context, deviceId: string): Promise<string> {
    return canonicalJson(await this.#load(ctx, deviceId));
  }

  /** Every committed version of the device, newest first, with the transaction that wrote it. */
  @Transaction(false)
  @Returns('string')
  async DeviceHistory(ctx: Context, deviceId: string): Promise<string> {
    const entries = await this.#history(ctx, deviceId);
    return canonicalJson(entries);
  }

  /**
   * Was the device certified at `isoTime`? Answered from history, not from the
   * current record, so a later suspension does not rewrite the past and a
   * later re-certification does not whitewash a suspended interval.
   */
  @Transaction(false)
  @Returns('string')
  async WasCertifiedAt(ctx: Context, deviceId: string, at: string): Promise<string> {
    const t = isoTime('isoTime', at);
    const entries = await this.#history(ctx, deviceId);
    // The version in force at t is the last one written at or before t.
    let inForce: DeviceRecord | undefined;
    for (const e of entries) {
      if (e.value && e.value.lastChange.at <= t && (!inForce || e.value.revision > inForce.revision)) inForce = e.value;
    }
    const certified =
      inForce !== undefined &&
      inForce.status === DeviceStatuses.certified &&
      inForce.validUntil !== null &&
      t < inForce.validUntil;
    const answer: CertificationAnswer = {
      deviceId,
      at: t,
      certified,
      status: inForce?.status ?? null,
      validUntil: inForce?.validUntil ?? null,
    };
    return canonicalJson(answer);
  }

  async #load(ctx: Context, deviceId: string): Promise<DeviceRecord> {
    const device = await readRecord<DeviceRecord>(ctx, recordKey(ctx, KeyPrefixes.device, id('deviceId', deviceId)));
    if (!device) fail(ErrorCodes.DEVICE_NOT_FOUND, `device ${deviceId} is not registered`);
    return device;
  }

  async #history(
    ctx: Context,
    deviceId: string,
  ): Promise<{ txId: string; timestamp: string; value: DeviceRecord | null }[]> {
    const key = recordKey(ctx, KeyPrefixes.device, id('deviceId', deviceId));
    const entries: { txId: string; timestamp: string; value: DeviceRecord | null }[] = [];
    for await (const mod of ctx.stub.getHistoryForKey(key)) {
      const seconds = Number(mod.timestamp.seconds);
      const millis = seconds * 1000 + Math.floor(mod.timestamp.nanos / 1e6);
      entries.push({
        txId: mod.txId,
        timestamp: new Date(millis).toISOString(),
        value: mod.isDelete ? null : unmarshal<DeviceRecord>(mod.value),
      });
    }
    if (entries.length === 0) fail(ErrorCodes.DEVICE_NOT_FOUND, `device ${deviceId} is not registered`);
    return entries;
  }

  async #change(
    ctx: Context,
    by: Caller,
    deviceId: string,
    action: keyof typeof TRANSITIONS,
    to: DeviceStatus,
    note: string,
    validUntil?: string,
  ): Promise<string> {
    const device = await this.#load(ctx, deviceId);
    const allowed: readonly DeviceStatus[] = TRANSITIONS[action];
    if (!allowed.includes(device.status)) {
      if (device.status === DeviceStatuses.revoked) fail(ErrorCodes.DEVICE_REVOKED, `device ${deviceId} is revoked`);
      fail(ErrorCodes.INVALID_STATE, `cannot ${action} device ${deviceId} in status ${device.status}`);
    }
    const at = txTime(ctx);
    const next: DeviceRecord = {
      ...device,
      status: to,
      validUntil: validUntil ?? device.validUntil,
      certifiedAt: action === 'certify' ? at : device.certifiedAt,
      revision: device.revision + 1,
      lastChange: { from: device.status, to, at, by: actor(by), txId: ctx.stub.getTxID(), note },
    };
    const event = action === 'certify' ? LedgerEvents.deviceCertified : LedgerEvents.deviceStatusChanged;
    return writeRecord(ctx, recordKey(ctx, KeyPrefixes.device, device.deviceId), next, event);
  }
}
