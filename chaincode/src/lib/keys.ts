import type { Context } from 'fabric-contract-api';

/** Object types of composite keys. Records and indexes live in the composite-key namespace so they never collide with simple keys. */
export const KeyPrefixes = {
  org: 'c2m.org',
  device: 'c2m.device',
  workOrder: 'c2m.workOrder',
  workOrderByFactory: 'c2m.workOrder~factory',
  anchor: 'c2m.anchor',
  anchorByFactory: 'c2m.anchor~factory',
} as const;

/**
 * Time-ordered indexes. Fabric's range queries refuse composite keys (fabric-shim and the Go shim alike), and a
 * partial composite key can only fix leading attributes, not bound one; so an index that answers "between two
 * times" is a simple key: prefix|attribute|...|ISO time|id. IDs cannot contain `|` (see validate.ts), and ISO
 * times from `isoTime()` are fixed-width UTC, so lexical order is time order. No other simple keys exist.
 */
export const TimeIndexes = {
  anchorByFactoryTime: 'c2m.anchor~factory~time',
} as const;

export function timeIndexKey(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].join('|');
}

/** Private data collection holding work-order terms, readable only by member orgs' peers. */
export const Collections = {
  brandFactoryTerms: 'brandFactoryTerms',
} as const;

/** The transient-map key under which CommitWorkOrder expects the terms. */
export const TRANSIENT_TERMS_KEY = 'terms';

export function recordKey(ctx: Context, prefix: string, ...parts: string[]): string {
  return ctx.stub.createCompositeKey(prefix, parts);
}
