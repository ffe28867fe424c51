import type { MigrationBuilder } from 'node-pg-migrate';

// EPCIS capture (issue 13): what a capture job needs beyond the 1764500000000 tables.
//
// - error_behaviour: the client's GS1-Capture-Error-Behaviour, kept with the job so that a job resumed after a
//   restart is processed exactly as it was asked for (rollback: all events or none; proceed: the valid ones).
// - device_events_leaf: a device-derived EPCIS event names its source device messages by leaf hash; its proof
//   bundle finds them by it.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE epcis_capture_jobs
      ADD COLUMN error_behaviour text NOT NULL DEFAULT 'rollback' CHECK (error_behaviour IN ('rollback','proceed'));
    CREATE INDEX device_events_leaf ON device_events (leaf_hash);
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('DROP INDEX device_events_leaf; ALTER TABLE epcis_capture_jobs DROP COLUMN error_behaviour');
}
