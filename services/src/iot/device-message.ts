import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson, type DeviceEventType, DeviceEventTypes } from '@c2m/shared';

/**
 * The signed device message (see services/docs/device-messages.md).
 *
 * On the wire: `{"body":"<canonical JSON>","sig":"<base64url ES256 signature>"}`.
 * `body` is a string, so the verifier checks the exact bytes the device signed;
 * it must also be canonical (sorted keys, no whitespace), so one event has one
 * byte form and one Merkle leaf. The signature is ES256 as in JWS: ECDSA P-256
 * over SHA-256 of the body's UTF-8 bytes, encoded r||s (64 bytes), base64url.
 */
export interface DeviceMessageBody {
  readonly v: 1;
  readonly deviceId: string;
  /** Per-device sequence number, strictly increasing from 1. */
  readonly seq: number;
  /** Event time, ISO 8601 UTC. */
  readonly time: string;
  readonly type: DeviceEventType;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface DeviceEnvelope {
  readonly body: string;
  readonly sig: string;
}

export const DeviceMessageRejections = {
  MALFORMED_JSON: 'MALFORMED_JSON',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNKNOWN_DEVICE: 'UNKNOWN_DEVICE',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  DEVICE_NOT_CERTIFIED: 'DEVICE_NOT_CERTIFIED',
  DEVICE_REVOKED: 'DEVICE_REVOKED',
  REPLAY: 'REPLAY',
  TOPIC_MISMATCH: 'TOPIC_MISMATCH',
} as const;
export type DeviceMessageRejection = (typeof DeviceMessageRejections)[keyof typeof DeviceMessageRejections];

export class DeviceMessageError extends Error {
  readonly reason: DeviceMessageRejection;
  constructor(reason: DeviceMessageRejection, message: string) {
    super(message);
    this.name = 'DeviceMessageError';
    this.reason = reason;
  }
}

const EVENT_TYPES = new Set<string>(Object.values(DeviceEventTypes));
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Signs a body as a device does. */
export function signDeviceMessage(body: DeviceMessageBody, privateKey: KeyObject | string): DeviceEnvelope {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const text = canonicalJson(body);
  const sig = sign('sha256', Buffer.from(text), { key, dsaEncoding: 'ieee-p1363' });
  return { body: text, sig: sig.toString('base64url') };
}

/** Parses the wire bytes into envelope and body, checking shape only (no signature). */
export function parseDeviceMessage(
  payload: Buffer | string,
  maxBytes = 16 * 1024,
): { envelope: DeviceEnvelope; body: DeviceMessageBody } {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) {
    throw new DeviceMessageError(DeviceMessageRejections.PAYLOAD_TOO_LARGE, `${size} bytes > ${maxBytes}`);
  }
  let envelope: unknown;
  let body: unknown;
  try {
    envelope = JSON.parse(payload.toString());
  } catch {
    throw new DeviceMessageError(DeviceMessageRejections.MALFORMED_JSON, 'payload is not JSON');
  }
  const env = envelope as Partial<DeviceEnvelope> | null;
  if (!env || typeof env !== 'object' || typeof env.body !== 'string' || typeof env.sig !== 'string') {
    throw new DeviceMessageError(DeviceMessageRejections.VALIDATION_FAILED, 'envelope needs string body and sig');
  }
  try {
    body = JSON.parse(env.body);
  } catch {
    throw new DeviceMessageError(DeviceMessageRejections.MALFORMED_JSON, 'body is not JSON');
  }
  const b = body as Partial<DeviceMessageBody> | null;
  if (
    !b ||
    typeof b !== 'object' ||
    b.v !== 1 ||
    typeof b.deviceId !== 'string' ||
    !ID_PATTERN.test(b.deviceId) ||
    !Number.isSafeInteger(b.seq) ||
    (b.seq as number) < 1 ||
    typeof b.time !== 'string' ||
    Number.isNaN(Date.parse(b.time)) ||
    typeof b.type !== 'string' ||
    !EVENT_TYPES.has(b.type) ||
    !b.data ||
    typeof b.data !== 'object' ||
    Array.isArray(b.data)
  ) {
    throw new DeviceMessageError(
      DeviceMessageRejections.VALIDATION_FAILED,
      'body needs v=1, deviceId, seq >= 1, ISO time, a known type and an object data',
    );
  }
  if (!isCanonical(b, env.body)) {
    throw new DeviceMessageError(DeviceMessageRejections.VALIDATION_FAILED, 'body is not canonical JSON');
  }
  return { envelope: env as DeviceEnvelope, body: b as DeviceMessageBody };
}

/**
 * Is `text` the canonical JSON of `value` (parsed from it)? The fast path:
 * when every object's keys already come in sorted order, JSON.stringify
 * produces the canonical form natively, several times faster than
 * re-serialising; anything else takes the reference serialiser.
 */
function isCanonical(value: unknown, text: string): boolean {
  if (keysSorted(value)) return JSON.stringify(value) === text;
  return canonicalJson(value) === text;
}

function keysSorted(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(keysSorted);
  let previous: string | undefined;
  for (const k in value) {
    if (previous !== undefined && !(previous < k)) return false;
    previous = k;
    if (!keysSorted((value as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** Checks the ES256 signature of an envelope with the device's public key. */
export function verifyDeviceSignature(envelope: DeviceEnvelope, publicKey: KeyObject | string): boolean {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const sig = Buffer.from(envelope.sig, 'base64url');
  if (sig.length !== 64) return false;
  return verify('sha256', Buffer.from(envelope.body), { key, dsaEncoding: 'ieee-p1363' }, sig);
}
