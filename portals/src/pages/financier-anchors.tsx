import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AnchorWindow, LedgerAnchor } from '../api';
import { CategoryBarChart } from '../components/category-bar-chart';
import { useOrgName, useOrgs } from '../components/org-name';
import { Card, Empty, ErrorNote, Mono } from '../components/ui';
import { formatDateTime, formatNumber, shortHash } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';

/** Rows the table shows before "Show all": a busy factory anchors many batches a month. */
const TABLE_ROWS = 100;

/** A calendar month as `<input type="month">` holds it: 'YYYY-MM'. */
type Month = string;

function monthOf(d: Date): Month {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

/**
 * The month in the browser's time zone, as the window the route takes: from its first midnight to the next
 * month's. A financier in Hangzhou means a Hangzhou month; the same zone buckets the chart's days.
 */
function monthWindow(month: Month): (AnchorWindow & { year: number; monthIndex: number; days: number }) | undefined {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return undefined;
  const year = Number(m[1]);
  const monthIndex = Number(m[2]) - 1;
  if (monthIndex < 0 || monthIndex > 11) return undefined;
  return {
    from: new Date(year, monthIndex, 1).toISOString(),
    to: new Date(year, monthIndex + 1, 1).toISOString(),
    year,
    monthIndex,
    days: new Date(year, monthIndex + 1, 0).getDate(),
  };
}

interface MonthOfAnchors {
  mspId: string;
  month: Month;
  period: AnchorWindow;
  items: LedgerAnchor[];
  fetchedAt: number;
}

/** The earliest first event and the latest last event of the batches. */
function span(items: LedgerAnchor[]): { first: string; last: string } | undefined {
  if (items.length === 0) return undefined;
  let first = items[0] as LedgerAnchor;
  let last = first;
  for (const a of items) {
    if (Date.parse(a.firstEventTime) < Date.parse(first.firstEventTime)) first = a;
    if (Date.parse(a.lastEventTime) > Date.parse(last.lastEventTime)) last = a;
  }
  return { first: first.firstEventTime, last: last.lastEventTime };
}

/** A factory's anchored batches of one month, as the ledger lists them to the financier. */
export function FactoryAnchorsSection() {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const orgName = useOrgName();
  const factories = useOrgs().filter((o) => o.kind === 'factory');
  const [picked, setPicked] = useState<string>();
  const [month, setMonth] = useState<Month>(() => monthOf(new Date()));
  const [showAll, setShowAll] = useState(false);
  const mspId = picked ?? factories[0]?.mspId ?? '';
  const period = monthWindow(month);

  const result = usePoll<MonthOfAnchors | null>(
    async () => {
      if (!mspId || !period) return null;
      const items = await api.allFactoryAnchors(mspId, period);
      return { mspId, month, period, items, fetchedAt: Date.now() };
    },
    0,
    [api, mspId, month],
  );
  // usePoll keeps the last answer while the next loads; never show one factory's or month's batches under another.
  const data = result.data && result.data.mspId === mspId && result.data.month === month ? result.data : undefined;
  const state = !mspId || !period ? 'idle' : data ? 'ready' : result.error ? 'error' : 'loading';
  const monthLabel = period
    ? new Date(period.year, period.monthIndex, 1).toLocaleDateString(i18n.language, { year: 'numeric', month: 'long' })
    : '';

  return (
    <Card
      title={t('financierAnchors.title')}
      testId="factory-anchors"
      actions={
        <>
          <label className="inline-field">
            <span>{t('financierAnchors.factory')}</span>
            <select
              value={mspId}
              data-testid="anchors-factory"
              onChange={(e) => {
                setPicked(e.target.value);
                setShowAll(false);
              }}
            >
              {factories.map((f) => (
                <option key={f.mspId} value={f.mspId}>
                  {orgName(f.mspId)}
                </option>
              ))}
            </select>
          </label>
          <label className="inline-field">
            <span>{t('financierAnchors.month')}</span>
            <input
              type="month"
              value={month}
              data-testid="anchors-month"
              onChange={(e) => {
                setMonth(e.target.value);
                setShowAll(false);
              }}
            />
          </label>
          <button
            type="button"
            className="btn btn-secondary btn-small"
            data-testid="anchors-refresh"
            disabled={state === 'idle'}
            onClick={() => void result.reload()}
          >
            {t('common.refresh')}
          </button>
        </>
      }
    >
      <div
        data-testid="factory-anchors-body"
        data-state={state}
        data-factory={mspId}
        data-from={data?.period.from}
        data-to={data?.period.to}
        data-fetched-at={data?.fetchedAt}
      >
        <p className="muted small">{t('financierAnchors.intro')}</p>
        <ErrorNote error={result.error} />
        {factories.length === 0 ? (
          <p className="muted">{t('financierAnchors.noFactories')}</p>
        ) : !period ? (
          <p className="muted">{t('financierAnchors.pickMonth')}</p>
        ) : !data ? (
          !result.error && <Empty loading />
        ) : data.items.length === 0 ? (
          <p className="empty" data-testid="anchors-empty">
            {t('financierAnchors.empty', { factory: orgName(mspId), month: monthLabel })}
          </p>
        ) : (
          <MonthDetail
            data={data}
            days={period.days}
            showAll={showAll}
            onShowAll={() => setShowAll(true)}
            locale={i18n.language}
          />
        )}
      </div>
    </Card>
  );
}

function MonthDetail({
  data,
  days,
  showAll,
  onShowAll,
  locale,
}: {
  data: MonthOfAnchors;
  days: number;
  showAll: boolean;
  onShowAll: () => void;
  locale: string;
}) {
  const { t } = useTranslation();
  const { items } = data;
  const events = items.reduce((n, a) => n + a.eventCount, 0);
  const range = span(items);

  // Every day of the month gets a bar, so quiet days show as gaps rather than vanishing.
  const chart = useMemo(() => {
    const start = new Date(data.period.from);
    const values = new Array<number>(days).fill(0);
    for (const a of items) {
      const d = new Date(a.lastEventTime);
      if (d.getFullYear() === start.getFullYear() && d.getMonth() === start.getMonth()) {
        values[d.getDate() - 1] = (values[d.getDate() - 1] ?? 0) + a.eventCount;
      }
    }
    const fmt = new Intl.DateTimeFormat(locale, { month: 'numeric', day: 'numeric' });
    const labels = values.map((_, i) => fmt.format(new Date(start.getFullYear(), start.getMonth(), i + 1)));
    return { labels, values };
  }, [items, days, data.period.from, locale]);

  // The ledger lists oldest first; the latest is what a lender looks at first.
  const newestFirst = useMemo(() => [...items].reverse(), [items]);
  const rows = showAll ? newestFirst : newestFirst.slice(0, TABLE_ROWS);

  return (
    <>
      <dl className="facts" data-testid="anchors-summary">
        <div>
          <dt>{t('financierAnchors.batches')}</dt>
          <dd data-testid="anchors-batches" data-value={items.length}>
            {formatNumber(items.length, locale)}
          </dd>
        </div>
        <div>
          <dt>{t('financierAnchors.events')}</dt>
          <dd data-testid="anchors-events" data-value={events}>
            {formatNumber(events, locale)}
          </dd>
        </div>
        <div>
          <dt>{t('financierAnchors.firstEvent')}</dt>
          <dd data-testid="anchors-first-event">{formatDateTime(range?.first, locale)}</dd>
        </div>
        <div>
          <dt>{t('financierAnchors.lastEvent')}</dt>
          <dd data-testid="anchors-last-event">{formatDateTime(range?.last, locale)}</dd>
        </div>
      </dl>
      <h3 className="chart-title">{t('financierAnchors.chartTitle')}</h3>
      <CategoryBarChart
        labels={chart.labels}
        values={chart.values}
        name={t('financierAnchors.events')}
        testId="anchors-chart"
      />
      <table className="table table-compact" data-testid="anchors-month-table">
        <thead>
          <tr>
            <th>{t('financierAnchors.batch')}</th>
            <th className="num">{t('financierAnchors.events')}</th>
            <th>{t('financierAnchors.firstEvent')}</th>
            <th>{t('financierAnchors.lastEvent')}</th>
            <th>{t('financierAnchors.anchoredAt')}</th>
            <th>{t('financierAnchors.txId')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr key={a.batchId} data-testid="anchors-month-row" data-batch-id={a.batchId}>
              <td>
                <Mono title={a.batchId}>{shortHash(a.batchId, 10)}</Mono>
              </td>
              <td className="num">{formatNumber(a.eventCount, locale)}</td>
              <td className="nowrap">{formatDateTime(a.firstEventTime, locale)}</td>
              <td className="nowrap">{formatDateTime(a.lastEventTime, locale)}</td>
              <td className="nowrap" title={`${a.anchoredBy.cn} (${a.anchoredBy.mspId})`}>
                {formatDateTime(a.anchoredAt, locale)}
              </td>
              <td>
                <Mono title={a.txId}>{shortHash(a.txId, 8)}</Mono>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length < items.length && (
        <p className="muted small">
          {t('financierAnchors.showingLatest', { shown: rows.length, total: items.length })}{' '}
          <button type="button" className="btn btn-ghost btn-small" data-testid="anchors-show-all" onClick={onShowAll}>
            {t('financierAnchors.showAll')}
          </button>
        </p>
      )}
    </>
  );
}
