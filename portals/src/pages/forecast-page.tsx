import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  type BacktestScores,
  DEFAULT_HORIZON,
  type DraftOrder,
  demandApi,
  draftSchedule,
  type ForecastLevel,
  type ForecastRunDetail,
  FREQUENCIES,
  type Frequency,
  MAX_HORIZON,
  type Selection,
  type SeriesForecast,
} from '../api/demand';
import { ForecastChart } from '../components/forecast-chart';
import { Card, Empty, ErrorNote, Mono, PageTitle, Progress } from '../components/ui';
import { errorMessage, formatNumber } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';

const REFRESH_MS = 3000;
const pct = (v: number) => `${(100 * v).toFixed(0)}%`;

function Scores({ scores }: { scores: BacktestScores | null }) {
  const { t } = useTranslation();
  if (!scores) return <span className="muted">{t('forecast.noScores')}</span>;
  return (
    <dl className="facts" data-testid="forecast-scores">
      <dt>MASE</dt>
      <dd>{scores.mase.toFixed(2)}</dd>
      <dt>sMAPE</dt>
      <dd>{scores.smape.toFixed(1)}%</dd>
      <dt>{t('forecast.coverage80')}</dt>
      <dd>{pct(scores.coverage80)}</dd>
      <dt>{t('forecast.coverage95')}</dt>
      <dd>{pct(scores.coverage95)}</dd>
    </dl>
  );
}

/** How the model was chosen and its intervals calibrated, in one line a planner can read. */
function SelectionNote({ selection }: { selection: Selection | null }) {
  const { t } = useTranslation();
  if (!selection) return null;
  const k = selection.intervalScale;
  return (
    <p className="muted small" data-testid="forecast-selection" data-method={selection.method}>
      {selection.method === 'backtest'
        ? t('forecast.selectedBacktest', { origins: selection.origins, h: selection.backtestHorizon })
        : t('forecast.selectedIc')}
      {selection.periods.length > 0 && ` ${t('forecast.seasons', { periods: selection.periods.join(', ') })}`}
      {selection.combined.length > 0 && ` ${t('forecast.combined', { models: selection.combined.join(', ') })}`}{' '}
      {k.method === 'conformal'
        ? t('forecast.calibrated', { k80: k.k80.toFixed(2), k95: k.k95.toFixed(2), points: k.points })
        : t('forecast.calibrationFallback', { k95: k.k95.toFixed(2), points: k.points })}
    </p>
  );
}

