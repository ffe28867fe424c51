import type {
  AcceptOfferResponse,
  Anchor,
  AnchorPageRequest,
  AnchorWindow,
  ApiErrorBody,
  CertifyRequest,
  DeclineOfferRequest,
  Device,
  DeviceChallenge,
  DeviceDetail,
  DeviceEvent,
  HealthStatus,
  ItemList,
  LedgerAnchor,
  LedgerAnchorPage,
  LedgerView,
  LoginRequest,
  LoginResponse,
  NewOrder,
  Offer,
  OfferStatus,
  Order,
  OrderDetail,
  Org,
  ProductionSeries,
  ProofBundle,
  ProofTrust,
  ReadyStatus,
  RefreshRequest,
  User,
  VerifyResult,
  WorkOrder,
} from './types';

/** An HTTP error from the platform, carrying its stable machine-readable code. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
  }
}

export interface ApiClientOptions {
  /** Origin and prefix; '' means same origin (the platform serves the portals). */
  baseUrl?: string;
  getToken: () => string | null;
  /** Called on any 401 so the app can drop a stale session. */
  onUnauthorized?: () => void;
  /**
   * Called once when a signed-in call gets 401 (access tokens live minutes): true when it got a new access
   * token, and the call is then repeated once.
   */
  refreshSession?: () => Promise<boolean>;
  fetch?: typeof fetch;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** The largest page GET /api/factories/:mspId/anchors serves. */
const ANCHOR_PAGE_SIZE = 200;

export function createApiClient(options: ApiClientOptions) {
  const baseUrl = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = options.getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await doFetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!res.ok) {
      const renewable = res.status === 401 && token && !retried && !path.startsWith('/api/auth/');
      if (renewable && options.refreshSession && (await options.refreshSession())) {
        return request<T>(method, path, body, true);
      }
      if (res.status === 401) options.onUnauthorized?.();
      const err = parsed as Partial<ApiErrorBody> | undefined;
      throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? (text || res.statusText));
    }
    return parsed as T;
  }

  const enc = encodeURIComponent;

  const factoryAnchors = (mspId: string, window: AnchorWindow, page: AnchorPageRequest = {}) => {
    const query = new URLSearchParams({ from: window.from, to: window.to });
    if (page.pageSize !== undefined) query.set('pageSize', String(page.pageSize));
    if (page.bookmark) query.set('bookmark', page.bookmark);
    return request<LedgerAnchorPage>('GET', `/api/factories/${enc(mspId)}/anchors?${query}`);
  };

  return {
    health: () => request<HealthStatus>('GET', '/health'),
    ready: () => request<ReadyStatus>('GET', '/ready'),
    login: (body: LoginRequest) => request<LoginResponse>('POST', '/api/auth/login', body),
    refresh: (body: RefreshRequest) => request<LoginResponse>('POST', '/api/auth/refresh', body),
    /** Ends the session on the server: its tokens stop working. */
    logout: () => request<void>('POST', '/api/auth/logout'),
    me: () => request<User>('GET', '/api/me'),
    orgs: () => request<ItemList<Org>>('GET', '/api/orgs'),

    createOrder: (body: NewOrder) => request<Order>('POST', '/api/orders', body),
    listOrders: () => request<ItemList<Order>>('GET', '/api/orders'),
    getOrder: (orderId: string) => request<OrderDetail>('GET', `/api/orders/${enc(orderId)}`),

    listOffers: (status?: OfferStatus) =>
      request<ItemList<Offer>>('GET', `/api/offers${status ? `?status=${enc(status)}` : ''}`),
    acceptOffer: (offerId: string) => request<AcceptOfferResponse>('POST', `/api/offers/${enc(offerId)}/accept`, {}),
    declineOffer: (offerId: string, body: DeclineOfferRequest) =>
      request<{ offer: Offer }>('POST', `/api/offers/${enc(offerId)}/decline`, body),

    listWorkOrders: () => request<ItemList<WorkOrder>>('GET', '/api/work-orders'),
    getWorkOrder: (id: string) => request<WorkOrder>('GET', `/api/work-orders/${enc(id)}`),
    workOrderEvents: (id: string, limit?: number) =>
      request<ItemList<DeviceEvent>>(
        'GET',
        `/api/work-orders/${enc(id)}/events${limit !== undefined ? `?limit=${limit}` : ''}`,
      ),
    /** `bucket` 'minute' is a services extension to API.md, for work orders produced within an hour or two. */
    workOrderProduction: (id: string, bucket?: 'hour' | 'minute') =>
      request<ProductionSeries>('GET', `/api/work-orders/${enc(id)}/production${bucket ? `?bucket=${bucket}` : ''}`),
    workOrderProof: (id: string) => request<ProofBundle>('GET', `/api/work-orders/${enc(id)}/proof`),
    verifyProof: (bundle: ProofBundle) => request<VerifyResult>('POST', '/api/proofs/verify', { bundle }),
    proofTrust: () => request<ProofTrust>('GET', '/api/proofs/trust'),

    listDevices: () => request<ItemList<Device>>('GET', '/api/devices'),
    getDevice: (deviceId: string) => request<DeviceDetail>('GET', `/api/devices/${enc(deviceId)}`),
    issueDeviceChallenge: (deviceId: string) =>
      request<DeviceChallenge>('POST', `/api/devices/${enc(deviceId)}/challenges`),
    certifyDevice: (deviceId: string, body: CertifyRequest) =>
      request<Device>('POST', `/api/devices/${enc(deviceId)}/certify`, body),
    /** Certifier actions after certification; each is a ledger transaction recording who and when. */
    changeDeviceStatus: (deviceId: string, action: 'suspend' | 'reactivate' | 'revoke', note?: string) =>
      request<Device>('POST', `/api/devices/${enc(deviceId)}/${action}`, note ? { note } : {}),

    listAnchors: () => request<ItemList<Anchor>>('GET', '/api/anchors'),
    /** One page of a factory's anchors whose last event lies in [from, to), as the ledger holds them. */
    factoryAnchors,
    /** Every page of `factoryAnchors`, oldest first. */
    allFactoryAnchors: async (mspId: string, window: AnchorWindow): Promise<LedgerAnchor[]> => {
      const items: LedgerAnchor[] = [];
      const seen = new Set<string>();
      let bookmark = '';
      do {
        const page = await factoryAnchors(mspId, window, { pageSize: ANCHOR_PAGE_SIZE, bookmark });
        items.push(...page.items);
        // A bookmark that comes round again would page forever; say so rather than hang.
        if (seen.has(page.bookmark)) throw new ApiError(502, 'BOOKMARK_REPEATED', 'the ledger repeated a bookmark');
        seen.add(page.bookmark);
        bookmark = page.bookmark;
      } while (bookmark !== '');
      return items;
    },
    ledger: () => request<LedgerView>('GET', '/api/ledger'),
    /** Any other call; areas with their own typed wrapper (api/demand.ts) go through it. */
    request,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
