import type { MigrationBuilder } from 'node-pg-migrate';

// Traceability on GS1 EPCIS 2.0 (issue 13).
//
// Product identity: each org's GS1 company prefix, a GTIN per brand SKU, lots and serial ranges allocated to
// work orders, SSCC counters, and the locations (GLN / SGLN) each org owns: sites, lines and warehouses, in a
// hierarchy so `WD_bizLocation` can reach a site's lines.
//
// Events: every EPCIS event, captured or derived from device messages, with the columns the standard query
// filters on, its exact signed form (`message`, hashed into its Merkle leaf like a device message), who signed
// it (`signature`, `signer_certificate`) and which device messages it came from (`source_leaves`). EPCs (and
// EPC classes of quantity elements) are indexed in their own table, in canonical GS1 Digital Link form, under
// the C collation so that a class-level pattern is a prefix scan of the same index.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE gs1_company_prefixes (
      msp_id text PRIMARY KEY,
      company_prefix text NOT NULL UNIQUE CHECK (company_prefix ~ '^[0-9]{6,12}$'),
      updated_by text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    -- A GTIN per brand SKU (the brand's company prefix is the GTIN's).
    CREATE TABLE gs1_products (
      gtin text PRIMARY KEY CHECK (gtin ~ '^[0-9]{14}$'),
      brand_msp text NOT NULL,
      sku text NOT NULL,
      name text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (brand_msp, sku)
    );

    -- Sites, lines and warehouses. uri is the canonical Digital Link of the GLN (with extension for an SGLN).
    CREATE TABLE gs1_locations (
      uri text COLLATE "C" PRIMARY KEY,
      gln text NOT NULL CHECK (gln ~ '^[0-9]{13}$'),
      extension text NOT NULL DEFAULT '',
      owner_msp text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('site','line','warehouse','store','other')),
      name text NOT NULL DEFAULT '',
      parent_uri text COLLATE "C" REFERENCES gs1_locations(uri),
      -- For a line: the factory line name its devices report (devices.line).
      line text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (gln, extension)
    );
    CREATE INDEX gs1_locations_owner ON gs1_locations (owner_msp);
    CREATE INDEX gs1_locations_parent ON gs1_locations (parent_uri);
    CREATE UNIQUE INDEX gs1_locations_line ON gs1_locations (owner_msp, line) WHERE line IS NOT NULL;

    -- Lots (GTIN + lot) and serial ranges allocated to a work order when the factory starts it.
    CREATE TABLE work_order_lots (
      work_order_id text NOT NULL REFERENCES work_orders(id),
      gtin text NOT NULL REFERENCES gs1_products(gtin),
      lot text NOT NULL,
      quantity integer NOT NULL CHECK (quantity > 0),
      serial_from bigint NOT NULL CHECK (serial_from >= 0),
      serial_to bigint NOT NULL,
      -- The next serial a commissioning event assigns; past serial_to the lot is used up (over-production).
      next_serial bigint NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (work_order_id, gtin, lot),
      UNIQUE (gtin, lot),
      CHECK (serial_to >= serial_from),
      CHECK (next_serial >= serial_from AND next_serial <= serial_to + 1)
    );
    CREATE TABLE gs1_serial_counters (
      gtin text PRIMARY KEY REFERENCES gs1_products(gtin),
      next_serial bigint NOT NULL DEFAULT 1
    );
    CREATE TABLE gs1_sscc_counters (
      msp_id text PRIMARY KEY,
      next_reference bigint NOT NULL DEFAULT 1
    );

    -- A captured EPCISDocument: its exact bytes, kept until its events are stored; the capture-job resource.
    CREATE TABLE epcis_capture_jobs (
      id text PRIMARY KEY,
      owner_msp text NOT NULL,
      captured_by text NOT NULL,
      status text NOT NULL DEFAULT 'running' CHECK (status IN ('running','succeeded','failed')),
      document text NOT NULL,
      document_sha256 text NOT NULL,
      event_count integer NOT NULL DEFAULT 0,
      captured_count integer NOT NULL DEFAULT 0,
      errors jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    );
    CREATE INDEX epcis_capture_jobs_running ON epcis_capture_jobs (created_at) WHERE status = 'running';
    CREATE INDEX epcis_capture_jobs_owner ON epcis_capture_jobs (owner_msp, created_at DESC);

    CREATE TABLE epcis_events (
      id bigserial PRIMARY KEY,
      -- The client's eventID, or the event hash where it sent none.
      event_id text COLLATE "C" NOT NULL,
      -- CBV 2.0 event hash: ni:///sha-256;<hex>?ver=CBV2.0
      event_hash text COLLATE "C" NOT NULL,
      event_type text NOT NULL CHECK (event_type IN
        ('ObjectEvent','AggregationEvent','TransactionEvent','TransformationEvent','AssociationEvent')),
      event_time timestamptz NOT NULL,
      record_time timestamptz NOT NULL DEFAULT now(),
      action text CHECK (action IN ('ADD','OBSERVE','DELETE')),
      biz_step text,
      disposition text,
      read_point text COLLATE "C",
      biz_location text COLLATE "C",
      -- The org that said it: the capturing user's org, or the factory whose device messages it derives from.
      owner_msp text NOT NULL,
      source text NOT NULL CHECK (source IN ('capture','device')),
      capture_id text REFERENCES epcis_capture_jobs(id),
      work_order_id text,
      brand_msp text,
      -- The event as stored (eventID and recordTime set, user extensions kept), JSON-LD.
      event jsonb NOT NULL,
      -- The exact canonical JSON signed by the signer and hashed into the Merkle leaf.
      message text NOT NULL,
      signature text NOT NULL,
      signer_certificate text NOT NULL,
      -- Leaf hashes of the device messages a device-derived event came from.
      source_leaves text[] NOT NULL DEFAULT '{}',
      -- 'type id' (type empty when untyped), source/destination as 'type id'.
      biz_transactions text[] NOT NULL DEFAULT '{}',
      sources text[] NOT NULL DEFAULT '{}',
      destinations text[] NOT NULL DEFAULT '{}',
      measurement_types text[] NOT NULL DEFAULT '{}',
      -- Set on an event that declares an earlier one an error (EPCIS errorDeclaration): the declaration itself.
      error_declaration jsonb,
      -- Set on the original when a later event declared it an error: that declaring row.
      error_declared_by bigint REFERENCES epcis_events(id),
      leaf_hash text NOT NULL,
      batch_id text,
      received_at timestamptz NOT NULL DEFAULT now()
    );
    -- One event per eventID, and at most one error declaration of it.
    CREATE UNIQUE INDEX epcis_events_event_id ON epcis_events (event_id) WHERE error_declaration IS NULL;
    CREATE UNIQUE INDEX epcis_events_declaration ON epcis_events (event_id) WHERE error_declaration IS NOT NULL;
    CREATE INDEX epcis_events_hash ON epcis_events (event_hash);
    CREATE INDEX epcis_events_time ON epcis_events (event_time, id);
    CREATE INDEX epcis_events_record_time ON epcis_events (record_time, id);
    CREATE INDEX epcis_events_work_order ON epcis_events (work_order_id, event_time) WHERE work_order_id IS NOT NULL;
    CREATE INDEX epcis_events_owner ON epcis_events (owner_msp, id);
    CREATE INDEX epcis_events_brand ON epcis_events (brand_msp, id) WHERE brand_msp IS NOT NULL;
    CREATE INDEX epcis_events_biz_location ON epcis_events (biz_location, event_time);
    CREATE INDEX epcis_events_read_point ON epcis_events (read_point, event_time);
    CREATE INDEX epcis_events_unbatched ON epcis_events (owner_msp, id) WHERE batch_id IS NULL;
    CREATE INDEX epcis_events_batch ON epcis_events (batch_id, id);
    CREATE INDEX epcis_events_biz_tx ON epcis_events USING gin (biz_transactions);

    -- EPCs and EPC classes each event names, canonical GS1 Digital Link (or the URI as given where it is not
    -- a GS1 key), with the role the standard's MATCH_ parameters distinguish.
    CREATE TABLE epcis_event_epcs (
      epc text COLLATE "C" NOT NULL,
      role text NOT NULL CHECK (role IN
        ('epc','parent','child','input','output','epcClass','childEpcClass','inputEpcClass','outputEpcClass')),
      event_pk bigint NOT NULL REFERENCES epcis_events(id) ON DELETE CASCADE,
      PRIMARY KEY (epc, role, event_pk)
    );
    CREATE INDEX epcis_event_epcs_event ON epcis_event_epcs (event_pk);
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TABLE epcis_event_epcs;
    DROP TABLE epcis_events;
    DROP TABLE epcis_capture_jobs;
    DROP TABLE gs1_sscc_counters;
    DROP TABLE gs1_serial_counters;
    DROP TABLE work_order_lots;
    DROP TABLE gs1_locations;
    DROP TABLE gs1_products;
    DROP TABLE gs1_company_prefixes;
  `);
}
