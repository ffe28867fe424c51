import type { MigrationBuilder } from 'node-pg-migrate';

// EPCIS query (issue 13): EQ_type (measurement type of a sensor report) is answered from the indexed
// measurement_types column; a GIN index finds the events of a rare type without walking the time index over
// every event. Most events have no sensor report: their empty arrays cost one small entry each.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('CREATE INDEX epcis_events_measurement_types ON epcis_events USING gin (measurement_types)');
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('DROP INDEX epcis_events_measurement_types');
}
