import type { MigrationBuilder } from 'node-pg-migrate';

// Read models of the ledger, fed by committed chaincode events (services/src/ledger/projection.ts). The ledger
// stays the source of truth: these tables can be dropped and rebuilt from block 0 at any time.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    -- Where each projection stands: the last transaction whose event it applied.
    CREATE TABLE ledger_checkpoint (
      projection text PRIMARY KEY,
      block_number bigint NOT NULL,
      tx_id text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE ledger_devices (
      device_id text PRIMARY KEY,
      owner_msp text NOT NULL,
      status text NOT NULL,
      valid_until timestamptz,
      revision integer NOT NULL,
      record jsonb NOT NULL,
      tx_id text NOT NULL,
      block_number bigint NOT NULL
    );
    CREATE INDEX ledger_devices_owner ON ledger_devices (owner_msp, device_id);

    CREATE TABLE ledger_work_orders (
      work_order_id text PRIMARY KEY,
      order_id text NOT NULL,
      brand_msp text NOT NULL,
      factory_msp text NOT NULL,
      status text NOT NULL,
      milestones jsonb NOT NULL,
      revision integer NOT NULL,
      record jsonb NOT NULL,
      tx_id text NOT NULL,
      block_number bigint NOT NULL
    );
    CREATE INDEX ledger_work_orders_factory ON ledger_work_orders (factory_msp, work_order_id);
    CREATE INDEX ledger_work_orders_order ON ledger_work_orders (order_id);

    CREATE TABLE ledger_anchors (
      batch_id text PRIMARY KEY,
      factory_msp text NOT NULL,
      merkle_root text NOT NULL,
      event_count integer NOT NULL,
      first_event_time timestamptz NOT NULL,
      last_event_time timestamptz NOT NULL,
      anchored_at timestamptz NOT NULL,
      record jsonb NOT NULL,
      tx_id text NOT NULL,
      block_number bigint NOT NULL
    );
    CREATE INDEX ledger_anchors_factory ON ledger_anchors (factory_msp, anchored_at DESC);
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql('DROP TABLE ledger_anchors, ledger_work_orders, ledger_devices, ledger_checkpoint');
}
