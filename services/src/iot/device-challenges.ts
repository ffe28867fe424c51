import { randomBytes, randomUUID } from 'node:crypto';
import { CodedError, ErrorCodes, possessionChallengeText } from '@c2m/shared';
import type pg from 'pg';

export interface IssuedChallenge {
  readonly challengeId: string;
  readonly deviceId: string;
  /** The exact text the device signs. */
  readonly challenge: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
}

/** Five minutes: enough for an operator to carry the challenge to the device and back, short for a replay. */
export const DEFAULT_CHALLENGE_TTL_MS = 5 * 60_000;

/**
 * Proof-of-possession challenges in PostgreSQL: random, expiring, single use.
 * The ledger checks the signature and the challenge's age again; this store is
 * what makes each challenge usable once.
 */
export function createChallengeStore(pool: pg.Pool, ttlMs = DEFAULT_CHALLENGE_TTL_MS) {
  return {
    async issue(deviceId: string, issuedBy: string): Promise<IssuedChallenge> {
      const issued = new Date();
      const expires = new Date(issued.getTime() + ttlMs);
      const challengeId = randomUUID();
      const challenge = possessionChallengeText({
        deviceId,
        issuedAt: issued.toISOString(),
        nonce: randomBytes(32).toString('base64url'),
      });
      await pool.query(
        `INSERT INTO device_challenges (id, device_id, challenge, issued_by, issued_at, expires_at)
         VALUES ($1,$2,$3,$4,$5,$6)`,
        [challengeId, deviceId, challenge, issuedBy, issued, expires],
      );
      // Unused challenges are worth nothing once expired; used ones stay (with their tx) for the audit trail.
      await pool.query(
        `DELETE FROM device_challenges WHERE device_id = $1 AND used_at IS NULL AND expires_at < now() - interval '1 day'`,
        [deviceId],
      );
      return {
        challengeId,
        deviceId,
        challenge,
        issuedAt: issued.toISOString(),
        expiresAt: expires.toISOString(),
      };
    },

    /**
     * Marks the challenge used and returns its text, or explains why not. The
     * UPDATE is the single-use guard: two concurrent certifications with one
     * challenge cannot both get a row back.
     */
    async consume(deviceId: string, challengeId: string): Promise<string> {
      const { rows } = await pool.query(
        `UPDATE device_challenges SET used_at = now()
         WHERE id = $1 AND device_id = $2 AND used_at IS NULL AND expires_at > now()
         RETURNING challenge`,
        [challengeId, deviceId],
      );
      if (rows[0]) return rows[0].challenge as string;
      const found = await pool.query('SELECT used_at FROM device_challenges WHERE id = $1 AND device_id = $2', [
        challengeId,
        deviceId,
      ]);
      const row = found.rows[0];
      if (!row) {
        throw new CodedError(ErrorCodes.CHALLENGE_NOT_FOUND, `no challenge ${challengeId} for ${deviceId}`, 404);
      }
      if (row.used_at)
        throw new CodedError(ErrorCodes.CHALLENGE_USED, `challenge ${challengeId} was already used`, 409);
      throw new CodedError(
        ErrorCodes.CHALLENGE_EXPIRED,
        `challenge ${challengeId} has expired; ask for a new one`,
        409,
      );
    },

    async recordUse(challengeId: string, txId: string): Promise<void> {
      await pool.query('UPDATE device_challenges SET used_tx = $2 WHERE id = $1', [challengeId, txId]);
    },
  };
}

export type ChallengeStore = ReturnType<typeof createChallengeStore>;
