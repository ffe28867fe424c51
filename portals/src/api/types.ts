/**
 * Wire types of the platform HTTP API, mirroring services/API.md (v1).
 * "Fields may grow", so every shape is open to extra members; the portals only
 * rely on the members named here. A later step checks them against /docs/json.
 */

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
  token: string;
  user: User;
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

export const OrderStatuses = [
  'posted',
  'dispatching',
  'offered',
  'partly_accepted',
  'accepted',
  'in_production',
  'cancelled',
] as const;
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
  status: OrderStatus;
  createdAt: string;
  offers?: Offer[];
  workOrders?: WorkOrder[];
}

export type OfferStatus = 'open' | 'accepted' | 'declined' | 'expired';

export const DeclineReasons = ['capacity', 'material', 'price', 'other'] as const;
export type DeclineReason = (typeof DeclineReasons)[number];

export interface Offer {
  id: string;
  orderId: string;
  factoryMspId: string;
  product: string;
  quantity: number;
  priceMinor: number;
  currency: string;
  dueDate: string;
  status: OfferStatus;
  expiresAt: string;
  declineReason?: DeclineReason;
}

export interface LedgerRef {
  txId: string;
  blockNumber: number;
}

export interface WorkOrder {
  id: string;
  orderId: string;
  offerId: string;
  brandMspId: string;
  factoryMspId: string;
  product: string;
  quantity: number;
  status: string;
  producedUnits: number;
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
  certifiedUntil?: string;
  history?: unknown[];
}

export interface CertifyRequest {
  validUntil?: string;
  note?: string;
}

export interface DeviceEvent {
  deviceId: string;
  seq: number;
  eventTime: string;
  type: string;
  data: unknown;
  batchId?: string;
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

export interface Anchor {
  batchId: string;
  factoryMspId: string;
  merkleRoot: string;
  eventCount: number;
  firstEventTime: string;
  lastEventTime: string;
  txId: string;
  blockNumber: number;
}

export interface MerkleStep {
  /** Which side the sibling hash sits on when combining. */
  position: 'left' | 'right';
  hash: string;
}

export interface ProofEvent {
  /** The device's signed message exactly as it was hashed into the batch. */
  message: unknown;
  leafHash: string;
  batchId: string;
  proof: MerkleStep[];
}

export interface BundleAnchor {
  merkleRoot: string;
  txId: string;
  blockNumber: number;
  blockHash: string;
}

export interface BundleDevice {
  certificatePem: string;
  ledgerRecord: unknown;
}

export interface ProofBundle {
  version: 1;
  workOrder: Partial<WorkOrder> & Record<string, unknown>;
  events: ProofEvent[];
  anchors: Record<string, BundleAnchor>;
  devices: Record<string, BundleDevice>;
  caCertificates: Record<string, string>;
}

export interface ProofCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyResult {
  valid: boolean;
  checks: ProofCheck[];
}

export interface LedgerBlock {
  number: number;
  hash: string;
  txCount: number;
}

export interface LedgerView {
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
