import { isUtf8 } from 'node:buffer';
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson, type DeviceEventType } from '@c2m/shared';
import { bodyProblem, isStorableText, keysSorted, structureProblem } from './message-rules.js';

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
  /** The event names a work order that is not its device's factory's (or does not exist). */
  WORK_ORDER_MISMATCH: 'WORK_ORDER_MISMATCH',
  /** The claimed event time lies outside the allowed skew around the time the platform received it. */
  CLOCK_SKEW: 'CLOCK_SKEW',
  /** The sequence number jumps further above the device's highest than the allowed gap. */
  SEQUENCE_GAP: 'SEQUENCE_GAP',
  /** Signed with a key the device held before a rotation. */
  KEY_ROTATED: 'KEY_ROTATED',
  /** Checking this one message failed unexpectedly; it is set aside so the others go on. */
  CHECK_FAILED: 'CHECK_FAILED',
  /** PostgreSQL refused to store this one message (found by splitting its batch). */
  WRITE_REJECTED: 'WRITE_REJECTED',
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

/** 64 bytes (r||s) in base64url without padding. */
const SIG_PATTERN = /^[A-Za-z0-9_-]{86}$/;

/** Signs a body as a device does. */
export function signDeviceMessage(body: DeviceMessageBody, privateKey: KeyObject | string): DeviceEnvelope {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const text = canonicalJson(body);
  const sig = sign('sha256', Buffer.from(text), { key, dsaEncoding: 'ieee-p1363' });
  return { body: text, sig: sig.toString('base64url') };
}

/** Parses the wire bytes into envelope and body, checking shape and the strict input rules (no signature). */
export function parseDeviceMessage(
  payload: Buffer | string,
  maxBytes = 16 * 1024,
): { envelope: DeviceEnvelope; body: DeviceMessageBody } {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (bytes.length > maxBytes) {
    throw new DeviceMessageError(DeviceMessageRejections.PAYLOAD_TOO_LARGE, `${bytes.length} bytes > ${maxBytes}`);
  }
  if (bytes.includes(0) || !isUtf8(bytes)) {
    throw new DeviceMessageError(DeviceMessageRejections.MALFORMED_JSON, 'payload is not NUL-free UTF-8');
  }
  let envelope: unknown;
  let body: unknown;
  try {
    envelope = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new DeviceMessageError(DeviceMessageRejections.MALFORMED_JSON, 'payload is not JSON');
  }
  const env = envelope as Partial<DeviceEnvelope> | null;
  if (
    !env ||
    typeof env !== 'object' ||
    Array.isArray(env) ||
    typeof env.body !== 'string' ||
    typeof env.sig !== 'string' ||
    Object.keys(env).length !== 2
  ) {
    throw new DeviceMessageError(
      DeviceMessageRejections.VALIDATION_FAILED,
      'envelope needs exactly a string body and a string sig',
    );
  }
  if (!SIG_PATTERN.test(env.sig)) {
    throw new DeviceMessageError(DeviceMessageRejections.VALIDATION_FAILED, 'sig must be 64 bytes, base64url');
  }
  if (!isStorableText(env.body)) {
    throw new DeviceMessageError(DeviceMessageRejections.VALIDATION_FAILED, 'body has NUL or a lone surrogate');
  }
  try {
    body = JSON.parse(env.body);
  } catch {
    throw new DeviceMessageError(DeviceMessageRejections.MALFORMED_JSON, 'body is not JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new DeviceMessageError(DeviceMessageRejections.VALIDATION_FAILED, 'body must be an object');
  }
  const problem = structureProblem(body) ?? bodyProblem(body as Record<string, unknown>);
  if (problem) throw new DeviceMessageError(DeviceMessageRejections.VALIDATION_FAILED, `body: ${problem}`);
  if (!isCanonical(body, env.body)) {
    throw new DeviceMessageError(DeviceMessageRejections.VALIDATION_FAILED, 'body is not canonical JSON');
  }
  return { envelope: env as DeviceEnvelope, body: body as DeviceMessageBody };
}

/**
 * Is `text` the canonical JSON of `value` (parsed from it)? The fast path:
 * when every object's keys already come in sorted order, JSON.stringify
 * produces the canonical form natively, several times faster than
 * re-serialising; anything else takes the reference serialiser. The value's
 * depth is bounded before this runs (`structureProblem`).
 */
function isCanonical(value: unknown, text: string): boolean {
  if (keysSorted(value)) return JSON.stringify(value) === text;
  return canonicalJson(value) === text;
}

/** Checks the ES256 signature of an envelope with the device's public key. */
export function verifyDeviceSignature(envelope: DeviceEnvelope, publicKey: KeyObject | string): boolean {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const sig = Buffer.from(envelope.sig, 'base64url');
  if (sig.length !== 64) return false;
  return verify('sha256', Buffer.from(envelope.body), { key, dsaEncoding: 'ieee-p1363' }, sig);
}
