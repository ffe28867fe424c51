import type { MigrationBuilder } from 'node-pg-migrate';

// The salt of each event's redacted public view (services/src/epcis/consumer.ts): kept so the salted
// commitments to its hidden fields never change, and so the platform can open one to an auditor.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE consumer_redaction_salts (
      event_id text COLLATE "C" PRIMARY KEY,
      salt text NOT NULL CHECK (salt ~ '^[0-9a-f]{32}$'),
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('DROP TABLE consumer_redaction_salts;');
}
