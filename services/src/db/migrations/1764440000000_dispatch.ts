import type { MigrationBuilder } from 'node-pg-migrate';

// Factory profiles, versioned order edits, and solver-based dispatch: offers that carry their
// week-by-week schedule and the explanation of why they went where they went, plus the capacity
// each offer reserves per factory-week (what "already committed" means for the next dispatch).
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE factory_profiles (
      msp_id text PRIMARY KEY,
      profile jsonb NOT NULL,
      version integer NOT NULL DEFAULT 1,
      updated_by text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    -- Each edit of an order after posting: the full order as it was before the change.
    CREATE TABLE order_versions (
      order_id text NOT NULL REFERENCES orders(id),
      version integer NOT NULL,
      data jsonb NOT NULL,
      changed_by text NOT NULL,
      changed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (order_id, version)
    );

    ALTER TABLE offers ADD COLUMN schedule jsonb NOT NULL DEFAULT '[]';
    ALTER TABLE offers ADD COLUMN explanation jsonb;
    ALTER TABLE offers DROP CONSTRAINT IF EXISTS offers_status_check;
    ALTER TABLE offers ADD CONSTRAINT offers_status_check
      CHECK (status IN ('open','accepted','declined','expired','withdrawn'));

    -- Units an offer holds per factory-week; they count while the offer is open or accepted.
    CREATE TABLE capacity_reservations (
      offer_id text NOT NULL REFERENCES offers(id),
      factory_msp text NOT NULL,
      week date NOT NULL,
      quantity integer NOT NULL CHECK (quantity > 0),
      PRIMARY KEY (offer_id, week)
    );
    CREATE INDEX capacity_reservations_factory ON capacity_reservations (factory_msp, week);
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TABLE capacity_reservations, order_versions, factory_profiles;
    ALTER TABLE offers DROP CONSTRAINT offers_status_check;
    ALTER TABLE offers ADD CONSTRAINT offers_status_check CHECK (status IN ('open','accepted','declined','expired'));
    ALTER TABLE offers DROP COLUMN schedule, DROP COLUMN explanation;
  `);
}
