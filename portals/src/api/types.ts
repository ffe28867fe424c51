/**
 * Wire types of the platform HTTP API (services/API.md, v1): the members the portals rely on. "Fields may grow",
 * so a type here may leave out members the API sends; it may not name one the API does not send, nor give it a
 * type the API's does not fit. openapi-conformance.ts checks that at compile time against the services' OpenAPI
 * document (openapi.gen.ts, generated from GET /docs/json).
 */
import type { ApiResponse } from './openapi';

export type OrgKind = 'platform' | 'brand' | 'factory' | 'finance';

export interface User {
  username: string;
  mspId: string;
  orgKind: OrgKind;
  role: string;
  displayName: string;
}

export interface LoginRequest {
  username: string;
  password: string;
}

export interface LoginResponse {
  /** Short-lived bearer token (`expiresIn` seconds). */
  token: string;
  expiresIn: number;
  /** Single use: exchanged at /api/auth/refresh for a new pair while the session lasts. */
  refreshToken: string;
  sessionExpiresAt: string;
  user: User;
}

export interface RefreshRequest {
  refreshToken: string;
}

export interface Org {
  mspId: string;
  kind: OrgKind;
  name: string;
  nameZh: string;
}

export interface ItemList<T> {
  items: T[];
}

export interface OrderLine {
  sku: string;
  colour?: string;
  size?: string;
  quantity: number;
}

export interface OrderSpec {
  materials?: string[];
  requiredCertificates?: string[];
  notes?: string;
}

export interface NewOrder {
  product: string;
  lines: OrderLine[];
  spec?: OrderSpec;
  /** Target unit price in minor units (fen for CNY). */
  targetPriceMinor: number;
  currency: string;
  /** YYYY-MM-DD */
  dueDate: string;
  shipTo: string;
}

/**
 * Every status an order can have, in lifecycle order. The services' list (their `OrderStatuses`) reaches the
 * portals as the OpenAPI enum of `Order.status`: `satisfies` refuses a status the API does not have, and the
 * conformance check refuses an API status missing here, so each one gets a badge and a label in both languages.
 */
export const OrderStatuses = [
  'draft',
  'posted',
  'dispatching',
  'offered',
  'partly_accepted',
  'accepted',
  'in_production',
  'shipped',
  'delivered',
  'closed',
  'cancelled',
] as const satisfies readonly ApiResponse<'/api/orders', 'post', 201>['status'][];
export type OrderStatus = (typeof OrderStatuses)[number];

export interface Order {
  id: string;
  brandMspId: string;
  product: string;
  lines: OrderLine[];
  totalQuantity: number;
  targetPriceMinor: number;
  currency: string;
  dueDate: string;
  shipTo: string;
  /** As posted (OrderSpec), plus what the platform adds, e.g. the weekly `schedule` of a draft from a forecast. */
  spec: Record<string, unknown>;
  status: OrderStatus;
  /** Increases with every edit. */
  version: number;
  createdAt: string;
}

/** GET /api/orders/:orderId: the order with its offers, work orders and audit trail. */
export interface OrderDetail extends Order {
  offers: Offer[];
  workOrders: WorkOrder[];
  history: { at: string; actor: string; action: string; data: unknown }[];
}

export const OfferStatuses = [
  'open',
  'accepted',
  'declined',
  'expired',
  'withdrawn',
] as const satisfies readonly ApiResponse<'/api/offers', 'get'>['items'][number]['status'][];
export type OfferStatus = (typeof OfferStatuses)[number];

export const DeclineReasons = ['capacity', 'material', 'price', 'other'] as const;
export type DeclineReason = (typeof DeclineReasons)[number];

export interface Offer {
  id: string;
  orderId: string;
  factoryMspId: string;
  product: string;
  quantity: number;
  lines?: OrderLine[];
  priceMinor: number;
  currency: string;
  dueDate: string;
  status: OfferStatus;
  expiresAt: string;
  declineReason: DeclineReason | null;
}

export interface LedgerRef {
  txId: string;
  blockNumber: number;
}

/**
 * Every status a work order can have, in lifecycle order, equal to the API's enum (the services'
 * `WorkOrderStatuses`), as for `OrderStatuses`: `committing` until the ledger has the factory's acceptance, then
 * one status per milestone recorded on the ledger.
 */
export const WorkOrderStatuses = [
  'committing',
  'committed',
  'produced',
  'qc_passed',
  'shipped',
  'delivered',
] as const satisfies readonly ApiResponse<'/api/work-orders/{workOrderId}', 'get'>['status'][];
export type WorkOrderStatus = (typeof WorkOrderStatuses)[number];

export interface WorkOrder {
  id: string;
  orderId: string;
  offerId: string;
  brandMspId: string;
  factoryMspId: string;
  product: string;
  quantity: number;
  status: WorkOrderStatus;
  producedUnits: number;
  /** Hash of the accepted terms, as committed on the ledger. */
  termsHash?: string;
  ledger: LedgerRef | null;
  acceptedAt: string;
}

export interface AcceptOfferResponse {
  offer: Offer;
  workOrder: WorkOrder;
}

export interface DeclineOfferRequest {
  reason: DeclineReason;
  note?: string;
}

export type DeviceStatus = 'REGISTERED' | 'CERTIFIED' | 'SUSPENDED' | 'REVOKED';

export interface Device {
  deviceId: string;
  factoryMspId: string;
  model: string;
  serial: string;
  line: string;
  status: DeviceStatus;
  certificateFingerprint: string;
  certifiedUntil: string | null;
}

