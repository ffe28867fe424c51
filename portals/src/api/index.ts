export { type ApiClient, type ApiClientOptions, ApiError, createApiClient } from './client';
export type * from './types';
export {
  AnchorStatuses,
  BulkJobStates,
  BulkRowStatuses,
  DeclineReasons,
  DeviceHistoryStatuses,
  OfferStatuses,
  OrderStatuses,
  WorkOrderStatuses,
} from './types';
