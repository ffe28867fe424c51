import type { MigrationBuilder } from 'node-pg-migrate';

// Login accounts and their sessions. The identity store keeps each user's certificate (ledger identity); these
// rows decide who may sign in, so disabling or re-keying a login never touches the ledger identity.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE accounts (
      username text PRIMARY KEY,
      msp_id text NOT NULL,
      role text NOT NULL,
      display_name text NOT NULL,
      password_hash text NOT NULL,
      disabled_at timestamptz,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      password_changed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX accounts_msp_id ON accounts (msp_id);

    -- One row per login. An access token names its session; the session must be live for the token to work,
    -- so logout, password changes and disabling take effect at once. The refresh secret is stored hashed.
    CREATE TABLE auth_sessions (
      id uuid PRIMARY KEY,
      username text NOT NULL REFERENCES accounts(username),
      refresh_hash bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      revoked_reason text
    );
    CREATE INDEX auth_sessions_live ON auth_sessions (username) WHERE revoked_at IS NULL;
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('DROP TABLE auth_sessions; DROP TABLE accounts;');
}
