import type { MigrationBuilder } from 'node-pg-migrate';

// Proof bundles at scale. Per-work-order totals of a batch (events, units, QC passes and failures), computed when the batch is cut and
// committed in its anchor on the ledger; NULL for batches cut before totals existed (their anchors carry none).
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('ALTER TABLE batches ADD COLUMN totals jsonb');
  // The CommitWorkOrder transaction (ledger_tx_id is the acceptance): proof bundles carry both.
  pgm.sql('ALTER TABLE work_orders ADD COLUMN ledger_commit_tx_id text');
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('ALTER TABLE work_orders DROP COLUMN ledger_commit_tx_id');
  pgm.sql('ALTER TABLE batches DROP COLUMN totals');
}
