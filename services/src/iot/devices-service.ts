import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { CodedError, type DeviceStatus, DeviceStatuses, ErrorCodes } from '@c2m/shared';
import type pg from 'pg';
import type { LedgerAccess, LedgerDevice } from '../ledger/ledger-access.js';
import type { AuthUser } from '../plugins/auth.js';
import { type ChallengeStore, createChallengeStore } from './device-challenges.js';
import type { DeviceRegistry } from './device-registry.js';
import { verifyPossession } from './possession.js';

export interface DevicesDeps {
  readonly pool: pg.Pool;
  readonly ledger: LedgerAccess;
  readonly registry: DeviceRegistry;
  /** Issues an X.509 certificate for a device's CSR from the factory's CA. */
  readonly issueCertificate: (mspId: string, csrPem: string, deviceId: string) => Promise<string>;
  /** Proof-of-possession challenges; defaults to a PostgreSQL store on `pool`. */
  readonly challenges?: ChallengeStore;
}

export interface DeviceView {
  deviceId: string;
  factoryMspId: string;
  model: string;
  serial: string;
  line: string;
  status: DeviceStatus;
  certificateFingerprint: string;
  certifiedUntil: string | null;
  keyVersion: number;
}

/**
 * A status in a device's ledger history: the record's status in that version, or DELETED for a version that
 * removed the record (the contracts never delete a device, but a ledger history can hold deletions).
 */
export const DeviceHistoryStatuses = [...Object.values(DeviceStatuses), 'DELETED'] as const;
export type DeviceHistoryStatus = DeviceStatus | 'DELETED';

export interface DeviceRegistrationInput {
  deviceId: string;
  model: string;
  serial: string;
  line: string;
  csrPem: string;
}

function view(r: Record<string, unknown>): DeviceView {
  return {
    deviceId: r.device_id as string,
    factoryMspId: r.factory_msp as string,
    model: r.model as string,
    serial: r.serial as string,
    line: r.line as string,
    status: r.status as DeviceStatus,
    certificateFingerprint: r.fingerprint as string,
    certifiedUntil: r.certified_until ? (r.certified_until as Date).toISOString() : null,
    keyVersion: (r.key_version as number | undefined) ?? 1,
  };
}

export function certificateFacts(certificatePem: string): { fingerprint: string; publicKeyPem: string } {
  const cert = new X509Certificate(certificatePem);
  return {
    fingerprint: createHash('sha256').update(cert.raw).digest('hex'),
    publicKeyPem: cert.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The SPKI PEM of a CSR's key, compared with the ledger's key to recognise a re-uploaded registration. */
export function samePublicKey(a: string, b: string): boolean {
  try {
    const der = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });
    return der(a).equals(der(b));
  } catch {
    return false;
  }
}

const notFound = (deviceId: string) => new CodedError(ErrorCodes.DEVICE_NOT_FOUND, `device ${deviceId} not found`, 404);

/**
 * Device registration and lifecycle: the ledger decides (who may do what, in
 * which state, with which key), PostgreSQL keeps a read model for lists and
 * the single-use challenges.
 */
