import type { MigrationBuilder } from 'node-pg-migrate';

// The off-chain record of work-order milestones (the ledger holds them too, with the evidence).
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE work_order_milestones (
      work_order_id text NOT NULL REFERENCES work_orders(id),
      milestone text NOT NULL CHECK (milestone IN ('PRODUCED','QC_PASSED','SHIPPED','DELIVERED')),
      recorded_by text NOT NULL,
      evidence jsonb NOT NULL,
      tx_id text NOT NULL,
      block_number bigint NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (work_order_id, milestone)
    );
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('DROP TABLE work_order_milestones');
}
