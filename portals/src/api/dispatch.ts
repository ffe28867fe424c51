// Wire types and calls of factory profiles and offer explanations (services/API.md, routes/factories.ts, routes/orders.ts).
import type { ApiClient } from './client';
import type { OfferStatus, OrderStatus } from './types';

export interface FactoryProfile {
  name: string;
  location: { city: string; province?: string; lat?: number; lon?: number };
  capabilities: { categories: string[]; processes: string[]; materials: string[] };
  certificates: { name: string; number?: string; validUntil: string }[];
  lines: { id: string; name?: string; unitsPerDay: number; workDays?: number[] }[];
  shutdowns: { from: string; to: string; reason: string }[];
  minBatch: number;
  costCurve: { upToShare: number; unitCostMinor: number }[];
}

export interface QualityScore {
  firstPassYield: number | null;
  defectPpm: number | null;
  inspections: number;
  unitsProduced: number;
  score: number;
}

export interface FactoryProfileView {
  mspId: string;
  version: number;
  updatedAt: string;
  profile: FactoryProfile;
  quality: QualityScore;
  lines: { id: string; certifiedDevices: number }[];
  capacity: { week: string; units: number; certifiedUnits: number }[];
}

export interface OfferExplanation {
  solver: { status: string; objectiveMinor: number; boundMinor: number; millis: number };
  factory: {
    qualityScore: number;
    firstPassYield: number | null;
    defectPpm: number | null;
    unitCostMinor: number;
    minBatch: number;
  };
  why: string;
  binding: { constraint: string; detail: string }[];
  weeks: { week: string; quantity: number; late: boolean }[];
  alternatives: { factoryMspId: string; reason: string; detail: string }[];
}

export interface ExplainedOffer {
  id: string;
  factoryMspId: string;
  quantity: number;
  status: OfferStatus;
  priceMinor: number;
  currency: string;
  declineReason: string | null;
  schedule: { week: string; sku: string; colour?: string; size?: string; quantity: number }[];
  explanation: OfferExplanation | null;
}

export interface OrderWithOffers {
  id: string;
  product: string;
  status: OrderStatus;
  version: number;
  totalQuantity: number;
  dueDate: string;
  offers: ExplainedOffer[];
}

const enc = encodeURIComponent;

export function dispatchApi(api: ApiClient) {
  const { request } = api;
  return {
    getProfile: (mspId: string) => request<FactoryProfileView>('GET', `/api/factories/${enc(mspId)}/profile`),
    putProfile: (mspId: string, profile: FactoryProfile) =>
      request<FactoryProfileView>('PUT', `/api/factories/${enc(mspId)}/profile`, profile),
    listOrders: () => request<{ items: { id: string; product: string; status: OrderStatus }[] }>('GET', '/api/orders'),
    getOrder: (orderId: string) => request<OrderWithOffers>('GET', `/api/orders/${enc(orderId)}`),
  };
}
