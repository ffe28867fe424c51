import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Device, DeviceChallenge } from '../api';
import { DevicesTable } from '../components/devices-table';
import { Badge, Card, Empty, ErrorNote, PageTitle } from '../components/ui';
import { errorMessage, isoDateInDays } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';

const REFRESH_MS = 5000;

/**
 * Certification needs the device's proof of possession: the platform issues a
 * challenge, the device signs it with its own key (which never leaves it), and
 * the certifier pastes the signature back. The portal cannot sign for the
 * device, so it shows the challenge and the command that signs it on the
 * device side.
 */
function CertifyButton({
  device,
  validUntil,
  onDone,
}: {
  device: Device;
  validUntil: string;
  onDone: (m: string) => void;
}) {
  const { t } = useTranslation();
  const { api } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [challenge, setChallenge] = useState<DeviceChallenge>();
  const [signature, setSignature] = useState('');
  if (device.status !== 'REGISTERED') return null;
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  if (!challenge) {
    return (
      <>
        <button
          type="button"
          className="btn btn-small btn-primary"
          data-testid="device-certify"
          disabled={busy}
          onClick={() =>
            run(async () => {
              setSignature('');
              setChallenge(await api.issueDeviceChallenge(device.deviceId));
            })
          }
        >
          {t('devices.certify')}
        </button>
        {error && <div className="note note-error small">{error}</div>}
      </>
    );
  }
  return (
    <div className="certify-proof" data-testid="certify-proof">
      <p className="small">{t('devices.challengeIntro', { id: device.deviceId, expires: challenge.expiresAt })}</p>
      <textarea readOnly rows={3} data-testid="certify-challenge" value={challenge.challenge} />
      <p className="small muted">
        <code>{`node services/dist/src/iot/sign-challenge-cli.js --device ${device.deviceId} --key <device-key.pem>`}</code>
      </p>
      <label className="inline-field">
        <span>{t('devices.signature')}</span>
        <input
          type="text"
          data-testid="certify-signature"
          value={signature}
          onChange={(e) => setSignature(e.target.value.trim())}
        />
      </label>
      <button
        type="button"
        className="btn btn-small btn-primary"
        data-testid="certify-submit"
        disabled={busy || signature === ''}
        onClick={() =>
          run(async () => {
            // validUntil is a date; the certification lasts through the end of that day (UTC).
            await api.certifyDevice(device.deviceId, {
              challengeId: challenge.challengeId,
              signature,
              ...(validUntil ? { validUntil: `${validUntil}T23:59:59.000Z` } : {}),
            });
            setChallenge(undefined);
            onDone(t('devices.certified', { id: device.deviceId }));
          })
        }
      >
        {t('devices.submitProof')}
      </button>
      <button type="button" className="btn btn-small" disabled={busy} onClick={() => setChallenge(undefined)}>
        {t('devices.cancel')}
      </button>
      {error && <div className="note note-error small">{error}</div>}
    </div>
  );
}

/** Suspend (recalibration due), reactivate, or revoke (tampering; final, so it asks first). */
function LifecycleButtons({ device, onDone }: { device: Device; onDone: (m: string) => void }) {
  const { t } = useTranslation();
  const { api } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const actions: ('suspend' | 'reactivate' | 'revoke')[] =
    device.status === 'CERTIFIED'
      ? ['suspend', 'revoke']
      : device.status === 'SUSPENDED'
        ? ['reactivate', 'revoke']
        : [];
  if (actions.length === 0) return null;
  const act = async (action: 'suspend' | 'reactivate' | 'revoke') => {
    setBusy(true);
    setError(undefined);
    try {
      const d = await api.changeDeviceStatus(device.deviceId, action);
      setConfirmRevoke(false);
      onDone(t('devices.statusChanged', { id: device.deviceId, status: t(`deviceStatus.${d.status}`) }));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="nowrap">
      {actions.map((action) =>
        action === 'revoke' && !confirmRevoke ? (
          <button
            key={action}
            type="button"
            className="btn btn-small"
            data-testid="device-revoke"
            disabled={busy}
            onClick={() => setConfirmRevoke(true)}
          >
            {t('devices.revoke')}
          </button>
        ) : (
          <button
            key={action}
            type="button"
            className={action === 'revoke' ? 'btn btn-small btn-danger' : 'btn btn-small'}
            data-testid={action === 'revoke' ? 'device-revoke-confirm' : `device-${action}`}
            disabled={busy}
            onClick={() => act(action)}
          >
            {action === 'revoke' ? t('devices.confirmRevoke') : t(`devices.${action}`)}
          </button>
        ),
      )}
      {error && <div className="note note-error small">{error}</div>}
    </span>
  );
}

export function CertifierPortal() {
  const { t } = useTranslation();
  const { api } = useSession();
  const devices = usePoll(() => api.listDevices(), REFRESH_MS, [api]);
  const [validUntil, setValidUntil] = useState(() => isoDateInDays(365));
  const [message, setMessage] = useState<string>();
  const items = devices.data?.items ?? [];
  const awaiting = items.filter((d) => d.status === 'REGISTERED').length;

  return (
    <div className="page" data-testid="certifier-portal">
      <PageTitle title={t('certifier.title')} intro={t('certifier.intro')} />
      {message && (
        <p className="note note-ok" data-testid="certify-message">
          {message}
        </p>
      )}
      <Card
        title={t('certifier.allDevices')}
        actions={
          <>
            {awaiting > 0 && <Badge tone="warn">{t('certifier.awaiting', { count: awaiting })}</Badge>}
            <label className="inline-field">
              <span>{t('certifier.validUntil')}</span>
              <input
                type="date"
                data-testid="certify-valid-until"
                value={validUntil}
                onChange={(e) => setValidUntil(e.target.value)}
              />
            </label>
          </>
        }
        testId="certifier-devices-card"
      >
        <ErrorNote error={devices.error} />
        {items.length === 0 ? (
          <Empty loading={devices.loading} />
        ) : (
          <DevicesTable
            devices={items}
            showFactory
            action={(d) => {
              const onDone = (m: string) => {
                setMessage(m);
                void devices.reload();
              };
              return (
                <>
                  <CertifyButton device={d} validUntil={validUntil} onDone={onDone} />
                  <LifecycleButtons device={d} onDone={onDone} />
                </>
              );
            }}
          />
        )}
      </Card>
    </div>
  );
}
