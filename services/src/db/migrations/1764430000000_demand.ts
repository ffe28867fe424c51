import type { MigrationBuilder } from 'node-pg-migrate';

// Demand signals, their daily aggregates and forecast runs. The hierarchy is
// SKU -> product -> category -> brand; every row carries its brand so a brand
// only ever reads its own.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE demand_categories (
      brand_msp text NOT NULL,
      id text NOT NULL,
      name text NOT NULL,
      PRIMARY KEY (brand_msp, id)
    );
    CREATE TABLE demand_products (
      brand_msp text NOT NULL,
      id text NOT NULL,
      name text NOT NULL,
      category_id text NOT NULL,
      PRIMARY KEY (brand_msp, id),
      FOREIGN KEY (brand_msp, category_id) REFERENCES demand_categories (brand_msp, id)
    );
    CREATE TABLE demand_skus (
      brand_msp text NOT NULL,
      sku text NOT NULL,
      product_id text NOT NULL,
      colour text,
      size text,
      material text,
      PRIMARY KEY (brand_msp, sku),
      FOREIGN KEY (brand_msp, product_id) REFERENCES demand_products (brand_msp, id)
    );

    -- One row per consumer signal. signal_id is the client's id or a hash of
    -- the signal's content, so re-sending or re-uploading changes nothing.
    CREATE TABLE demand_signals (
      brand_msp text NOT NULL,
      signal_id text NOT NULL,
      sku text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('sale','pre_order','wishlist','search','return')),
      channel text NOT NULL,
      region text NOT NULL,
      quantity integer NOT NULL CHECK (quantity >= 0),
      day date NOT NULL,
      source text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (brand_msp, signal_id),
      FOREIGN KEY (brand_msp, sku) REFERENCES demand_skus (brand_msp, sku)
    );
    CREATE INDEX demand_signals_sku_day ON demand_signals (brand_msp, sku, day);

    -- Daily totals per SKU and kind, maintained in the same transaction as the signals.
    CREATE TABLE demand_daily (
      brand_msp text NOT NULL,
      sku text NOT NULL,
      day date NOT NULL,
      kind text NOT NULL,
      quantity bigint NOT NULL,
      PRIMARY KEY (brand_msp, sku, day, kind)
    );
    -- ISO weeks (Monday first), what brands plan in.
    CREATE VIEW demand_weekly AS
      SELECT brand_msp, sku, date_trunc('week', day)::date AS week, kind, SUM(quantity)::bigint AS quantity
      FROM demand_daily GROUP BY brand_msp, sku, date_trunc('week', day), kind;

    CREATE TABLE forecast_runs (
      id text PRIMARY KEY,
      brand_msp text NOT NULL,
      status text NOT NULL CHECK (status IN ('queued','running','done','failed')),
      trigger text NOT NULL,
      horizon_days integer NOT NULL CHECK (horizon_days > 0),
      history_from date,
      history_to date,
      series_total integer NOT NULL DEFAULT 0,
      series_done integer NOT NULL DEFAULT 0,
      scores jsonb,
      error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz
    );
    CREATE INDEX forecast_runs_brand ON forecast_runs (brand_msp, created_at DESC);

    -- One forecast per run and node of the hierarchy. Upper levels are the
    -- bottom-up sums of their SKUs (model 'bottom_up').
    CREATE TABLE forecast_series (
      run_id text NOT NULL REFERENCES forecast_runs(id) ON DELETE CASCADE,
      level text NOT NULL CHECK (level IN ('sku','product','category','brand')),
      key text NOT NULL,
      model text NOT NULL,
      scores jsonb,
      candidates jsonb NOT NULL DEFAULT '[]',
      first_day date NOT NULL,
      point double precision[] NOT NULL,
      lo80 double precision[] NOT NULL,
      hi80 double precision[] NOT NULL,
      lo95 double precision[] NOT NULL,
      hi95 double precision[] NOT NULL,
      PRIMARY KEY (run_id, level, key)
    );
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TABLE forecast_series, forecast_runs;
    DROP VIEW demand_weekly;
    DROP TABLE demand_daily, demand_signals, demand_skus, demand_products, demand_categories;
  `);
}
