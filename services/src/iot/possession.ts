import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { CodedError, ErrorCodes, parsePossessionChallenge } from '@c2m/shared';

/**
 * Proof of possession, the device's side and the platform's check. The text
 * signed is the challenge exactly as issued (shared `possessionChallengeText`);
 * the signature is ES256 as for device messages: ECDSA P-256 over SHA-256 of
 * the UTF-8 bytes, r||s (64 bytes), base64url.
 */

/**
 * Signs a challenge as a device (or its operator's tool) should: only a
 * well-formed challenge naming this device, so a platform that is not
 * trusted cannot get arbitrary bytes signed with the device key.
 */
export function signPossessionChallenge(privateKey: KeyObject | string, deviceId: string, challenge: string): string {
  const parsed = parsePossessionChallenge(challenge);
  if (!parsed)
    throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'not a proof-of-possession challenge; refusing to sign');
  if (parsed.deviceId !== deviceId) {
    throw new CodedError(ErrorCodes.VALIDATION_FAILED, `challenge names ${parsed.deviceId}, not ${deviceId}`);
  }
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return sign('sha256', Buffer.from(challenge, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

export function verifyPossession(publicKey: KeyObject | string, challenge: string, signature: string): boolean {
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    const sig = Buffer.from(signature, 'base64url');
    if (sig.length !== 64) return false;
    return verify('sha256', Buffer.from(challenge, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

/** What a certifier's HTTP client needs: post. Both the demo ApiSession and test wrappers fit. */
export interface PostingClient {
  post<T>(path: string, body: unknown): Promise<T>;
}

/**
 * The whole certification round for a device whose key is at hand (simulator,
 * demo, tests): ask for a challenge, sign it as the device, certify with it.
 */
export async function certifyWithProof<T = unknown>(
  certifier: PostingClient,
  deviceId: string,
  devicePrivateKey: KeyObject,
  body: { validUntil?: string; note?: string } = {},
): Promise<T> {
  const c = await certifier.post<{ challengeId: string; challenge: string }>(
    `/api/devices/${encodeURIComponent(deviceId)}/challenges`,
    {},
  );
  const signature = signPossessionChallenge(devicePrivateKey, deviceId, c.challenge);
  return certifier.post<T>(`/api/devices/${encodeURIComponent(deviceId)}/certify`, {
    ...body,
    challengeId: c.challengeId,
    signature,
  });
}
