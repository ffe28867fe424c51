import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { WorkOrder } from '../api';
import { epcisApi, type WorkOrderLot } from '../api/epcis';
import { errorMessage, formatNumber, shortHash } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';
import { WorkOrderStatusBadge } from './status-badges';
import { Card, Empty, Mono } from './ui';

/** The milestone a factory records next, by the work order's status (DELIVERED is the brand's). */
const NEXT: Partial<Record<string, 'PRODUCED' | 'QC_PASSED' | 'SHIPPED'>> = {
  committed: 'PRODUCED',
  produced: 'QC_PASSED',
  qc_passed: 'SHIPPED',
};

function LotsCell({ lots }: { lots: WorkOrderLot[] }) {
  const { i18n } = useTranslation();
  return (
    <ul className="plain small" data-testid="work-order-lots">
      {lots.map((l) => (
        <li key={`${l.gtin}/${l.lot}`}>
          <Mono title={l.uri}>
            {l.gtin} · {l.lot}
          </Mono>{' '}
          #{formatNumber(l.serialFrom, i18n.language)}–{formatNumber(l.serialTo, i18n.language)}
          <span className="muted"> ({formatNumber(Math.max(0, l.nextSerial - l.serialFrom), i18n.language)} ✔)</span>
        </li>
      ))}
    </ul>
  );
}

function ProductionRow({ workOrder, onChange }: { workOrder: WorkOrder; onChange: () => void }) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const lots = usePoll(() => epcisApi(api).lots(workOrder.id), 10_000, [api, workOrder.id]);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string }>();
  const next = NEXT[workOrder.status];
  const started = (lots.data?.items.length ?? 0) > 0;

  async function run(action: () => Promise<string>) {
    setBusy(true);
    setNote(undefined);
    try {
      setNote({ ok: true, text: await action() });
      await lots.reload();
      onChange();
    } catch (e) {
      setNote({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <tr data-testid="production-row" data-work-order-id={workOrder.id} data-status={workOrder.status}>
      <td>
        <Mono title={workOrder.id}>{shortHash(workOrder.id, 8)}</Mono>
        <div className="muted small">{workOrder.product}</div>
      </td>
      <td>
        <WorkOrderStatusBadge status={workOrder.status} />
      </td>
      <td className="num">
        {formatNumber(Math.min(workOrder.producedUnits, workOrder.quantity), i18n.language)} /{' '}
        {formatNumber(workOrder.quantity, i18n.language)}
        {workOrder.producedUnits > workOrder.quantity && (
          <div className="small warn" data-testid="over-production">
            {t('production.over', { units: formatNumber(workOrder.producedUnits - workOrder.quantity, i18n.language) })}
          </div>
        )}
      </td>
      <td>
        {started ? (
          <LotsCell lots={lots.data?.items ?? []} />
        ) : (
          <span className="muted small">{t('production.notStarted')}</span>
        )}
      </td>
      <td className="actions">
        {!started && workOrder.status === 'committed' && (
          <button
            type="button"
            className="btn btn-small btn-primary"
            data-testid="start-production"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                const r = await epcisApi(api).startProduction(workOrder.id);
                return t('production.started', { lots: r.items.map((l) => l.lot).join(', ') });
              })
            }
          >
            {t('production.start')}
          </button>
        )}
        {next && (
          <button
            type="button"
            className="btn btn-small"
            data-testid="record-milestone"
            data-milestone={next}
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await api.request('POST', `/api/work-orders/${encodeURIComponent(workOrder.id)}/milestones`, {
                  milestone: next,
                });
                return t('production.recorded', { milestone: t(`production.milestones.${next}`) });
              })
            }
          >
            {t('production.record', { milestone: t(`production.milestones.${next}`) })}
          </button>
        )}
        {note && (
          <div className={`small ${note.ok ? 'ok' : 'warn'}`} data-testid="production-note">
            {note.text}
          </div>
        )}
      </td>
    </tr>
  );
}

/**
 * The factory's production desk: start a work order under GS1 lots (serials allocated, recorded on the ledger),
 * follow its commissioned serials, and record the milestones it has proven (the platform refuses what anchored
 * device events do not prove, and says why). Over-production is shown, never counted as ordered units.
 */
export function ProductionCard({ workOrders, onChange }: { workOrders: WorkOrder[]; onChange: () => void }) {
  const { t } = useTranslation();
  const active = workOrders.filter((w) => w.status !== 'delivered' && w.status !== 'committing');
  return (
    <Card title={t('production.title')} testId="production-card">
      {active.length === 0 ? (
        <Empty />
      ) : (
        <table className="table" data-testid="production-table">
          <thead>
            <tr>
              <th>{t('production.workOrder')}</th>
              <th>{t('factory.status')}</th>
              <th className="num">{t('production.produced')}</th>
              <th>{t('production.lots')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {active.map((w) => (
              <ProductionRow key={w.id} workOrder={w} onChange={onChange} />
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