function DraftOrderForm({ runId, products, frequency }: { runId: string; products: string[]; frequency: Frequency }) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const demand = useMemo(() => demandApi(api), [api]);
  const [productId, setProductId] = useState(products[0] ?? '');
  // A daily run is planned in weeks; the others in their own periods.
  const unit: Exclude<Frequency, 'day'> = frequency === 'day' ? 'week' : frequency;
  const [periods, setPeriods] = useState(unit === 'quarter' ? '1' : unit === 'month' ? '3' : '4');
  const [basis, setBasis] = useState<'point' | 'upper80'>('point');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [order, setOrder] = useState<DraftOrder>();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setOrder(await demand.draftOrder(runId, { productId, periods: Number(periods), basis }));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title={t('forecast.draftTitle')} testId="draft-order">
      <p className="muted small">{t('forecast.draftIntro')}</p>
      <form className="grid-3" onSubmit={submit}>
        <label className="field">
          <span>{t('forecast.product')}</span>
          <select value={productId} onChange={(e) => setProductId(e.target.value)} data-testid="draft-product">
            {products.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t(`forecast.periodsOf.${unit}`)}</span>
          <input
            type="number"
            min={1}
            max={unit === 'week' ? 52 : 24}
            value={periods}
            onChange={(e) => setPeriods(e.target.value)}
            data-testid="draft-periods"
          />
        </label>
        <label className="field">
          <span>{t('forecast.basis')}</span>
          <select value={basis} onChange={(e) => setBasis(e.target.value as 'point' | 'upper80')}>
            <option value="point">{t('forecast.basisPoint')}</option>
            <option value="upper80">{t('forecast.basisUpper80')}</option>
          </select>
        </label>
        <div>
          <button type="submit" className="btn btn-primary" disabled={busy || !productId} data-testid="draft-submit">
            {t('forecast.draftButton')}
          </button>
        </div>
      </form>
      {error && <p className="note note-error">{error}</p>}
      {order && (
        <div data-testid="draft-result" data-order-id={order.id} data-status={order.status}>
          <p className="note">
            {t('forecast.draftCreated', { id: order.id, total: formatNumber(order.totalQuantity, i18n.language) })}{' '}
            <a href="#/brand">{t('forecast.toOrders')}</a>
          </p>
          <table className="table table-compact">
            <thead>
              <tr>
                <th>{t('forecast.week')}</th>
                <th>SKU</th>
                <th className="num">{t('forecast.quantity')}</th>
              </tr>
            </thead>
            <tbody>
              {draftSchedule(order).map((s) => (
                <tr key={`${s.week}-${s.sku}`}>
                  <td>{s.week}</td>
                  <td>
                    <Mono>{s.sku}</Mono>
                  </td>
                  <td className="num">{formatNumber(s.quantity, i18n.language)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

/**
 * The brand's forecasts: the latest run's progress and scores, any node of the
 * hierarchy (brand, category, product, SKU) as a chart with history, forecast
 * and 80%/95% bands, the winning model with its backtest scores, and a product
 * forecast turned into a draft custom order.
 */
export function ForecastPage() {
  const { t } = useTranslation();
  const { api } = useSession();
  const demand = useMemo(() => demandApi(api), [api]);
  const [runId, setRunId] = useState<string>();
  const [selected, setSelected] = useState<{ level: ForecastLevel; key: string }>();
  const [startError, setStartError] = useState<string>();
  const [frequency, setFrequency] = useState<Frequency>('day');
  const [horizon, setHorizon] = useState(String(DEFAULT_HORIZON.day));

  const runs = usePoll(() => demand.listRuns(), 0, [demand]);
  useEffect(() => {
    if (!runId && runs.data?.items[0]) setRunId(runs.data.items[0].id);
  }, [runs.data, runId]);

  const run = usePoll<ForecastRunDetail | undefined>(
    async () => (runId ? demand.getRun(runId) : undefined),
    REFRESH_MS,
    [demand, runId],
  );
  const done = run.data?.status === 'done';
  useEffect(() => {
    if (done && !selected && run.data) {
      const first = run.data.series.find((s) => s.level === 'sku');
      if (first) setSelected({ level: first.level, key: first.key });
    }
  }, [done, selected, run.data]);

  const series = usePoll<SeriesForecast | undefined>(
    async () => (done && runId && selected ? demand.series(runId, selected.level, selected.key) : undefined),
    0,
    [demand, done, runId, selected?.level, selected?.key],
  );

  async function start() {
    setStartError(undefined);
    try {
      const r = await demand.startRun({ frequency, horizon: Number(horizon) });
      setSelected(undefined);
      setRunId(r.id);
      await runs.reload();
    } catch (err) {
      setStartError(errorMessage(err));
    }
  }

  const r = run.data;
  const products = r?.series.filter((s) => s.level === 'product').map((s) => s.key) ?? [];
  return (
    <div className="page" data-testid="forecast-page">
      <PageTitle title={t('forecast.title')} intro={t('forecast.intro')} />
      <Card
        title={t('forecast.run')}
        actions={
          <span style={{ display: 'inline-flex', gap: '0.5rem', alignItems: 'center' }}>
            <select
              value={frequency}
              aria-label={t('forecast.frequency')}
              data-testid="forecast-frequency"
              onChange={(e) => {
                const f = e.target.value as Frequency;
                setFrequency(f);
                setHorizon(String(DEFAULT_HORIZON[f]));
              }}
            >
              {FREQUENCIES.map((f) => (
                <option key={f} value={f}>
                  {t(`forecast.frequencies.${f}`)}
                </option>
              ))}
            </select>
            <input
              type="number"
              min={1}
              max={MAX_HORIZON[frequency]}
              value={horizon}
              aria-label={t('forecast.horizon')}
              title={t('forecast.horizon')}
              data-testid="forecast-horizon"
              onChange={(e) => setHorizon(e.target.value)}
              style={{ width: '5em' }}
            />
            <button type="button" className="btn btn-secondary" onClick={start} data-testid="forecast-start">
              {t('forecast.start')}
            </button>
          </span>
        }
        testId="forecast-run"
      >
        <ErrorNote error={startError ?? runs.error ?? run.error} />
        {!r && <Empty loading={runs.loading} />}
        {r && (
          <div data-testid="forecast-run-status" data-status={r.status} data-frequency={r.frequency}>
            <p>
              <Mono>{r.id}</Mono> · {t(`forecast.status.${r.status}`)} · {r.seriesDone}/{r.seriesTotal}{' '}
              <Progress value={r.seriesDone} max={Math.max(1, r.seriesTotal)} />
            </p>
            {r.historyFrom && (
              <p className="muted small">
                {t('forecast.historySpanPeriods', {
                  from: r.historyFrom,
                  to: r.historyTo,
                  horizon: r.horizon,
                  unit: t(`forecast.periodsOf.${r.frequency}`),
                })}
              </p>
            )}
            {r.error && <p className="note note-error">{r.error}</p>}
            {r.scores && (
              <p className="small" data-testid="forecast-overall">
                {t('forecast.overall', {
                  mase: r.scores.mase.toFixed(2),
                  naive: r.scores.seasonalNaiveMase?.toFixed(2) ?? '–',
                  c80: pct(r.scores.coverage80),
                  c95: pct(r.scores.coverage95),
                })}
              </p>
            )}
          </div>
        )}
      </Card>

      {done && r && (
        <div className="detail-grid">
          <Card title={t('forecast.series')}>
            <table className="table table-compact table-select" data-testid="forecast-series-table">
              <thead>
                <tr>
                  <th>{t('forecast.level')}</th>
                  <th>{t('forecast.key')}</th>
                  <th>{t('forecast.model')}</th>
                  <th className="num">MASE</th>
                </tr>
              </thead>
              <tbody>
                {r.series.map((s) => (
                  <tr
                    key={`${s.level}:${s.key}`}
                    className={selected?.level === s.level && selected.key === s.key ? 'selected' : ''}
                    onClick={() => setSelected({ level: s.level, key: s.key })}
                    data-testid={`series-${s.level}-${s.key}`}
                  >
                    <td>{t(`forecast.levels.${s.level}`)}</td>
                    <td>
                      <Mono>{s.key}</Mono>
                    </td>
                    <td>{s.model}</td>
                    <td className="num">{s.scores ? s.scores.mase.toFixed(2) : '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          <Card
            title={
              series.data ? `${t(`forecast.levels.${series.data.level}`)} ${series.data.key}` : t('forecast.series')
            }
            testId="forecast-detail"
          >
            <ErrorNote error={series.error} />
            {!series.data && <Empty loading={series.loading} />}
            {series.data && (
              <>
                <ForecastChart data={series.data} />
                <p data-testid="forecast-model" data-level={series.data.level} data-key={series.data.key}>
                  {t('forecast.model')}: <strong>{series.data.model}</strong>
                  {series.data.model === 'bottom_up' && (
                    <span className="muted small"> — {t('forecast.bottomUp')}</span>
                  )}
                </p>
                <Scores scores={series.data.scores} />
                <SelectionNote selection={series.data.selection} />
                {series.data.candidates.length > 0 && (
                  <table className="table table-compact">
                    <thead>
                      <tr>
                        <th>{t('forecast.candidate')}</th>
                        <th className="num">MASE</th>
                        <th className="num">sMAPE</th>
                        <th className="num">{t('forecast.coverage95')}</th>
                      </tr>
                    </thead>
                    <tbody data-testid="forecast-candidates">
                      {series.data.candidates.map((c) => (
                        <tr key={c.model} className={c.model === series.data?.model ? 'selected' : ''}>
                          <td>{c.model}</td>
                          <td className="num">{c.scores.mase.toFixed(2)}</td>
                          <td className="num">{c.scores.smape.toFixed(1)}%</td>
                          <td className="num">{pct(c.scores.coverage95)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </>
            )}
          </Card>
        </div>
      )}
      {done && r && products.length > 0 && (
        <DraftOrderForm key={r.id} runId={r.id} products={products} frequency={r.frequency} />
      )}
    </div>
  );
}
