import type { MigrationBuilder } from 'node-pg-migrate';

// Recalls (issue 14): the platform's working copy of a recall whose record (scope summary, reason, status) is on
// the ledger (chaincode Recalls). The full scope lives here, one row per affected identifier with its last
// known location; its sha256 (scope_hash) is on the ledger, so the CSV export can be checked against it.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE recalls (
      id text PRIMARY KEY,
      brand_msp text NOT NULL,
      opened_by text NOT NULL,
      start_kind text NOT NULL CHECK (start_kind IN ('lot', 'device', 'qc')),
      start_id text NOT NULL,
      window_from timestamptz,
      window_to timestamptz,
      reason text NOT NULL,
      status text NOT NULL,
      summary jsonb NOT NULL,
      scope_hash text NOT NULL,
      work_orders text[] NOT NULL,
      ledger_tx_id text NOT NULL,
      ledger_block bigint NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX recalls_brand ON recalls (brand_msp, created_at DESC);
    CREATE INDEX recalls_work_orders ON recalls USING gin (work_orders);
    CREATE TABLE recall_items (
      recall_id text NOT NULL REFERENCES recalls(id),
      epc text COLLATE "C" NOT NULL,
      kind text NOT NULL,
      last_location text,
      last_location_name text,
      last_event_id text,
      last_event_time timestamptz,
      PRIMARY KEY (recall_id, epc)
    );
    CREATE INDEX recall_items_epc ON recall_items (epc);
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TABLE recall_items;
    DROP TABLE recalls;
  `);
}
