// Wire types and calls of the GS1 identity and EPCIS 2.0 APIs (services/src/routes/gs1.ts, epcis-capture.ts,
// epcis-query.ts; services/README.md "Product identity", "EPCIS").

import type { ApiClient } from './client';
import type { ProofBundle } from './index';
import type { ApiResponse } from './openapi';

// GS1 identity types come from the services' OpenAPI document (openapi.gen.ts), so they cannot drift.
export type Gs1Location = ApiResponse<'/api/gs1/locations', 'get'>['items'][number];
export type Gs1Product = ApiResponse<'/api/gs1/products', 'get'>['items'][number];
export type WorkOrderLot = ApiResponse<'/api/work-orders/{workOrderId}/lots', 'get'>['items'][number];

/** One EPCIS 2.0 event as the query answers it (JSON-LD; user extensions such as `c2m:` kept). */
export interface EpcisEvent {
  type: string;
  eventID: string;
  eventTime: string;
  recordTime?: string;
  action?: string;
  bizStep?: string;
  disposition?: string;
  readPoint?: { id: string };
  bizLocation?: { id: string };
  epcList?: string[];
  childEPCs?: string[];
  parentID?: string;
  quantityList?: { epcClass: string; quantity?: number }[];
  sensorElementList?: { sensorReport?: { type?: string; value?: number; uom?: string }[] }[];
  errorDeclaration?: unknown;
  [extension: string]: unknown;
}

export interface EpcisQueryDocument {
  epcisBody: { queryResults: { resultsBody: { eventList: EpcisEvent[] } } };
}

export interface EventFilter {
  eventType?: string;
  bizStep?: string;
  epc?: string;
  perPage?: number;
}

export function epcisApi(api: ApiClient) {
  const enc = encodeURIComponent;
  return {
    companyPrefix: () => api.request<{ mspId: string; companyPrefix: string | null }>('GET', '/api/gs1/company-prefix'),
    locations: () => api.request<{ items: Gs1Location[] }>('GET', '/api/gs1/locations'),
    products: () => api.request<{ items: Gs1Product[] }>('GET', '/api/gs1/products'),
    lots: (workOrderId: string) =>
      api.request<{ items: WorkOrderLot[] }>('GET', `/api/work-orders/${enc(workOrderId)}/lots`),
    startProduction: (workOrderId: string) =>
      api.request<{ items: WorkOrderLot[] }>('POST', `/api/work-orders/${enc(workOrderId)}/start`, {}),
    /** The newest events first, per the EPCIS 2.0 query parameters. */
    events: async (filter: EventFilter): Promise<EpcisEvent[]> => {
      const q = new URLSearchParams({
        perPage: String(filter.perPage ?? 50),
        orderBy: 'eventTime',
        orderDirection: 'DESC',
      });
      if (filter.eventType) q.set('eventType', filter.eventType);
      if (filter.bizStep) q.set('EQ_bizStep', filter.bizStep);
      if (filter.epc) q.set('MATCH_anyEPC', filter.epc);
      const doc = await api.request<EpcisQueryDocument>('GET', `/api/epcis/events?${q}`);
      return doc.epcisBody.queryResults.resultsBody.eventList;
    },
    proof: (eventId: string) => api.request<ProofBundle>('GET', `/api/epcis/events/${enc(eventId)}/proof`),
  };
}