/** A status in a device's ledger history: the device's status in that version, or DELETED for a deletion. */
export const DeviceHistoryStatuses = [
  'REGISTERED',
  'CERTIFIED',
  'SUSPENDED',
  'REVOKED',
  'DELETED',
] as const satisfies readonly ApiResponse<'/api/devices/{deviceId}', 'get'>['history'][number]['status'][];
export type DeviceHistoryStatus = (typeof DeviceHistoryStatuses)[number];

/** GET /api/devices/:deviceId: the device with the ledger history of its record, oldest first. */
export interface DeviceDetail extends Device {
  history: { txId: string; timestamp: string; status: DeviceHistoryStatus }[];
}

/** A fleet upload's state (POST /api/devices/bulk): its BullMQ job's, or `completed` once every row was tried. */
export const BulkJobStates = [
  'waiting',
  'waiting-children',
  'prioritized',
  'delayed',
  'active',
  'completed',
  'failed',
  'unknown',
] as const satisfies readonly ApiResponse<'/api/devices/bulk/{jobId}', 'get'>['state'][];
export type BulkJobState = (typeof BulkJobStates)[number];

/** A fleet upload row's status. */
export const BulkRowStatuses = [
  'pending',
  'registered',
  'already_registered',
  'failed',
] as const satisfies readonly ApiResponse<'/api/devices/bulk/{jobId}', 'get'>['rows'][number]['status'][];
export type BulkRowStatus = (typeof BulkRowStatuses)[number];

/** A single-use proof-of-possession challenge: the device signs `challenge` (ES256, r||s, base64url). */
export interface DeviceChallenge {
  challengeId: string;
  deviceId: string;
  challenge: string;
  issuedAt: string;
  expiresAt: string;
}

export interface CertifyRequest {
  challengeId: string;
  signature: string;
  validUntil?: string;
  note?: string;
}

export interface DeviceEvent {
  deviceId: string;
  seq: number;
  eventTime: string;
  type: string;
  data: Record<string, unknown>;
  batchId?: string | null;
  receivedAt: string;
}

export interface ProductionPoint {
  /** Start of the hour (ISO timestamp). */
  hour: string;
  units: number;
}

export interface ProductionSeries {
  series: ProductionPoint[];
}

/** An anchor (a Merkle batch of events) is pending until the ledger commits it. */
export const AnchorStatuses = ['pending', 'anchored'] as const satisfies readonly ApiResponse<
  '/api/anchors',
  'get'
>['items'][number]['status'][];
export type AnchorStatus = (typeof AnchorStatuses)[number];

/** A Merkle batch of a factory's events, as both the platform's list and the ledger's describe it. */
export interface AnchoredBatch {
  batchId: string;
  factoryMspId: string;
  merkleRoot: string;
  eventCount: number;
  firstEventTime: string;
  lastEventTime: string;
}

export interface Anchor extends AnchoredBatch {
  /** txId and blockNumber stay null while it is pending. */
  status: AnchorStatus;
  txId: string | null;
  blockNumber: number | null;
}

/** An anchor as the ledger holds it (GET /api/factories/:mspId/anchors): committed, with who wrote it and when. */
export interface LedgerAnchor extends AnchoredBatch {
  anchoredAt: string;
  anchoredBy: { mspId: string; cn: string };
  txId: string;
}

/** A window on the anchors' last event time, [from, to), as ISO date-times. */
export interface AnchorWindow {
  from: string;
  to: string;
}

export interface AnchorPageRequest {
  /** 1 to 200; the services default to 50. */
  pageSize?: number;
  /** From the previous page; absent for the first. */
  bookmark?: string;
}

/** One page, oldest first; `bookmark` is '' after the last page. */
export interface LedgerAnchorPage {
  items: LedgerAnchor[];
  bookmark: string;
}

/**
 * Proof bundles (version 2) and their verification: the shared verifier's own types (@c2m/shared), so the
 * browser reads exactly what the CLI and the server check.
 */
export type {
  BundleAnchor,
  BundleDevice,
  BundleDeviceState,
  BundleEvent as ProofEvent,
  ProofBundleV2 as ProofBundle,
  ProofCheck,
} from '@c2m/shared';

import type { ProofCheck as SharedProofCheck } from '@c2m/shared';

export interface VerifyResult {
  valid: boolean;
  checks: SharedProofCheck[];
  /** Sums of the proven anchors' committed totals for the work order. */
  totals?: {
    events: number;
    units: number;
    qcPass: number;
    qcFail: number;
    batches: number;
    batchesWithoutTotals: number;
  };
}

/** What a verifier pins (GET /api/proofs/trust, kept from the first use). */
export interface ProofTrust {
  caCertificates: Record<string, string>;
  endorsementPolicy: string;
  channel: string;
  chaincode: string;
  ordererMspIds: string[];
}

export interface LedgerBlock {
  number: number;
  hash: string;
  previousHash?: string;
  txCount: number;
}

export interface LedgerView {
  /** 'embedded' or 'fabric'. */
  kind?: string;
  height: number;
  blocks: LedgerBlock[];
}

export interface HealthStatus {
  status: string;
}

export interface ReadyStatus {
  status: string;
  checks: Record<string, unknown>;
}

/** Every API error body: `{ statusCode, code, message }` with a stable code. */
export interface ApiErrorBody {
  statusCode: number;
  code: string;
  message: string;
}
