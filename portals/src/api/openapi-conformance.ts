// Compile-time only: every wire type the portals use, held to the services' OpenAPI document (openapi.gen.ts).
// `tsc` fails here when a portal type names a member the API does not send or accept, or gives one a type the
// API's does not fit; the error shows the member's path. A route the portals call gets a line here.
import type { BacktestScores, DraftOrder, ForecastRun, ForecastRunDetail, SeriesForecast } from './demand';
import type { ExplainedOffer, FactoryProfile, FactoryProfileView, OrderWithOffers } from './dispatch';
import type { ApiQuery, ApiRequestBody, ApiResponse, Assert, Reads, Sends } from './openapi';
import type {
  AcceptOfferResponse,
  Anchor,
  AnchorPageRequest,
  AnchorWindow,
  ApiErrorBody,
  BulkJobState,
  BulkRowStatus,
  CertifyRequest,
  DeclineOfferRequest,
  Device,
  DeviceChallenge,
  DeviceDetail,
  DeviceEvent,
  HealthStatus,
  ItemList,
  LedgerAnchorPage,
  LedgerView,
  LoginRequest,
  LoginResponse,
  NewOrder,
  Offer,
  OfferStatus,
  Order,
  OrderDetail,
  OrderStatus,
  Org,
  ProductionSeries,
  ProofBundle,
  ProofTrust,
  ReadyStatus,
  RefreshRequest,
  User,
  VerifyResult,
  WorkOrder,
  WorkOrderStatus,
} from './types';

type DeviceAction = '/api/devices/{deviceId}/suspend' | '/api/devices/{deviceId}/reactivate';
type ProofAnchor = ApiResponse<'/api/work-orders/{workOrderId}/proof', 'get'>['anchors'][string];

export type OpenApiConformance = [
  Assert<Reads<HealthStatus, ApiResponse<'/health', 'get'>>>,
  Assert<Reads<ReadyStatus, ApiResponse<'/ready', 'get'>>>,
  Assert<Reads<ApiErrorBody, ApiResponse<'/api/orders', 'post', 400>>>,
  Assert<Reads<ApiErrorBody, ApiResponse<'/api/devices/{deviceId}/certify', 'post', 409>>>,
  Assert<Sends<LoginRequest, ApiRequestBody<'/api/auth/login', 'post'>>>,
  Assert<Reads<LoginResponse, ApiResponse<'/api/auth/login', 'post'>>>,
  Assert<Sends<RefreshRequest, ApiRequestBody<'/api/auth/refresh', 'post'>>>,
  Assert<Reads<LoginResponse, ApiResponse<'/api/auth/refresh', 'post'>>>,
  Assert<Reads<User, ApiResponse<'/api/me', 'get'>>>,
  Assert<Reads<ItemList<Org>, ApiResponse<'/api/orgs', 'get'>>>,
  Assert<Sends<NewOrder, ApiRequestBody<'/api/orders', 'post'>>>,
  Assert<Reads<Order, ApiResponse<'/api/orders', 'post', 201>>>,
  Assert<Reads<ItemList<Order>, ApiResponse<'/api/orders', 'get'>>>,
  Assert<Reads<OrderDetail, ApiResponse<'/api/orders/{orderId}', 'get'>>>,
  Assert<Sends<OfferStatus, NonNullable<ApiQuery<'/api/offers', 'get'>['status']>>>,
  Assert<Reads<ItemList<Offer>, ApiResponse<'/api/offers', 'get'>>>,
  Assert<Reads<AcceptOfferResponse, ApiResponse<'/api/offers/{offerId}/accept', 'post'>>>,
  Assert<Sends<DeclineOfferRequest, ApiRequestBody<'/api/offers/{offerId}/decline', 'post'>>>,
  Assert<Reads<{ offer: Offer }, ApiResponse<'/api/offers/{offerId}/decline', 'post'>>>,
  Assert<Reads<ItemList<WorkOrder>, ApiResponse<'/api/work-orders', 'get'>>>,
  Assert<Reads<WorkOrder, ApiResponse<'/api/work-orders/{workOrderId}', 'get'>>>,
  Assert<Sends<number, NonNullable<ApiQuery<'/api/work-orders/{workOrderId}/events', 'get'>['limit']>>>,
  Assert<Reads<ItemList<DeviceEvent>, ApiResponse<'/api/work-orders/{workOrderId}/events', 'get'>>>,
  Assert<Sends<'hour' | 'minute', NonNullable<ApiQuery<'/api/work-orders/{workOrderId}/production', 'get'>['bucket']>>>,
  Assert<Reads<ProductionSeries, ApiResponse<'/api/work-orders/{workOrderId}/production', 'get'>>>,
  Assert<Reads<ProofBundle, ApiResponse<'/api/work-orders/{workOrderId}/proof', 'get'>>>,
  Assert<Sends<{ bundle: ProofBundle }, ApiRequestBody<'/api/proofs/verify', 'post'>>>,
  Assert<Reads<VerifyResult, ApiResponse<'/api/proofs/verify', 'post'>>>,
  Assert<Reads<ProofTrust, ApiResponse<'/api/proofs/trust', 'get'>>>,
  Assert<Reads<ItemList<Device>, ApiResponse<'/api/devices', 'get'>>>,
  Assert<Reads<Device, ApiResponse<'/api/devices/{deviceId}', 'get'>>>,
  Assert<Reads<DeviceDetail, ApiResponse<'/api/devices/{deviceId}', 'get'>>>,
  // The portals do not upload fleets yet; their lists of the upload's states are held to the API's all the same.
  Assert<Reads<BulkJobState, ApiResponse<'/api/devices/bulk/{jobId}', 'get'>['state']>>,
  Assert<Reads<BulkRowStatus, ApiResponse<'/api/devices/bulk/{jobId}', 'get'>['rows'][number]['status']>>,
  Assert<Reads<DeviceChallenge, ApiResponse<'/api/devices/{deviceId}/challenges', 'post', 201>>>,
  Assert<Sends<CertifyRequest, ApiRequestBody<'/api/devices/{deviceId}/certify', 'post'>>>,
  Assert<Reads<Device, ApiResponse<'/api/devices/{deviceId}/certify', 'post'>>>,
  Assert<Sends<{ note?: string }, ApiRequestBody<DeviceAction | '/api/devices/{deviceId}/revoke', 'post'>>>,
  Assert<Reads<Device, ApiResponse<DeviceAction | '/api/devices/{deviceId}/revoke', 'post'>>>,
  Assert<Reads<ItemList<Anchor>, ApiResponse<'/api/anchors', 'get'>>>,
  Assert<Sends<AnchorWindow & AnchorPageRequest, ApiQuery<'/api/factories/{mspId}/anchors', 'get'>>>,
  Assert<Reads<LedgerAnchorPage, ApiResponse<'/api/factories/{mspId}/anchors', 'get'>>>,
  Assert<Reads<LedgerView, ApiResponse<'/api/ledger', 'get'>>>,
  Assert<Reads<ItemList<ForecastRun>, ApiResponse<'/api/demand/forecasts', 'get'>>>,
  Assert<Sends<{ horizonDays: number }, ApiRequestBody<'/api/demand/forecasts', 'post'>>>,
  Assert<Reads<ForecastRun, ApiResponse<'/api/demand/forecasts', 'post', 202>>>,
  Assert<Reads<ForecastRunDetail, ApiResponse<'/api/demand/forecasts/{runId}', 'get'>>>,
  Assert<Reads<SeriesForecast, ApiResponse<'/api/demand/forecasts/{runId}/series/{sku}', 'get'>>>,
  Assert<Reads<SeriesForecast, ApiResponse<'/api/demand/forecasts/{runId}/{level}/{key}', 'get'>>>,
  Assert<
    Reads<BacktestScores, NonNullable<ApiResponse<'/api/demand/forecasts/{runId}', 'get'>['series'][number]['scores']>>
  >,
  Assert<
    Sends<
      { productId: string; weeks: number; basis: 'point' | 'upper80' },
      ApiRequestBody<'/api/demand/forecasts/{runId}/draft-order', 'post'>
    >
  >,
  Assert<Reads<DraftOrder, ApiResponse<'/api/demand/forecasts/{runId}/draft-order', 'post', 201>>>,
  Assert<Reads<FactoryProfileView, ApiResponse<'/api/factories/{mspId}/profile', 'get'>>>,
  Assert<Sends<FactoryProfile, ApiRequestBody<'/api/factories/{mspId}/profile', 'put'>>>,
  Assert<Reads<FactoryProfileView, ApiResponse<'/api/factories/{mspId}/profile', 'put'>>>,
  Assert<Reads<OrderWithOffers, ApiResponse<'/api/orders/{orderId}', 'get'>>>,
  Assert<Reads<ExplainedOffer, ApiResponse<'/api/orders/{orderId}', 'get'>['offers'][number]>>,
];

