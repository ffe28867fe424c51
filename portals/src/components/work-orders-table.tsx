import { useTranslation } from 'react-i18next';
import type { WorkOrder } from '../api';
import { formatDateTime, formatNumber, shortHash } from '../lib/format';
import { OrgName } from './org-name';
import { WorkOrderStatusBadge } from './status-badges';
import { Mono, Progress } from './ui';

/** Work orders as a table; with `onSelect` rows become selectable (the financier's master list). */
export function WorkOrdersTable({
  workOrders,
  show,
  selected,
  onSelect,
}: {
  workOrders: WorkOrder[];
  show: { brand?: boolean; factory?: boolean };
  selected?: string;
  onSelect?: (id: string) => void;
}) {
  const { t, i18n } = useTranslation();
  const sorted = [...workOrders].sort((a, b) => (b.acceptedAt ?? '').localeCompare(a.acceptedAt ?? ''));
  return (
    <table className={`table${onSelect ? ' table-select' : ''}`} data-testid="work-orders-table">
      <thead>
        <tr>
          <th>{t('factory.product')}</th>
          {show.brand && <th>{t('financier.brand')}</th>}
          {show.factory && <th>{t('financier.factory')}</th>}
          <th>{t('factory.produced')}</th>
          <th>{t('factory.status')}</th>
          <th>{t('factory.ledgerTx')}</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((w) => (
          <tr
            key={w.id}
            data-testid="work-order-row"
            data-work-order-id={w.id}
            className={selected === w.id ? 'selected' : undefined}
            onClick={onSelect ? () => onSelect(w.id) : undefined}
            onKeyDown={onSelect ? (e) => e.key === 'Enter' && onSelect(w.id) : undefined}
            tabIndex={onSelect ? 0 : undefined}
          >
            <td>
              <strong>{w.product}</strong>
              <div className="muted small">
                <Mono>{shortHash(w.id, 6)}</Mono> · {formatDateTime(w.acceptedAt, i18n.language)}
              </div>
            </td>
            {show.brand && (
              <td>
                <OrgName mspId={w.brandMspId} />
              </td>
            )}
            {show.factory && (
              <td>
                <OrgName mspId={w.factoryMspId} />
              </td>
            )}
            <td className="nowrap">
              <Progress value={w.producedUnits} max={w.quantity} /> {formatNumber(w.producedUnits, i18n.language)} /{' '}
              {formatNumber(w.quantity, i18n.language)}
            </td>
            <td>
              <WorkOrderStatusBadge status={w.status} />
            </td>
            <td>
              {w.ledger ? (
                <Mono title={w.ledger.txId}>{t('common.block', { n: w.ledger.blockNumber })}</Mono>
              ) : (
                <span className="muted">{t('common.pending')}</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
