import { GraphChart } from 'echarts/charts';
import { LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type Recall, type RecallStart, type TraceGraph, traceApi } from '../api/trace';
import { Badge, Card, ErrorNote, Mono, PageTitle } from '../components/ui';
import { useECharts } from '../components/use-echarts';
import { useSession } from '../lib/session';

echarts.use([GraphChart, TooltipComponent, LegendComponent]);

/**
 * The brand's trace and recalls: a trace graph drawn with ECharts (each node lists its events with their
 * proof routes) and the recall flow: open from a lot, a device and window, or a failing QC event; see the scope
 * the ledger recorded; move it to closure.
 */
const KINDS = ['serial', 'lot', 'sscc', 'epc', 'workOrder', 'factory', 'location', 'device', 'qc', 'shipment'];
const NEXT: Record<string, string> = {
  OPEN: 'NOTIFIED',
  NOTIFIED: 'RETURNED',
  RETURNED: 'DESTROYED',
  DESTROYED: 'CLOSED',
};

function GraphView({ graph, onPick }: { graph: TraceGraph; onPick: (id: string) => void }) {
  const option = useMemo(
    () => ({
      tooltip: { formatter: (p: { data?: { name?: string; value?: string } }) => p.data?.value ?? p.data?.name ?? '' },
      legend: [{ data: KINDS, top: 0 }],
      series: [
        {
          type: 'graph',
          layout: 'force',
          roam: true,
          force: { repulsion: 180, edgeLength: 70 },
          categories: KINDS.map((k) => ({ name: k })),
          label: { show: graph.nodes.length < 60, fontSize: 10 },
          edgeSymbol: ['none', 'arrow'],
          data: graph.nodes.slice(0, 500).map((n) => ({
            id: n.id,
            name: n.label,
            value: n.id,
            category: Math.max(0, KINDS.indexOf(n.kind)),
            symbolSize: n.id === graph.root ? 26 : 14,
          })),
          links: graph.edges
            .filter((e) => graph.nodes.length < 500 || e.kind !== 'lotOf')
            .map((e) => ({ source: e.from, target: e.to })),
        },
      ],
    }),
    [graph],
  );
  const el = useECharts(option);
  useEffect(() => {
    const chart = el.current ? echarts.getInstanceByDom(el.current) : undefined;
    chart?.on('click', (p) => {
      const id = (p.data as { id?: string } | undefined)?.id;
      if (id) onPick(id);
    });
    return () => {
      chart?.off('click');
    };
  }, [el, onPick]);
  return <div ref={el} data-testid="trace-graph-chart" style={{ width: '100%', height: 460 }} />;
}

