import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { CodedError, ErrorCodes } from '@c2m/shared';
import type pg from 'pg';

/** Why a session ended, kept on its row. */
export const RevokeReasons = {
  logout: 'logout',
  passwordChanged: 'password-changed',
  passwordReset: 'password-reset',
  disabled: 'disabled',
  refreshReused: 'refresh-reused',
} as const;
export type RevokeReason = (typeof RevokeReasons)[keyof typeof RevokeReasons];

export interface OpenedSession {
  readonly sid: string;
  readonly username: string;
  /** `<sid>.<secret>`; only a hash of the secret is stored. */
  readonly refreshToken: string;
  readonly expiresAt: Date;
}

export interface Sessions {
  open(username: string): Promise<OpenedSession>;
  /**
   * Exchanges a refresh token for a new one on the same session. A token that was already exchanged ends the
   * session: it was copied, and either holder may be the thief.
   */
  rotate(refreshToken: string): Promise<OpenedSession>;
  /** The session is live: not revoked, not expired, its account enabled. */
  isLive(sid: string, username: string): Promise<boolean>;
  revoke(sid: string, reason: RevokeReason): Promise<void>;
  revokeAll(username: string, reason: RevokeReason): Promise<number>;
}

const digest = (secret: string) => createHash('sha256').update(secret).digest();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Login sessions in PostgreSQL (`auth_sessions`): what makes logout, disabling and password changes revoke. */
export function createSessions(deps: { pool: pg.Pool; ttlSec: number }): Sessions {
  const { pool, ttlSec } = deps;
  const unauthenticated = () =>
    new CodedError(ErrorCodes.UNAUTHENTICATED, 'The refresh token is not valid; sign in again', 401);

  return {
    async open(username) {
      const sid = randomUUID();
      const secret = randomBytes(32).toString('base64url');
      const { rows } = await pool.query<{ expires_at: Date }>(
        `INSERT INTO auth_sessions (id, username, refresh_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`,
        [sid, username, digest(secret), ttlSec],
      );
      return { sid, username, refreshToken: `${sid}.${secret}`, expiresAt: rows[0]!.expires_at };
    },

    async rotate(refreshToken) {
      const dot = refreshToken.indexOf('.');
      const sid = refreshToken.slice(0, dot);
      const secret = refreshToken.slice(dot + 1);
      if (dot < 0 || !UUID.test(sid) || secret.length === 0) throw unauthenticated();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ username: string; refresh_hash: Buffer; expires_at: Date }>(
          `SELECT s.username, s.refresh_hash, s.expires_at FROM auth_sessions s JOIN accounts a USING (username)
           WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND a.disabled_at IS NULL
           FOR UPDATE OF s`,
          [sid],
        );
        const r = rows[0];
        if (!r) {
          await client.query('ROLLBACK');
          throw unauthenticated();
        }
        if (!timingSafeEqual(r.refresh_hash, digest(secret))) {
          await client.query('UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1', [
            sid,
            RevokeReasons.refreshReused,
          ]);
          await client.query('COMMIT');
          throw unauthenticated();
        }
        const next = randomBytes(32).toString('base64url');
        await client.query('UPDATE auth_sessions SET refresh_hash = $2 WHERE id = $1', [sid, digest(next)]);
        await client.query('COMMIT');
        return { sid, username: r.username, refreshToken: `${sid}.${next}`, expiresAt: r.expires_at };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    async isLive(sid, username) {
      if (!UUID.test(sid)) return false;
      const { rowCount } = await pool.query(
        `SELECT 1 FROM auth_sessions s JOIN accounts a USING (username)
         WHERE s.id = $1 AND s.username = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
           AND a.disabled_at IS NULL`,
        [sid, username],
      );
      return rowCount === 1;
    },

    async revoke(sid, reason) {
      await pool.query(
        'UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL',
        [sid, reason],
      );
    },

    async revokeAll(username, reason) {
      const { rowCount } = await pool.query(
        'UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2 WHERE username = $1 AND revoked_at IS NULL',
        [username, reason],
      );
      return rowCount ?? 0;
    },
  };
}
