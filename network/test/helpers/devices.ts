import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { possessionChallengeText } from '@c2m/shared';
import type { Certification } from '../../src/index.js';

/** One real P-256 key for test devices: certification verifies a signature against the registered key. */
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

export const TEST_DEVICE_PUBLIC_KEY = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

export function newDeviceKeys() {
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey: k.privateKey, publicKeyPem: k.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** A challenge for the device signed with the test key (or `privateKey`), as a device answers one. */
export function possessionProof(
  deviceId: string,
  options: { issuedAt?: Date; privateKey?: ReturnType<typeof newDeviceKeys>['privateKey'] } = {},
) {
  const challenge = possessionChallengeText({
    deviceId,
    issuedAt: (options.issuedAt ?? new Date()).toISOString(),
    nonce: randomBytes(24).toString('base64url'),
  });
  const signature = sign('sha256', Buffer.from(challenge), {
    key: options.privateKey ?? keys.privateKey,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64url');
  return { challenge, signature };
}

export function certification(deviceId: string, validUntil: string | Date, note?: string): Certification {
  return { validUntil, note, proof: possessionProof(deviceId) };
}