export function TracePage() {
  const { t } = useTranslation();
  const { api } = useSession();
  const tr = useMemo(() => traceApi(api), [api]);
  const [epc, setEpc] = useState('');
  const [direction, setDirection] = useState<'backward' | 'forward'>('backward');
  const [graph, setGraph] = useState<TraceGraph | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [recalls, setRecalls] = useState<Recall[]>([]);
  const [startKind, setStartKind] = useState<'lot' | 'device' | 'qc'>('lot');
  const [startValue, setStartValue] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');

  const loadRecalls = useCallback(() => tr.listRecalls().then((r) => setRecalls(r.items), setError), [tr]);
  useEffect(() => {
    void loadRecalls();
  }, [loadRecalls]);

  const runTrace = async () => {
    setError(null);
    setPicked(null);
    try {
      setGraph(await tr.trace(epc.trim(), direction));
    } catch (e) {
      setGraph(null);
      setError(e);
    }
  };
  const open = async () => {
    setError(null);
    const start: RecallStart =
      startKind === 'lot'
        ? { lot: startValue.trim() }
        : startKind === 'device'
          ? { deviceId: startValue.trim(), from: new Date(from).toISOString(), to: new Date(to).toISOString() }
          : { qcEvent: startValue.trim() };
    try {
      await tr.openRecall(start, reason);
      setReason('');
      await loadRecalls();
    } catch (e) {
      setError(e);
    }
  };
  const node = graph?.nodes.find((n) => n.id === picked);

  return (
    <div data-testid="trace-page">
      <PageTitle title={t('trace.title')} intro={t('trace.intro')} />
      <ErrorNote error={error} />
      <Card title={t('trace.graph')} testId="trace-card">
        <div style={{ display: 'flex', gap: '0.5rem', flexWrap: 'wrap' }}>
          <input
            data-testid="trace-epc"
            style={{ flex: '1 1 320px' }}
            placeholder="/01/{gtin}/21/{serial}"
            value={epc}
            onChange={(e) => setEpc(e.target.value)}
          />
          <select
            data-testid="trace-direction"
            value={direction}
            onChange={(e) => setDirection(e.target.value as 'backward')}
          >
            <option value="backward">{t('trace.backward')}</option>
            <option value="forward">{t('trace.forward')}</option>
          </select>
          <button type="button" className="btn btn-primary" data-testid="trace-run" onClick={runTrace}>
            {t('trace.run')}
          </button>
        </div>
        {graph && (
          <>
            <p data-testid="trace-count" data-value={graph.nodes.length}>
              {t('trace.count', { nodes: graph.nodes.length, edges: graph.edges.length })}
            </p>
            <GraphView graph={graph} onPick={setPicked} />
            <select data-testid="trace-node" value={picked ?? ''} onChange={(e) => setPicked(e.target.value || null)}>
              <option value="">{t('trace.pick')}</option>
              {graph.nodes.slice(0, 500).map((n) => (
                <option key={n.id} value={n.id}>
                  {n.kind}: {n.label}
                </option>
              ))}
            </select>
          </>
        )}
        {node && graph && (
          <div data-testid="trace-node-events">
            <p>
              <Mono>{node.id}</Mono>
              {node.lastLocation && ` · ${t('trace.last')}: ${node.lastLocation.name ?? node.lastLocation.uri}`}
            </p>
            <ul>
              {node.events.map((id) => {
                const ev = graph.events[id];
                return (
                  <li key={id}>
                    {ev?.eventType} {ev?.bizStep} {ev?.eventTime} ·{' '}
                    <a href={ev?.proof} target="_blank" rel="noreferrer">
                      {t('trace.proof')}
                    </a>
                  </li>
                );
              })}
            </ul>
          </div>
        )}
      </Card>
      <Card title={t('trace.recalls')} testId="recall-card">
        <div style={{ display: 'flex', gap: '0.5rem', flexWrap: 'wrap' }}>
          <select data-testid="recall-kind" value={startKind} onChange={(e) => setStartKind(e.target.value as 'lot')}>
            <option value="lot">{t('trace.fromLot')}</option>
            <option value="device">{t('trace.fromDevice')}</option>
            <option value="qc">{t('trace.fromQc')}</option>
          </select>
          <input data-testid="recall-start" value={startValue} onChange={(e) => setStartValue(e.target.value)} />
          {startKind === 'device' && (
            <>
              <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
              <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
            </>
          )}
          <input
            data-testid="recall-reason"
            placeholder={t('trace.reason')}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
          <button type="button" className="btn btn-primary" data-testid="recall-open" onClick={open}>
            {t('trace.open')}
          </button>
        </div>
        <table className="table" data-testid="recall-table">
          <thead>
            <tr>
              <th>{t('trace.recall')}</th>
              <th>{t('trace.reason')}</th>
              <th>{t('trace.scope')}</th>
              <th>{t('trace.status')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {recalls.map((r) => (
              <tr key={r.id} data-testid={`recall-${r.id}`}>
                <td>
                  <Mono>{r.id}</Mono>
                  <br />
                  {t('common.block', { n: r.ledger.blockNumber })}
                </td>
                <td>{r.reason}</td>
                <td>
                  {t('trace.scopeCounts', {
                    serials: r.summary.counts?.serials ?? 0,
                    cartons: r.summary.counts?.cartons ?? 0,
                    orders: r.workOrders.length,
                  })}{' '}
                  <a href={`/api/recalls/${encodeURIComponent(r.id)}/epcis-query`} target="_blank" rel="noreferrer">
                    EPCIS
                  </a>
                </td>
                <td>
                  <Badge tone={r.status === 'CLOSED' ? 'good' : 'bad'} testId={`recall-status-${r.id}`}>
                    {r.status}
                  </Badge>
                </td>
                <td>
                  {NEXT[r.status] && (
                    <button
                      type="button"
                      className="btn"
                      data-testid={`recall-advance-${r.id}`}
                      onClick={() => tr.advanceRecall(r.id, NEXT[r.status] as string).then(loadRecalls, setError)}
                    >
                      → {NEXT[r.status]}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
