// Wire types and calls of the trace graph and recalls (services/src/routes/trace-graph.ts, recalls.ts).
import type { ApiClient } from './client';

export interface TraceNode {
  id: string;
  kind: string;
  label: string;
  uri?: string;
  events: string[];
  data: Record<string, unknown>;
  lastLocation?: { uri: string; name?: string; eventID: string; eventTime: string } | null;
}
export interface TraceGraph {
  root: string;
  direction: string;
  nodes: TraceNode[];
  edges: { from: string; to: string; kind: string; eventID?: string; until?: string }[];
  events: Record<
    string,
    { eventID: string; eventType: string; bizStep: string | null; eventTime: string; proof: string }
  >;
  truncated: boolean;
}
export interface Recall {
  id: string;
  start: { kind: string; id: string; from: string | null; to: string | null };
  reason: string;
  status: string;
  summary: { counts?: Record<string, number>; lots?: { gtin: string; lot: string }[] };
  scopeHash: string;
  workOrders: string[];
  ledger: { txId: string; blockNumber: number };
  createdAt: string;
}
export type RecallStart = { lot: string } | { deviceId: string; from: string; to: string } | { qcEvent: string };

const enc = encodeURIComponent;

export function traceApi(api: ApiClient) {
  const { request } = api;
  return {
    trace: (epc: string, direction: 'backward' | 'forward') =>
      request<TraceGraph>('GET', `/api/trace/${enc(epc)}?direction=${direction}`),
    listRecalls: () => request<{ items: Recall[] }>('GET', '/api/recalls'),
    openRecall: (start: RecallStart, reason: string) => request<Recall>('POST', '/api/recalls', { ...start, reason }),
    advanceRecall: (id: string, status: string) =>
      request<Recall>('POST', `/api/recalls/${enc(id)}/status`, { status }),
  };
}
