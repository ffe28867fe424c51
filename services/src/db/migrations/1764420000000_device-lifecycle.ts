import type { MigrationBuilder } from 'node-pg-migrate';

// Device identity lifecycle: proof-of-possession challenges, key versions in the read model, bulk registrations.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    -- One row per challenge a certifier asked for; used_at makes each single use.
    CREATE TABLE device_challenges (
      id text PRIMARY KEY,
      device_id text NOT NULL,
      challenge text NOT NULL,
      issued_by text NOT NULL,
      issued_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      used_tx text
    );
    CREATE INDEX device_challenges_device ON device_challenges (device_id, issued_at DESC);

    ALTER TABLE devices ADD COLUMN key_version integer NOT NULL DEFAULT 1;

    -- A fleet upload; its rows are registered by a BullMQ job and each row's outcome kept for the report.
    CREATE TABLE device_bulk_jobs (
      id text PRIMARY KEY,
      factory_msp text NOT NULL,
      created_by text NOT NULL,
      total integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    );
    CREATE TABLE device_bulk_rows (
      job_id text NOT NULL REFERENCES device_bulk_jobs (id) ON DELETE CASCADE,
      row_number integer NOT NULL,
      device_id text NOT NULL,
      model text NOT NULL,
      serial text NOT NULL,
      line text NOT NULL,
      csr_pem text NOT NULL,
      status text NOT NULL DEFAULT 'pending',
      code text,
      message text,
      -- Issued once and reused on retries, so a retried row registers the same certificate fingerprint.
      certificate_pem text,
      fingerprint text,
      PRIMARY KEY (job_id, row_number)
    );
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TABLE device_bulk_rows, device_bulk_jobs, device_challenges;
    ALTER TABLE devices DROP COLUMN key_version;
  `);
}
