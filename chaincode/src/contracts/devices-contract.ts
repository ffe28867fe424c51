import { createPublicKey, verify } from 'node:crypto';
import {
  canonicalJson,
  type DeviceStatus,
  DeviceStatuses,
  LedgerEvents,
  OrgKinds,
  Orgs,
  POSSESSION_CHALLENGE_MAX_AGE_MS,
  parsePossessionChallenge,
  Roles,
} from '@c2m/shared';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { type Actor, actor, type Caller, requireOrgKind, requirePlatformRole } from '../lib/access.js';
import { setRecordOwners } from '../lib/endorsement.js';
import { ErrorCodes, fail } from '../lib/errors.js';
import { KeyPrefixes, recordKey } from '../lib/keys.js';
import { readRecord, unmarshal, writeRecord } from '../lib/marshal.js';
import { txTime } from '../lib/time.js';
import { hex, id, isoTime, pemPublicKey, text } from '../lib/validate.js';

/** What a lifecycle write did; records written before this field existed lack it. */
export const DeviceActions = {
  register: 'register',
  certify: 'certify',
  suspend: 'suspend',
  reactivate: 'reactivate',
  revoke: 'revoke',
  rotateKey: 'rotateKey',
} as const;
export type DeviceAction = (typeof DeviceActions)[keyof typeof DeviceActions];

/** The proof of possession a certification rests on, kept so anyone can re-verify it against the key. */
export interface PossessionProof {
  readonly challenge: string;
  /** ES256 over the challenge's UTF-8 bytes, r||s, base64url. */
  readonly signature: string;
}

export interface StatusChange {
  readonly action?: DeviceAction;
  readonly from: DeviceStatus | null;
  readonly to: DeviceStatus;
  readonly at: string;
  readonly by: Actor;
  readonly txId: string;
  readonly note: string;
  /** On certifications: the device's signature over a fresh challenge. */
  readonly proof?: PossessionProof;
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
  /** 1 at registration, +1 per key rotation; the key of any past time is in the history entry in force then. */
  readonly keyVersion?: number;
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
  rotateKey: [DeviceStatuses.registered, DeviceStatuses.certified, DeviceStatuses.suspended],
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
    keyVersion: 1,
    lastChange: {
      action: DeviceActions.register,
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
    const written = await writeRecord(ctx, key, device, LedgerEvents.deviceRegistered);
    // A device record is the factory's asset vouched for by the platform's certifiers: every later change
    // (certify, suspend, rotate, revoke) needs both their peers, so neither can rewrite it alone and no
    // other factory's peer counts towards it.
    await setRecordOwners(ctx, key, [Orgs.platform, by.mspId]);
    return written;
  }

