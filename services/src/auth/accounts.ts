import type { IdentityStore } from '@c2m/identity';
import { CodedError, ErrorCodes, type OrgKind, OrgKinds, type Role, Roles } from '@c2m/shared';
import type pg from 'pg';
import { assertAcceptablePassword } from './password-policy.js';
import type { PasswordPool } from './password-pool.js';

/** A login account as the API shows it: never the hash. */
export interface Account {
  readonly username: string;
  readonly mspId: string;
  readonly orgKind: OrgKind;
  readonly role: Role;
  readonly displayName: string;
  readonly disabled: boolean;
  readonly createdBy: string;
  readonly createdAt: string;
}

export interface NewAccount {
  readonly username: string;
  readonly mspId: string;
  readonly role: Role;
  readonly displayName: string;
  readonly password: string;
}

/** Roles a login of each kind of org may hold (peer and device are machine identities, never logins). */
export const ROLES_BY_ORG_KIND: Readonly<Record<OrgKind, readonly Role[]>> = {
  [OrgKinds.platform]: [Roles.admin, Roles.certifier],
  [OrgKinds.brand]: [Roles.admin, Roles.brandManager],
  [OrgKinds.factory]: [Roles.admin, Roles.factoryManager],
  [OrgKinds.finance]: [Roles.admin, Roles.financier],
};

/** As the identity store enforces for enrolment. */
const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

interface Row {
  username: string;
  msp_id: string;
  role: string;
  display_name: string;
  password_hash: string;
  disabled_at: Date | null;
  created_by: string;
  created_at: Date;
}

export interface Accounts {
  get(username: string): Promise<Account | undefined>;
  list(mspId?: string): Promise<Account[]>;
  /** Enrols the ledger identity (certificate) if needed, then the login. `ALREADY_EXISTS` if the login exists. */
  create(account: NewAccount, createdBy: string, options?: { skipPolicy?: boolean }): Promise<Account>;
  /** The account when the password matches and it is enabled; the same work for unknown and disabled names. */
  verify(username: string, password: string): Promise<Account | undefined>;
  setPassword(username: string, password: string): Promise<void>;
  setDisabled(username: string, disabled: boolean): Promise<Account>;
  /** Enabled accounts of the platform org with role admin. */
  countPlatformAdmins(): Promise<number>;
  /** The password matches the account's hash (disabled or not); undefined for an unknown account. */
  passwordIs(username: string, password: string): Promise<boolean | undefined>;
}

/** Login accounts in PostgreSQL (`accounts`); each one's ledger identity lives in the identity store. */
export function createAccounts(deps: { pool: pg.Pool; identity: IdentityStore; passwords: PasswordPool }): Accounts {
  const { pool, identity, passwords } = deps;
  let dummyHash: Promise<string> | undefined;

  const toAccount = (row: Row): Account => {
    const org = identity.org(row.msp_id);
    return {
      username: row.username,
      mspId: row.msp_id,
      // An org dropped from the consortium keeps its rows, but its users cannot act: verify() refuses them.
      orgKind: (org?.kind ?? OrgKinds.brand) as OrgKind,
      role: row.role as Role,
      displayName: row.display_name,
      disabled: row.disabled_at !== null,
      createdBy: row.created_by,
      createdAt: row.created_at.toISOString(),
    };
  };
  // Names the identity store could never have enrolled are not looked up (a NUL byte would even fail the query).
  const row = async (username: string): Promise<Row | undefined> =>
    USERNAME_PATTERN.test(username)
      ? (await pool.query<Row>('SELECT * FROM accounts WHERE username = $1', [username])).rows[0]
      : undefined;

  return {
    async get(username) {
      const r = await row(username);
      return r ? toAccount(r) : undefined;
    },

    async list(mspId) {
      const { rows } = await pool.query<Row>(
        'SELECT * FROM accounts WHERE $1::text IS NULL OR msp_id = $1 ORDER BY msp_id, username',
        [mspId ?? null],
      );
      return rows.map(toAccount);
    },

    async create(account, createdBy, options = {}) {
      const org = identity.org(account.mspId);
      if (!org) throw new CodedError(ErrorCodes.NOT_FOUND, `no org ${account.mspId}`, 404);
      if (!ROLES_BY_ORG_KIND[org.kind].includes(account.role)) {
        throw new CodedError(
          ErrorCodes.VALIDATION_FAILED,
          `role ${account.role} is not one a ${org.kind} org's user may hold (${ROLES_BY_ORG_KIND[org.kind].join(', ')})`,
        );
      }
      if (!options.skipPolicy) assertAcceptablePassword(account.password, account.username);
      if (await row(account.username)) {
        throw new CodedError(ErrorCodes.ALREADY_EXISTS, `user ${account.username} exists`, 409);
      }
      // Certificate first: a login must never exist without the identity its ledger calls are signed with.
      await identity.enrolUser({
        username: account.username,
        mspId: account.mspId,
        role: account.role,
        displayName: account.displayName,
      });
      const hash = await passwords.hash(account.password);
      const { rows } = await pool.query<Row>(
        `INSERT INTO accounts (username, msp_id, role, display_name, password_hash, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING RETURNING *`,
        [account.username, account.mspId, account.role, account.displayName, hash, createdBy],
      );
      if (!rows[0]) throw new CodedError(ErrorCodes.ALREADY_EXISTS, `user ${account.username} exists`, 409);
      return toAccount(rows[0]);
    },

    async verify(username, password) {
      const r = await row(username);
      if (!r) {
        // The same scrypt work as a real check, so response times do not tell which names exist.
        dummyHash ??= passwords.hash(`unused-${Math.random()}`);
        await passwords.verify(password, await dummyHash);
        return undefined;
      }
      const ok = await passwords.verify(password, r.password_hash);
      if (!ok || r.disabled_at !== null || !identity.org(r.msp_id)) return undefined;
      return toAccount(r);
    },

    async setPassword(username, password) {
      assertAcceptablePassword(password, username);
      const hash = await passwords.hash(password);
      const { rowCount } = await pool.query(
        'UPDATE accounts SET password_hash = $2, password_changed_at = now() WHERE username = $1',
        [username, hash],
      );
      if (rowCount === 0) throw new CodedError(ErrorCodes.NOT_FOUND, `no user ${username}`, 404);
    },

    async setDisabled(username, disabled) {
      const { rows } = await pool.query<Row>(
        `UPDATE accounts SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END
         WHERE username = $1 RETURNING *`,
        [username, disabled],
      );
      if (!rows[0]) throw new CodedError(ErrorCodes.NOT_FOUND, `no user ${username}`, 404);
      return toAccount(rows[0]);
    },

    async countPlatformAdmins() {
      const platformOrgs = identity
        .orgs()
        .filter((o) => o.kind === OrgKinds.platform)
        .map((o) => o.mspId);
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM accounts WHERE role = $1 AND msp_id = ANY($2) AND disabled_at IS NULL`,
        [Roles.admin, platformOrgs],
      );
      return rows[0]?.n ?? 0;
    },

    async passwordIs(username, password) {
      const r = await row(username);
      if (!r) return undefined;
      return passwords.verify(password, r.password_hash);
    },
  };
}
