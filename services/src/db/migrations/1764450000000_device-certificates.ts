import type { MigrationBuilder } from 'node-pg-migrate';

// Every certificate a device has held, so a proof bundle can show the certificate that was in force when an
// old event was signed, after the device rotated its key. A trigger records each certificate the devices table
// takes, whichever path (registration, rotation, fleet upload) wrote it.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE device_certificates (
      fingerprint text PRIMARY KEY,
      device_id text NOT NULL,
      certificate_pem text NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX device_certificates_device ON device_certificates (device_id);
    INSERT INTO device_certificates (fingerprint, device_id, certificate_pem)
      SELECT fingerprint, device_id, certificate_pem FROM devices ON CONFLICT DO NOTHING;
    CREATE FUNCTION record_device_certificate() RETURNS trigger AS $$
    BEGIN
      INSERT INTO device_certificates (fingerprint, device_id, certificate_pem)
        VALUES (NEW.fingerprint, NEW.device_id, NEW.certificate_pem) ON CONFLICT DO NOTHING;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER devices_record_certificate AFTER INSERT OR UPDATE OF certificate_pem, fingerprint ON devices
      FOR EACH ROW EXECUTE FUNCTION record_device_certificate();
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TRIGGER devices_record_certificate ON devices;
    DROP FUNCTION record_device_certificate();
    DROP TABLE device_certificates;
  `);
}
