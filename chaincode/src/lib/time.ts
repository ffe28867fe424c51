import type { Context } from 'fabric-contract-api';

/** The transaction's timestamp from the signed channel header: identical on every endorser, unlike the clock. */
export function txTime(ctx: Context): string {
  return ctx.stub.getDateTimestamp().toISOString();
}
