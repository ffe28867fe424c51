import type { MigrationBuilder } from 'node-pg-migrate';

// Dead letters keep the exact bytes (a hostile payload's text may not be storable as text), and the ingest's
// counters live in the database, so /metrics survives restarts and adds up across ingest processes.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE dead_letters ADD COLUMN payload_bytes bytea;
    CREATE TABLE ingest_counters (
      name text NOT NULL,
      label text NOT NULL DEFAULT '',
      value bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (name, label)
    );
    INSERT INTO ingest_counters (name, label, value)
      SELECT 'ingest_accepted', '', COUNT(*) FROM device_events HAVING COUNT(*) > 0;
    INSERT INTO ingest_counters (name, label, value)
      SELECT 'ingest_rejected', reason, COUNT(*) FROM dead_letters GROUP BY reason;
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('DROP TABLE ingest_counters; ALTER TABLE dead_letters DROP COLUMN payload_bytes');
}