export function createDevicesService(deps: DevicesDeps) {
  const { pool, ledger } = deps;
  const challenges = deps.challenges ?? createChallengeStore(pool);

  async function refresh(username: string, deviceId: string, certificatePem?: string): Promise<DeviceView> {
    const d = await ledger.readDevice(username, deviceId);
    const { rows } = await pool.query(
      `UPDATE devices SET status = $2, certified_until = $3, fingerprint = $4, key_version = $5,
         certificate_pem = COALESCE($6, certificate_pem), updated_at = now()
       WHERE device_id = $1 RETURNING *`,
      [
        deviceId,
        d.status,
        d.validUntil ?? null,
        d.certificateFingerprint,
        (d.keyVersion as number | undefined) ?? 1,
        certificatePem ?? null,
      ],
    );
    deps.registry.invalidate(deviceId);
    if (!rows[0]) throw notFound(deviceId);
    return view(rows[0]);
  }

  /** The ledger record, hidden (404) from factories that do not own the device. */
  async function ledgerDevice(user: AuthUser, deviceId: string): Promise<LedgerDevice> {
    const d = await ledger.readDevice(user.username, deviceId);
    if (user.orgKind === 'factory' && d.factoryMspId !== user.mspId) throw notFound(deviceId);
    return d;
  }

  async function insertReadModel(
    mspId: string,
    input: DeviceRegistrationInput,
    certificatePem: string,
    tx: string | null,
  ) {
    const { fingerprint } = certificateFacts(certificatePem);
    const { rows } = await pool.query(
      `INSERT INTO devices (device_id, factory_msp, model, serial, line, certificate_pem, fingerprint, status, registered_tx)
       VALUES ($1,$2,$3,$4,$5,$6,$7,'REGISTERED',$8)
       ON CONFLICT (device_id) DO UPDATE SET certificate_pem = EXCLUDED.certificate_pem, fingerprint = EXCLUDED.fingerprint,
         status = 'REGISTERED', registered_tx = COALESCE(EXCLUDED.registered_tx, devices.registered_tx), updated_at = now()
       RETURNING *`,
      [input.deviceId, mspId, input.model, input.serial, input.line, certificatePem, fingerprint, tx],
    );
    return view(rows[0]);
  }

  /** Registers with an already issued certificate: the bulk job issues once and retries with the same one. */
  async function registerCertificate(
    user: Pick<AuthUser, 'username' | 'mspId'>,
    input: DeviceRegistrationInput,
    certificatePem: string,
  ): Promise<DeviceView> {
    const { fingerprint, publicKeyPem } = certificateFacts(certificatePem);
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
    return insertReadModel(user.mspId, input, certificatePem, registeredTx);
  }

  async function register(
    user: AuthUser,
    input: DeviceRegistrationInput,
  ): Promise<{ device: DeviceView; certificatePem: string }> {
    const certificatePem = await deps.issueCertificate(user.mspId, input.csrPem, input.deviceId);
    return { device: await registerCertificate(user, input, certificatePem), certificatePem };
  }

  async function issueChallenge(user: AuthUser, deviceId: string) {
    const d = await ledger.readDevice(user.username, deviceId);
    if (d.status === DeviceStatuses.revoked) {
      throw new CodedError(ErrorCodes.DEVICE_REVOKED, `device ${deviceId} is revoked`, 409);
    }
    return challenges.issue(deviceId, user.username);
  }

  async function certify(
    user: AuthUser,
    deviceId: string,
    input: { challengeId: string; signature: string; validUntil?: string; note?: string },
  ): Promise<DeviceView> {
    const validUntil = input.validUntil ?? new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();
    if (Number.isNaN(Date.parse(validUntil))) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'validUntil must be an ISO date-time');
    }
    const challenge = await challenges.consume(deviceId, input.challengeId);
    // Checked here for a clear answer before a ledger transaction; the chaincode checks again against its key.
    const d = await ledger.readDevice(user.username, deviceId);
    if (!verifyPossession(d.publicKeyPem, challenge, input.signature)) {
      throw new CodedError(
        ErrorCodes.POSSESSION_NOT_PROVEN,
        `the signature does not verify with the key the ledger holds for ${deviceId}`,
        400,
      );
    }
    const tx = await ledger.certifyDevice(user.username, deviceId, {
      validUntil: new Date(validUntil).toISOString(),
      note: input.note ?? '',
      proof: { challenge, signature: input.signature },
    });
    await challenges.recordUse(input.challengeId, tx.txId);
    return refresh(user.username, deviceId);
  }

  const lifecycle =
    (action: 'suspendDevice' | 'reactivateDevice' | 'revokeDevice') =>
    async (user: AuthUser, deviceId: string, input: { note?: string } = {}): Promise<DeviceView> => {
      await ledger[action](user.username, deviceId, input.note ?? '');
      return refresh(user.username, deviceId);
    };

  async function rotateKey(
    user: AuthUser,
    deviceId: string,
    input: { csrPem: string; note?: string },
  ): Promise<{ device: DeviceView; certificatePem: string }> {
    const current = await ledgerDevice(user, deviceId);
    if (current.status === DeviceStatuses.revoked) {
      throw new CodedError(ErrorCodes.DEVICE_REVOKED, `device ${deviceId} is revoked`, 409);
    }
    const certificatePem = await deps.issueCertificate(user.mspId, input.csrPem, deviceId);
    const { fingerprint, publicKeyPem } = certificateFacts(certificatePem);
    await ledger.rotateDeviceKey(user.username, deviceId, {
      certificateFingerprint: fingerprint,
      publicKeyPem,
      note: input.note ?? '',
    });
    return { device: await refresh(user.username, deviceId, certificatePem), certificatePem };
  }

  async function certifiedAt(user: AuthUser, deviceId: string, time: string) {
    await ledgerDevice(user, deviceId);
    return ledger.deviceCertifiedAt(user.username, deviceId, new Date(time).toISOString());
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
    if (!row || (user.orgKind !== 'platform' && row.factory_msp !== user.mspId)) throw notFound(deviceId);
    const history = await ledger.deviceHistory(user.username, deviceId);
    return {
      ...view(row),
      history: history.map((h) => {
        const change = h.record?.lastChange as
          | { action?: string; by?: { mspId: string; cn: string }; note?: string }
          | undefined;
        return {
          txId: h.txId,
          timestamp: h.timestamp,
          status: (h.record?.status ?? 'DELETED') as DeviceHistoryStatus,
          action: change?.action ?? null,
          by: change?.by ? `${change.by.cn}@${change.by.mspId}` : null,
          note: change?.note ?? '',
          keyVersion: (h.record?.keyVersion as number | undefined) ?? 1,
          certificateFingerprint: h.record?.certificateFingerprint ?? null,
        };
      }),
    };
  }

  return {
    register,
    registerCertificate,
    insertReadModel,
    issueChallenge,
    certify,
    suspend: lifecycle('suspendDevice'),
    reactivate: lifecycle('reactivateDevice'),
    revoke: lifecycle('revokeDevice'),
    rotateKey,
    certifiedAt,
    list,
    get,
    refresh,
  };
}

export type DevicesService = ReturnType<typeof createDevicesService>;
