import type { MigrationBuilder } from 'node-pg-migrate';

// The platform's off-chain store. The ledger holds hashes and anchors; full records live here.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE orders (
      id text PRIMARY KEY,
      brand_msp text NOT NULL,
      created_by text NOT NULL,
      product text NOT NULL,
      lines jsonb NOT NULL,
      spec jsonb NOT NULL DEFAULT '{}',
      total_quantity integer NOT NULL CHECK (total_quantity > 0),
      target_price_minor bigint NOT NULL CHECK (target_price_minor >= 0),
      currency text NOT NULL,
      due_date date NOT NULL,
      ship_to text NOT NULL,
      status text NOT NULL,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX orders_brand ON orders (brand_msp, created_at DESC);

    -- Audit trail: every change of an order, who and when.
    CREATE TABLE order_events (
      id bigserial PRIMARY KEY,
      order_id text NOT NULL REFERENCES orders(id),
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      action text NOT NULL,
      data jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX order_events_order ON order_events (order_id, id);

    CREATE TABLE offers (
      id text PRIMARY KEY,
      order_id text NOT NULL REFERENCES orders(id),
      factory_msp text NOT NULL,
      quantity integer NOT NULL CHECK (quantity > 0),
      lines jsonb NOT NULL,
      price_minor bigint NOT NULL,
      due_date date NOT NULL,
      status text NOT NULL CHECK (status IN ('open','accepted','declined','expired')),
      expires_at timestamptz NOT NULL,
      decline_reason text,
      decline_note text,
      decided_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX offers_factory ON offers (factory_msp, status);
    CREATE INDEX offers_order ON offers (order_id);

    CREATE TABLE work_orders (
      id text PRIMARY KEY,
      order_id text NOT NULL REFERENCES orders(id),
      offer_id text NOT NULL UNIQUE REFERENCES offers(id),
      brand_msp text NOT NULL,
      factory_msp text NOT NULL,
      brand_user text NOT NULL,
      factory_user text NOT NULL,
      product text NOT NULL,
      quantity integer NOT NULL,
      terms jsonb NOT NULL,
      terms_hash text NOT NULL,
      status text NOT NULL,
      ledger_tx_id text,
      ledger_block bigint,
      accepted_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX work_orders_factory ON work_orders (factory_msp);
    CREATE INDEX work_orders_brand ON work_orders (brand_msp);

    -- Work that must reach the ledger: written in the same transaction as the
    -- change that needs it, retried until committed (nothing accepted is lost).
    CREATE TABLE ledger_outbox (
      id bigserial PRIMARY KEY,
      kind text NOT NULL,
      ref text NOT NULL,
      payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','done','failed')),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      tx_id text,
      block_number bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      done_at timestamptz,
      UNIQUE (kind, ref)
    );
    CREATE INDEX ledger_outbox_pending ON ledger_outbox (id) WHERE status = 'pending';

    -- Read model of devices; the ledger is the source of truth for status.
    CREATE TABLE devices (
      device_id text PRIMARY KEY,
      factory_msp text NOT NULL,
      model text NOT NULL,
      serial text NOT NULL,
      line text NOT NULL,
      certificate_pem text NOT NULL,
      fingerprint text NOT NULL,
      status text NOT NULL,
      certified_until timestamptz,
      registered_tx text,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX devices_factory ON devices (factory_msp);

    -- Accepted device messages, exactly as signed. (device_id, seq) is the idempotency key.
    CREATE TABLE device_events (
      id bigserial PRIMARY KEY,
      device_id text NOT NULL,
      factory_msp text NOT NULL,
      seq bigint NOT NULL,
      event_time timestamptz NOT NULL,
      type text NOT NULL,
      work_order_id text,
      data jsonb NOT NULL,
      message text NOT NULL,
      signature text NOT NULL,
      leaf_hash text NOT NULL,
      batch_id text,
      received_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (device_id, seq)
    );
    CREATE INDEX device_events_unbatched ON device_events (factory_msp, id) WHERE batch_id IS NULL;
    CREATE INDEX device_events_work_order ON device_events (work_order_id, event_time);
    CREATE INDEX device_events_batch ON device_events (batch_id, id);

    -- Rejected device messages, with a reason code; rejections never stop the pipeline.
    CREATE TABLE dead_letters (
      id bigserial PRIMARY KEY,
      received_at timestamptz NOT NULL DEFAULT now(),
      topic text NOT NULL,
      device_id text,
      reason text NOT NULL,
      detail text,
      payload text NOT NULL
    );
    CREATE INDEX dead_letters_reason ON dead_letters (reason);

    -- Merkle batches of events; a batch is the outbox entry of its anchor transaction.
    CREATE TABLE batches (
      batch_id text PRIMARY KEY,
      factory_msp text NOT NULL,
      merkle_root text NOT NULL,
      event_count integer NOT NULL,
      first_event_time timestamptz NOT NULL,
      last_event_time timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','anchored')),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      tx_id text,
      block_number bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      anchored_at timestamptz
    );
    CREATE INDEX batches_factory ON batches (factory_msp, created_at);
    CREATE INDEX batches_pending ON batches (created_at) WHERE status = 'pending';
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(
    'DROP TABLE batches, dead_letters, device_events, devices, ledger_outbox, work_orders, offers, order_events, orders',
  );
}
