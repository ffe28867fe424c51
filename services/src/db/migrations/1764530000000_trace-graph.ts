import type { MigrationBuilder } from 'node-pg-migrate';

// The trace graph (issue 14) walks epcis_event_epcs one hop per query (epc = ANY(...) on its primary key); what
// it needs besides: the events a device said (forward trace from a device and a time window), the serial range a
// serial falls in (backward from a serial to its lot and work order), and the DELETE half of aggregations, read
// by parent when a container's contents are dated.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE INDEX epcis_events_device ON epcis_events ((event->>'c2m:device'), event_time)
      WHERE event ? 'c2m:device';
    CREATE INDEX work_order_lots_serials ON work_order_lots (gtin, serial_from, serial_to);
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP INDEX work_order_lots_serials;
    DROP INDEX epcis_events_device;
  `);
}
