export { type ApiClient, type ApiClientOptions, ApiError, createApiClient } from './client';
export type * from './types';
export { DeclineReasons, OfferStatuses, OrderStatuses } from './types';
