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
            action={(d) => (
              <CertifyButton
                device={d}
                validUntil={validUntil}
                onDone={(m) => {
                  setMessage(m);
                  void devices.reload();
                }}
              />
            )}
          />
        )}
      </Card>
    </div>
  );
}
