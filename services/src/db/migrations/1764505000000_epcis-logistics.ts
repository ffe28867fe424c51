import type { MigrationBuilder } from 'node-pg-migrate';

// Shipping and receiving events drive the SHIPPED and DELIVERED milestones: each such event is followed up
// once (the row here), whatever order concurrent captures commit in.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE epcis_logistics_followed (
      event_pk bigint PRIMARY KEY REFERENCES epcis_events(id),
      work_orders text[] NOT NULL DEFAULT '{}',
      outcome text NOT NULL,
      followed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX epcis_events_logistics ON epcis_events (id) WHERE biz_step IN ('shipping', 'receiving');
    CREATE INDEX epcis_event_epcs_parent ON epcis_event_epcs (epc, event_pk) WHERE role = 'parent';
    -- Which device messages already have their EPCIS events (derivation is exactly once per message).
    CREATE INDEX epcis_events_source_leaves ON epcis_events USING gin (source_leaves) WHERE source = 'device';
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP INDEX epcis_events_source_leaves;
    DROP INDEX epcis_event_epcs_parent;
    DROP INDEX epcis_events_logistics;
    DROP TABLE epcis_logistics_followed;
  `);
}