  @Transaction()
  @Returns('string')
  async CertifyDevice(
    ctx: Context,
    deviceId: string,
    validUntil: string,
    note: string,
    challenge: string,
    signature: string,
  ): Promise<string> {
    const by = requirePlatformRole(ctx, Roles.certifier, 'CertifyDevice');
    const until = isoTime('validUntil', validUntil);
    const now = txTime(ctx);
    if (until <= now)
      fail(ErrorCodes.VALIDATION_FAILED, `validUntil ${until} is not after the transaction time ${now}`);
    const device = await this.#load(ctx, deviceId);
    const proof = checkPossession(device, now, challenge, signature);
    return this.#change(ctx, by, deviceId, 'certify', DeviceStatuses.certified, text('note', note, 1000, true), {
      validUntil: until,
      proof,
    });
  }

  /**
   * The owning factory replaces the device's key (new certificate from its CA).
   * The device drops back to REGISTERED: its new key has not been proven to a
   * certifier yet. Older history entries keep the old key, so events signed
   * before the rotation still verify against the key in force at their time.
   */
  @Transaction()
  @Returns('string')
  async RotateDeviceKey(
    ctx: Context,
    deviceId: string,
    certificateFingerprint: string,
    publicKeyPem: string,
    note: string,
  ): Promise<string> {
    const by = await requireOrgKind(ctx, OrgKinds.factory, 'RotateDeviceKey');
    const device = await this.#load(ctx, deviceId);
    if (device.ownerMspId !== by.mspId) {
      fail(ErrorCodes.ACCESS_DENIED, `device ${deviceId} belongs to ${device.ownerMspId}, not ${by.mspId}`);
    }
    if (device.status === DeviceStatuses.revoked) fail(ErrorCodes.DEVICE_REVOKED, `device ${deviceId} is revoked`);
    const fingerprint = hex('certificateFingerprint', certificateFingerprint, 32);
    const pem = pemPublicKey('publicKeyPem', publicKeyPem);
    if (fingerprint === device.certificateFingerprint || pem === device.publicKeyPem) {
      fail(ErrorCodes.VALIDATION_FAILED, `device ${deviceId} already uses this certificate or key`);
    }
    return this.#change(ctx, by, deviceId, 'rotateKey', DeviceStatuses.registered, text('note', note, 1000, true), {
      validUntil: null,
      certificateFingerprint: fingerprint,
      publicKeyPem: pem,
    });
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
    patch: {
      validUntil?: string | null;
      proof?: PossessionProof;
      certificateFingerprint?: string;
      publicKeyPem?: string;
    } = {},
  ): Promise<string> {
    const device = await this.#load(ctx, deviceId);
    const allowed: readonly DeviceStatus[] = TRANSITIONS[action];
    if (!allowed.includes(device.status)) {
      if (device.status === DeviceStatuses.revoked) fail(ErrorCodes.DEVICE_REVOKED, `device ${deviceId} is revoked`);
      fail(ErrorCodes.INVALID_STATE, `cannot ${action} device ${deviceId} in status ${device.status}`);
    }
    const at = txTime(ctx);
    const rotated = patch.publicKeyPem !== undefined;
    const next: DeviceRecord = {
      ...device,
      status: to,
      validUntil: patch.validUntil !== undefined ? patch.validUntil : device.validUntil,
      certifiedAt: action === 'certify' ? at : device.certifiedAt,
      certificateFingerprint: patch.certificateFingerprint ?? device.certificateFingerprint,
      publicKeyPem: patch.publicKeyPem ?? device.publicKeyPem,
      revision: device.revision + 1,
      keyVersion: (device.keyVersion ?? 1) + (rotated ? 1 : 0),
      lastChange: {
        action: DeviceActions[action],
        from: device.status,
        to,
        at,
        by: actor(by),
        txId: ctx.stub.getTxID(),
        note,
        ...(patch.proof ? { proof: patch.proof } : {}),
      },
    };
    // A rotation is a status change (back to REGISTERED): listeners that drop cached keys on status changes see it.
    const event = action === 'certify' ? LedgerEvents.deviceCertified : LedgerEvents.deviceStatusChanged;
    return writeRecord(ctx, recordKey(ctx, KeyPrefixes.device, device.deviceId), next, event);
  }
}

/**
 * Verifies the device's proof of possession against the key the ledger holds.
 * The challenge names the device and its issue time, so a proof made for one
 * device or long ago does not certify another device or today; node:crypto's
 * verify is deterministic, so every endorser reaches the same answer.
 */
function checkPossession(device: DeviceRecord, now: string, challenge: string, signature: string): PossessionProof {
  const parsed = typeof challenge === 'string' ? parsePossessionChallenge(challenge) : undefined;
  if (!parsed) fail(ErrorCodes.VALIDATION_FAILED, 'challenge is not a proof-of-possession challenge');
  if (parsed.deviceId !== device.deviceId) {
    fail(ErrorCodes.POSSESSION_NOT_PROVEN, `challenge was issued for ${parsed.deviceId}, not ${device.deviceId}`);
  }
  const age = Date.parse(now) - Date.parse(parsed.issuedAt);
  // A minute of clock skew between the platform and the proposal's timestamp is tolerated.
  if (age > POSSESSION_CHALLENGE_MAX_AGE_MS || age < -60_000) {
    fail(ErrorCodes.POSSESSION_NOT_PROVEN, `challenge issued at ${parsed.issuedAt} is not fresh at ${now}`);
  }
  if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(signature)) {
    fail(ErrorCodes.VALIDATION_FAILED, 'signature must be base64url');
  }
  let ok = false;
  try {
    ok = verify(
      'sha256',
      Buffer.from(challenge, 'utf8'),
      { key: createPublicKey(device.publicKeyPem), dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
  } catch {
    ok = false;
  }
  if (!ok) fail(ErrorCodes.POSSESSION_NOT_PROVEN, `signature does not verify with the key of ${device.deviceId}`);
  return { challenge, signature };
}
