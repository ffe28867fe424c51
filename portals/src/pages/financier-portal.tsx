import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ProofBundle, ProofCheck, VerifyResult, WorkOrder } from '../api';
import { OrgName } from '../components/org-name';
import { ProductionChart } from '../components/production-chart';
import { WorkOrderStatusBadge } from '../components/status-badges';
import { Card, Empty, ErrorNote, Mono, PageTitle, Progress } from '../components/ui';
import { WorkOrdersTable } from '../components/work-orders-table';
import { errorMessage, formatDateTime, formatNumber, shortHash } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';
import { pinnedTrust } from '../proof/trust';
import { verifyProofBundleInBrowser } from '../proof/verify-bundle';
import { FactoryAnchorsSection } from './financier-anchors';

const REFRESH_MS = 5000;

type Bucket = 'hour' | 'minute';

type Verification =
  | { phase: 'idle' }
  | { phase: 'running' }
  | { phase: 'done'; bundle: ProofBundle; server: VerifyResult | Error; browser: VerifyResult | Error };

export function ChecksList({ title, result, testId }: { title: string; result: VerifyResult | Error; testId: string }) {
  const checks: ProofCheck[] =
    result instanceof Error ? [{ name: 'verification ran', ok: false, detail: errorMessage(result) }] : result.checks;
  const ok = !(result instanceof Error) && result.valid;
  return (
    <div className="checks" data-testid={testId} data-valid={ok}>
      <h4>
        <span className={ok ? 'tick' : 'cross'}>{ok ? '✔' : '✘'}</span> {title}
      </h4>
      <ul>
        {checks.map((c, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a result's checks never change order, and names may repeat
          <li key={`${c.name}-${i}`} className={c.ok ? 'check-ok' : 'check-bad'} data-testid="check">
            <span className={c.ok ? 'tick' : 'cross'}>{c.ok ? '✔' : '✘'}</span> <strong>{c.name}</strong>
            {c.detail && <span className="muted small"> — {c.detail}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

function VerifyPanel({ workOrder }: { workOrder: WorkOrder }) {
  const { t } = useTranslation();
  const { api } = useSession();
  const [state, setState] = useState<Verification>({ phase: 'idle' });
  const [error, setError] = useState<unknown>();

  async function verify() {
    setState({ phase: 'running' });
    setError(undefined);
    try {
      const bundle = await api.workOrderProof(workOrder.id);
      // Ask the platform and check ourselves; a financier should not have to trust either alone.
      const [server, browser] = await Promise.all([
        api.verifyProof(bundle).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
        pinnedTrust(api)
          .then((pinned) => verifyProofBundleInBrowser(bundle, pinned))
          .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
      ]);
      setState({ phase: 'done', bundle, server, browser });
    } catch (e) {
      setError(e);
      setState({ phase: 'idle' });
    }
  }

  const done = state.phase === 'done' ? state : undefined;
  const verified =
    done &&
    !(done.server instanceof Error) &&
    done.server.valid &&
    !(done.browser instanceof Error) &&
    done.browser.valid;

  return (
    <Card
      title={t('financier.verify')}
      testId="verify-card"
      actions={
        <button
          type="button"
          className="btn btn-primary"
          data-testid="verify-button"
          disabled={state.phase === 'running'}
          onClick={() => void verify()}
        >
          {state.phase === 'running' ? t('financier.verifying') : t('financier.verify')}
        </button>
      }
    >
      <ErrorNote error={error} />
      {done && (
        <>
          <div
            className={`verdict ${verified ? 'verdict-ok' : 'verdict-bad'}`}
            data-testid="verify-result"
            data-verified={verified ? 'true' : 'false'}
          >
            <span className="verdict-icon">{verified ? '✔' : '✘'}</span>
            <div>
              <strong data-testid="verify-verdict">
                {verified ? t('financier.verified') : t('financier.notVerified')}
              </strong>
              <p>{verified ? t('financier.verifiedDetail') : t('financier.notVerifiedDetail')}</p>
              <p className="muted small">
                {t('financier.bundleSummary', {
                  events: done.bundle.events.length,
                  batches: Object.keys(done.bundle.anchors ?? {}).length,
                  devices: Object.keys(done.bundle.devices ?? {}).length,
                })}
              </p>
            </div>
          </div>
          <div className="grid-2">
            <ChecksList title={t('financier.serverChecks')} result={done.server} testId="server-checks" />
            <ChecksList title={t('financier.browserChecks')} result={done.browser} testId="browser-checks" />
          </div>
        </>
      )}
    </Card>
  );
}

function WorkOrderDetail({ workOrder }: { workOrder: WorkOrder }) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const [bucket, setBucket] = useState<Bucket>('hour');
  const production = usePoll(() => api.workOrderProduction(workOrder.id, bucket), REFRESH_MS, [
    api,
    workOrder.id,
    bucket,
  ]);
  const anchors = usePoll(() => api.listAnchors(), REFRESH_MS * 2, [api]);
  const factoryAnchors = (anchors.data?.items ?? [])
    .filter((a) => a.factoryMspId === workOrder.factoryMspId)
    .sort((a, b) => (b.blockNumber ?? Number.MAX_SAFE_INTEGER) - (a.blockNumber ?? Number.MAX_SAFE_INTEGER))
    .slice(0, 8);
  const series = production.data?.series ?? [];

  return (
    <div className="detail-stack" data-testid="work-order-detail" data-work-order-id={workOrder.id}>
      <Card title={workOrder.product}>
        <dl className="facts">
          <div>
            <dt>{t('financier.factory')}</dt>
            <dd>
              <OrgName mspId={workOrder.factoryMspId} />
            </dd>
          </div>
          <div>
            <dt>{t('financier.brand')}</dt>
            <dd>
              <OrgName mspId={workOrder.brandMspId} />
            </dd>
          </div>
          <div>
            <dt>{t('financier.progress')}</dt>
            <dd>
              <Progress value={workOrder.producedUnits} max={workOrder.quantity} />{' '}
              {formatNumber(workOrder.producedUnits, i18n.language)} / {formatNumber(workOrder.quantity, i18n.language)}
            </dd>
          </div>
          <div>
            <dt>{t('factory.status')}</dt>
            <dd>
              <WorkOrderStatusBadge status={workOrder.status} />
            </dd>
          </div>
          <div>
            <dt>{t('factory.ledgerTx')}</dt>
            <dd>
              {workOrder.ledger ? (
                <Mono title={workOrder.ledger.txId}>
                  {t('common.block', { n: workOrder.ledger.blockNumber })} · {shortHash(workOrder.ledger.txId, 6)}
                </Mono>
              ) : (
                t('common.pending')
              )}
            </dd>
          </div>
        </dl>
      </Card>
      <div className="detail-grid">
        <Card
          title={bucket === 'hour' ? t('financier.chartTitle') : t('financier.chartTitleMinute')}
          testId="production-card"
          actions={
            <div className="segmented">
              {(['hour', 'minute'] as const).map((b) => (
                <button
                  key={b}
                  type="button"
                  aria-pressed={bucket === b}
                  data-testid={`bucket-${b}`}
                  onClick={() => setBucket(b)}
                >
                  {t(`financier.per.${b}`)}
                </button>
              ))}
            </div>
          }
        >
          <ErrorNote error={production.error} />
          {series.length > 0 ? (
            <ProductionChart series={series} bucket={bucket} />
          ) : (
            <Empty loading={production.loading} />
          )}
          {!production.loading && series.length === 0 && <p className="muted">{t('financier.noProduction')}</p>}
        </Card>
        <Card title={t('financier.anchors')} testId="anchors-card">
          <ErrorNote error={anchors.error} />
          {factoryAnchors.length === 0 ? (
            <Empty loading={anchors.loading} />
          ) : (
            <table className="table table-compact" data-testid="anchors-table">
              <thead>
                <tr>
                  <th>{t('financier.batch')}</th>
                  <th>{t('financier.root')}</th>
                  <th className="num">{t('financier.events')}</th>
                  <th>{t('factory.ledgerTx')}</th>
                </tr>
              </thead>
              <tbody>
                {factoryAnchors.map((a) => (
                  <tr key={a.batchId}>
                    <td>
                      <Mono title={a.batchId}>{shortHash(a.batchId, 6)}</Mono>
                    </td>
                    <td>
                      <Mono title={a.merkleRoot}>{shortHash(a.merkleRoot, 8)}</Mono>
                    </td>
                    <td
                      className="num"
                      title={`${formatDateTime(a.firstEventTime, i18n.language)} – ${formatDateTime(a.lastEventTime, i18n.language)}`}
                    >
                      {a.eventCount}
                    </td>
                    <td className="nowrap">
                      {a.blockNumber !== null ? (
                        <Mono title={a.txId ?? undefined}>{t('common.block', { n: a.blockNumber })}</Mono>
                      ) : (
                        <span className="muted" data-testid="anchor-status">
                          {t(`anchorStatus.${a.status}`)}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>
      <VerifyPanel key={workOrder.id} workOrder={workOrder} />
    </div>
  );
}

export function FinancierPortal() {
  const { t } = useTranslation();
  const { api } = useSession();
  const workOrders = usePoll(() => api.listWorkOrders(), REFRESH_MS, [api]);
  const [selectedId, setSelectedId] = useState<string>();
  const items = workOrders.data?.items ?? [];
  const selected = items.find((w) => w.id === selectedId);

  // Deselect if the work order disappears (e.g. after switching user in the same tab).
  useEffect(() => {
    if (selectedId && workOrders.data && !selected) setSelectedId(undefined);
  }, [selectedId, selected, workOrders.data]);

  return (
    <div className="page" data-testid="financier-portal">
      <PageTitle title={t('financier.title')} intro={t('financier.intro')} />
      <div className="page">
        <Card title={t('financier.workOrders')} testId="financier-work-orders-card">
          <ErrorNote error={workOrders.error} />
          {items.length === 0 ? (
            <Empty loading={workOrders.loading} />
          ) : (
            <WorkOrdersTable
              workOrders={items}
              show={{ brand: true, factory: true }}
              selected={selectedId}
              onSelect={setSelectedId}
            />
          )}
        </Card>
        {selected ? (
          <WorkOrderDetail workOrder={selected} />
        ) : (
          <Card>
            <p className="muted">{t('financier.select')}</p>
          </Card>
        )}
        <FactoryAnchorsSection />
      </div>
    </div>
  );
}
