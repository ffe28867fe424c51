import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Device } from '../api';
import { DevicesTable } from '../components/devices-table';
import { Badge, Card, Empty, ErrorNote, PageTitle } from '../components/ui';
import { errorMessage, isoDateInDays } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';

const REFRESH_MS = 5000;

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
  if (device.status !== 'REGISTERED') return null;
  return (
    <>
      <button
        type="button"
        className="btn btn-small btn-primary"
        data-testid="device-certify"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            // validUntil is a date; the certification lasts through the end of that day (UTC).
            await api.certifyDevice(device.deviceId, validUntil ? { validUntil: `${validUntil}T23:59:59.000Z` } : {});
            onDone(t('devices.certified', { id: device.deviceId }));
          } catch (e) {
            setError(errorMessage(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        {t('devices.certify')}
      </button>
      {error && <div className="note note-error small">{error}</div>}
    </>
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