// The checks must keep failing on what they are for; if one of these stops being an error, tsc says so.
export type OpenApiConformanceSelfTest = [
  // @ts-expect-error a member the API does not send
  Assert<Reads<Order & { invented: string }, ApiResponse<'/api/orders', 'post', 201>>>,
  // @ts-expect-error a member nested in an array that the API does not send
  Assert<Reads<{ items: { id: string; invented?: string }[] }, ApiResponse<'/api/orders', 'get'>>>,
  // @ts-expect-error a wrong type
  Assert<Reads<{ totalQuantity: string }, ApiResponse<'/api/orders', 'post', 201>>>,
  // @ts-expect-error a null the portal does not expect
  Assert<Reads<{ ledger: { txId: string } }, ApiResponse<'/api/work-orders/{workOrderId}', 'get'>>>,
  // @ts-expect-error a status the API has that the portal does not know
  Assert<Reads<{ status: Exclude<OrderStatus, 'closed'> }, ApiResponse<'/api/orders', 'post', 201>>>,
  // @ts-expect-error a work-order status the API has that the portal does not know
  Assert<Reads<{ status: Exclude<WorkOrderStatus, 'qc_passed'> }, ApiResponse<'/api/work-orders', 'get'>['items'][0]>>,
  // @ts-expect-error a member the portal types more narrowly than the API's open JSON
  Assert<Reads<{ spec: { schedule?: string[] } }, ApiResponse<'/api/orders', 'post', 201>>>,
  // @ts-expect-error a member the portal requires that the API may leave out
  Assert<Reads<{ totals: Record<string, unknown> }, ProofAnchor>>,
  // @ts-expect-error a body member the API would reject
  Assert<Sends<NewOrder & { invented: string }, ApiRequestBody<'/api/orders', 'post'>>>,
  // @ts-expect-error a query parameter the API does not take
  Assert<Sends<AnchorWindow & { factory: string }, ApiQuery<'/api/factories/{mspId}/anchors', 'get'>>>,
  // @ts-expect-error a body without a member the API requires
  Assert<Sends<Omit<NewOrder, 'shipTo'>, ApiRequestBody<'/api/orders', 'post'>>>,
];
