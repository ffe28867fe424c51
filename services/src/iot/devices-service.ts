import { createHash, X509Certificate } from 'node:crypto';
import { CodedError, ErrorCodes } from '@c2m/shared';
import type pg from 'pg';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { AuthUser } from '../plugins/auth.js';
import type { DeviceRegistry } from './device-registry.js';

export interface DevicesDeps {
  readonly pool: pg.Pool;
  readonly ledger: LedgerAccess;
  readonly registry: DeviceRegistry;
  /** Issues an X.509 certificate for a device's CSR from the factory's CA. */
  readonly issueCertificate: (mspId: string, csrPem: string, deviceId: string) => Promise<string>;
}

export interface DeviceView {
  deviceId: string;
  factoryMspId: string;
  model: string;
  serial: string;
  line: string;
  status: string;
  certificateFingerprint: string;
  certifiedUntil: string | null;
}

function view(r: Record<string, unknown>): DeviceView {
  return {
    deviceId: r.device_id as string,
    factoryMspId: r.factory_msp as string,
    model: r.model as string,
    serial: r.serial as string,
    line: r.line as string,
    status: r.status as string,
    certificateFingerprint: r.fingerprint as string,
    certifiedUntil: r.certified_until ? (r.certified_until as Date).toISOString() : null,
  };
}

/** Device registration and certification: the ledger decides, PostgreSQL keeps a read model for lists. */
export function createDevicesService(deps: DevicesDeps) {
  const { pool, ledger } = deps;

  async function refresh(username: string, deviceId: string): Promise<DeviceView> {
    const d = await ledger.readDevice(username, deviceId);
    const { rows } = await pool.query(
      `UPDATE devices SET status = $2, certified_until = $3, updated_at = now() WHERE device_id = $1 RETURNING *`,
      [deviceId, d.status, d.validUntil ?? null],
    );
    deps.registry.invalidate(deviceId);
    if (!rows[0]) throw new CodedError(ErrorCodes.DEVICE_NOT_FOUND, `device ${deviceId} not found`, 404);
    return view(rows[0]);
  }

  async function register(
    user: AuthUser,
    input: { deviceId: string; model: string; serial: string; line: string; csrPem: string },
  ): Promise<{ device: DeviceView; certificatePem: string }> {
    const certificatePem = await deps.issueCertificate(user.mspId, input.csrPem, input.deviceId);
    const cert = new X509Certificate(certificatePem);
    const fingerprint = createHash('sha256').update(cert.raw).digest('hex');
    const publicKeyPem = cert.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    let registeredTx: string | null = null;
    try {
      const tx = await ledger.registerDevice(user.username, {
        deviceId: input.deviceId,
        model: input.model,
        serial: input.serial,
        line: input.line,
        certificateFingerprint: fingerprint,
        publicKeyPem,
      });
      registeredTx = tx.txId;
    } catch (err) {
      if ((err as { code?: string }).code !== ErrorCodes.DEVICE_EXISTS) throw err;
      throw new CodedError(ErrorCodes.DEVICE_EXISTS, `device ${input.deviceId} is already registered`, 409);
    }
    const { rows } = await pool.query(
      `INSERT INTO devices (device_id, factory_msp, model, serial, line, certificate_pem, fingerprint, status, registered_tx)
       VALUES ($1,$2,$3,$4,$5,$6,$7,'REGISTERED',$8)
       ON CONFLICT (device_id) DO UPDATE SET certificate_pem = EXCLUDED.certificate_pem, fingerprint = EXCLUDED.fingerprint,
         status = 'REGISTERED', registered_tx = EXCLUDED.registered_tx, updated_at = now()
       RETURNING *`,
      [input.deviceId, user.mspId, input.model, input.serial, input.line, certificatePem, fingerprint, registeredTx],
    );
    return { device: view(rows[0]), certificatePem };
  }

  async function certify(user: AuthUser, deviceId: string, input: { validUntil?: string; note?: string }) {
    const validUntil = input.validUntil ?? new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();
    if (Number.isNaN(Date.parse(validUntil))) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'validUntil must be an ISO date-time');
    }
    await ledger.certifyDevice(user.username, deviceId, new Date(validUntil).toISOString(), input.note ?? '');
    return refresh(user.username, deviceId);
  }

  async function list(user: AuthUser): Promise<DeviceView[]> {
    const { rows } =
      user.orgKind === 'platform'
        ? await pool.query('SELECT * FROM devices ORDER BY device_id LIMIT 1000')
        : await pool.query('SELECT * FROM devices WHERE factory_msp = $1 ORDER BY device_id LIMIT 1000', [user.mspId]);
    return rows.map(view);
  }

  async function get(user: AuthUser, deviceId: string) {
    const { rows } = await pool.query('SELECT * FROM devices WHERE device_id = $1', [deviceId]);
    const row = rows[0];
    if (!row || (user.orgKind !== 'platform' && row.factory_msp !== user.mspId)) {
      throw new CodedError(ErrorCodes.DEVICE_NOT_FOUND, `device ${deviceId} not found`, 404);
    }
    const history = await ledger.deviceHistory(user.username, deviceId);
    return {
      ...view(row),
      history: history.map((h) => ({ txId: h.txId, timestamp: h.timestamp, status: h.record?.status ?? 'DELETED' })),
    };
  }

  return { register, certify, list, get, refresh };
}

export type DevicesService = ReturnType<typeof createDevicesService>;
