import { useTranslation } from 'react-i18next';
import { DevicesTable } from '../components/devices-table';
import { OrgName } from '../components/org-name';
import { OrderStatusBadge } from '../components/status-badges';
import { Card, Empty, ErrorNote, PageTitle } from '../components/ui';
import { WorkOrdersTable } from '../components/work-orders-table';
import { formatDate, formatMoney, formatNumber } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';

const REFRESH_MS = 5000;

export function PlatformPortal() {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const orders = usePoll(() => api.listOrders(), REFRESH_MS, [api]);
  const workOrders = usePoll(() => api.listWorkOrders(), REFRESH_MS, [api]);
  const devices = usePoll(() => api.listDevices(), REFRESH_MS, [api]);

  return (
    <div className="page" data-testid="platform-portal">
      <PageTitle title={t('platform.title')} intro={t('platform.intro')} />
      <Card title={t('platform.orders')}>
        <ErrorNote error={orders.error} />
        {orders.data?.items.length ? (
          <table className="table">
            <thead>
              <tr>
                <th>{t('brand.product')}</th>
                <th>{t('financier.brand')}</th>
                <th className="num">{t('brand.totalQuantity')}</th>
                <th className="num">{t('brand.targetPrice')}</th>
                <th>{t('brand.dueDate')}</th>
                <th>{t('brand.status')}</th>
              </tr>
            </thead>
            <tbody>
              {orders.data.items.map((o) => (
                <tr key={o.id}>
                  <td>{o.product}</td>
                  <td>
                    <OrgName mspId={o.brandMspId} />
                  </td>
                  <td className="num">{formatNumber(o.totalQuantity, i18n.language)}</td>
                  <td className="num">{formatMoney(o.targetPriceMinor, o.currency, i18n.language)}</td>
                  <td>{formatDate(o.dueDate, i18n.language)}</td>
                  <td>
                    <OrderStatusBadge status={o.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <Empty loading={orders.loading} />
        )}
      </Card>
      <Card title={t('platform.workOrders')}>
        <ErrorNote error={workOrders.error} />
        {workOrders.data?.items.length ? (
          <WorkOrdersTable workOrders={workOrders.data.items} show={{ brand: true, factory: true }} />
        ) : (
          <Empty loading={workOrders.loading} />
        )}
      </Card>
      <Card title={t('platform.devices')}>
        <ErrorNote error={devices.error} />
        {devices.data?.items.length ? (
          <DevicesTable devices={devices.data.items} showFactory />
        ) : (
          <Empty loading={devices.loading} />
        )}
      </Card>
    </div>
  );
}
