import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type DeclineReason, DeclineReasons, type Offer } from '../api';
import { DevicesTable } from '../components/devices-table';
import { ProductionCard } from '../components/production-card';
import { Card, Empty, ErrorNote, Mono, PageTitle } from '../components/ui';
import { WorkOrdersTable } from '../components/work-orders-table';
import { errorMessage, formatDate, formatDateTime, formatMoney, formatNumber, shortHash } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';

const REFRESH_MS = 4000;

function OfferRow({ offer, onDone }: { offer: Offer; onDone: (message: string) => void }) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const [reason, setReason] = useState<DeclineReason>('capacity');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function run(action: () => Promise<string>) {
    setBusy(true);
    setError(undefined);
    try {
      onDone(await action());
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <tr data-testid="offer-row" data-offer-id={offer.id}>
      <td>
        <strong>{offer.product}</strong>
        <div className="muted small">
          {t('factory.order')} <Mono>{shortHash(offer.orderId, 6)}</Mono>
        </div>
      </td>
      <td className="num">{formatNumber(offer.quantity, i18n.language)}</td>
      <td className="num">{formatMoney(offer.priceMinor, offer.currency, i18n.language)}</td>
      <td>{formatDate(offer.dueDate, i18n.language)}</td>
      <td>{formatDateTime(offer.expiresAt, i18n.language)}</td>
      <td className="actions">
        <button
          type="button"
          className="btn btn-small btn-primary"
          data-testid="offer-accept"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              const r = await api.acceptOffer(offer.id);
              return t('factory.accepted', { id: r.workOrder.id });
            })
          }
        >
          {t('factory.accept')}
        </button>
        <select
          aria-label={t('factory.reason')}
          data-testid="offer-decline-reason"
          value={reason}
          disabled={busy}
          onChange={(e) => setReason(e.target.value as DeclineReason)}
        >
          {DeclineReasons.map((r) => (
            <option key={r} value={r}>
              {t(`declineReasons.${r}`)}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn btn-small btn-danger"
          data-testid="offer-decline"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              await api.declineOffer(offer.id, { reason });
              return t('factory.declined');
            })
          }
        >
          {t('factory.decline')}
        </button>
        {error && <div className="note note-error small">{error}</div>}
      </td>
    </tr>
  );
}

export function FactoryPortal() {
  const { t } = useTranslation();
  const { api } = useSession();
  const offers = usePoll(() => api.listOffers('open'), REFRESH_MS, [api]);
  const workOrders = usePoll(() => api.listWorkOrders(), REFRESH_MS, [api]);
  const devices = usePoll(() => api.listDevices(), REFRESH_MS * 2, [api]);
  const [message, setMessage] = useState<string>();

  const openOffers = (offers.data?.items ?? []).filter((o) => o.status === 'open');

  return (
    <div className="page" data-testid="factory-portal">
      <PageTitle title={t('factory.title')} intro={t('factory.intro')} />
      {message && (
        <p className="note note-ok" data-testid="offer-message">
          {message}
        </p>
      )}
      <Card
        title={t('factory.openOffers')}
        actions={<span className="muted small">{t('common.autoRefresh', { seconds: REFRESH_MS / 1000 })}</span>}
        testId="offers-card"
      >
        <ErrorNote error={offers.error} />
        {openOffers.length === 0 ? (
          <Empty loading={offers.loading} />
        ) : (
          <table className="table" data-testid="offers-table">
            <thead>
              <tr>
                <th>{t('factory.product')}</th>
                <th className="num">{t('factory.quantity')}</th>
                <th className="num">{t('factory.price')}</th>
                <th>{t('factory.dueDate')}</th>
                <th>{t('factory.expires')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {openOffers.map((o) => (
                <OfferRow
                  key={o.id}
                  offer={o}
                  onDone={(m) => {
                    setMessage(m);
                    void offers.reload();
                    void workOrders.reload();
                  }}
                />
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title={t('factory.workOrders')} testId="factory-work-orders-card">
        <ErrorNote error={workOrders.error} />
        {workOrders.data?.items.length ? (
          <WorkOrdersTable workOrders={workOrders.data.items} show={{ brand: true }} />
        ) : (
          <Empty loading={workOrders.loading} />
        )}
      </Card>
      {workOrders.data?.items.length ? (
        <ProductionCard workOrders={workOrders.data.items} onChange={() => void workOrders.reload()} />
      ) : null}
      <Card title={t('factory.devices')} testId="factory-devices-card">
        <ErrorNote error={devices.error} />
        {devices.data?.items.length ? (
          <DevicesTable devices={devices.data.items} />
        ) : (
          <Empty loading={devices.loading} />
        )}
      </Card>
    </div>
  );
}
