import type { MigrationBuilder } from 'node-pg-migrate';

// Forecast runs at a planning frequency (issue 16): the run keeps its frequency and its horizon in periods
// of it (horizon_days stays, as the days the forecast covers); each series keeps how its model was chosen
// and its intervals calibrated, which the forecast page shows.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE forecast_runs
      ADD COLUMN frequency text NOT NULL DEFAULT 'day' CHECK (frequency IN ('day','week','month','quarter')),
      ADD COLUMN horizon integer CHECK (horizon > 0);
    UPDATE forecast_runs SET horizon = horizon_days WHERE horizon IS NULL;
    ALTER TABLE forecast_runs ALTER COLUMN horizon SET NOT NULL;
    ALTER TABLE forecast_series ADD COLUMN selection jsonb;
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE forecast_series DROP COLUMN selection;
    ALTER TABLE forecast_runs DROP COLUMN horizon, DROP COLUMN frequency;
  `);
}
