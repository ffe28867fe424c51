import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { dispatchApi, type ExplainedOffer } from '../api/dispatch';
import { OrgName } from '../components/org-name';
import { OfferStatusBadge } from '../components/status-badges';
import { Badge, Card, Empty, ErrorNote, PageTitle } from '../components/ui';
import { formatNumber } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';

const REFRESH_MS = 4000;

function Explanation({ offer }: { offer: ExplainedOffer }) {
  const { t, i18n } = useTranslation();
  const e = offer.explanation;
  if (!e) return <p className="muted">{t('dispatch.noExplanation')}</p>;
  return (
    <div data-testid="allocation-explanation">
      <p>
        <strong>{t('dispatch.why')}:</strong> {e.why}
      </p>
      <dl className="facts">
        <dt>{t('dispatch.quality')}</dt>
        <dd>{e.factory.qualityScore.toFixed(3)}</dd>
        <dt>{t('dispatch.unitCost')}</dt>
        <dd>{formatNumber(e.factory.unitCostMinor / 100, i18n.language)}</dd>
        <dt>{t('dispatch.minBatch')}</dt>
        <dd>{formatNumber(e.factory.minBatch, i18n.language)}</dd>
      </dl>
      <ul>
        {e.binding.map((b) => (
          <li key={`${b.constraint}:${b.detail}`}>
            <Badge tone="info">{t(`dispatch.constraint.${b.constraint}`, { defaultValue: b.constraint })}</Badge>{' '}
            {b.detail}
          </li>
        ))}
      </ul>
      <table>
        <thead>
          <tr>
            <th>{t('dispatch.week')}</th>
            <th>{t('dispatch.quantity')}</th>
          </tr>
        </thead>
        <tbody>
          {e.weeks.map((w) => (
            <tr key={w.week}>
              <td>
                {w.week} {w.late && <Badge tone="warn">{t('dispatch.late')}</Badge>}
              </td>
              <td>{formatNumber(w.quantity, i18n.language)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {e.alternatives.length > 0 && (
        <p className="muted">
          {t('dispatch.alternatives')}: {e.alternatives.map((a) => `${a.factoryMspId} (${a.detail})`).join('; ')}
        </p>
      )}
      <p className="muted">
        {t('dispatch.solver', {
          status: e.solver.status,
          ms: e.solver.millis,
          gap:
            e.solver.boundMinor > 0
              ? ((100 * (e.solver.objectiveMinor - e.solver.boundMinor)) / e.solver.boundMinor).toFixed(2)
              : '0',
        })}
      </p>
    </div>
  );
}

/** The brand's view of how dispatch split each order: offers per factory, and why. */
export function AllocationPage() {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const dispatch = useMemo(() => dispatchApi(api), [api]);
  const orders = usePoll(() => dispatch.listOrders(), REFRESH_MS, []);
  const [selected, setSelected] = useState<string>();
  const orderId = selected ?? orders.data?.items[0]?.id;
  const order = usePoll(() => (orderId ? dispatch.getOrder(orderId) : Promise.resolve(undefined)), REFRESH_MS, [
    orderId,
  ]);
  return (
    <>
      <PageTitle title={t('dispatch.allocTitle')} intro={t('dispatch.allocIntro')} />
      <ErrorNote error={orders.error ?? order.error} />
      {!orders.data || orders.data.items.length === 0 ? (
        <Empty loading={orders.loading} />
      ) : (
        <>
          <select data-testid="allocation-order" value={orderId} onChange={(e) => setSelected(e.target.value)}>
            {orders.data.items.map((o) => (
              <option key={o.id} value={o.id}>
                {o.id} · {o.product} · {t(`orderStatus.${o.status}`)}
              </option>
            ))}
          </select>
          {order.data &&
            (order.data.offers.length === 0 ? (
              <Empty />
            ) : (
              order.data.offers.map((o) => (
                <Card
                  key={o.id}
                  testId="allocation-offer"
                  title={
                    <>
                      <OrgName mspId={o.factoryMspId} /> · {formatNumber(o.quantity, i18n.language)} ·{' '}
                      <OfferStatusBadge status={o.status} />
                    </>
                  }
                >
                  <Explanation offer={o} />
                </Card>
              ))
            ))}
        </>
      )}
    </>
  );
}
