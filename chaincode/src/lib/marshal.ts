import { canonicalJson, ErrorCodes } from '@c2m/shared';
import type { Context } from 'fabric-contract-api';
import { fail } from './errors.js';

/** Every state write goes through here, so the same record always gives the same bytes on every endorser. */
export function marshal(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

export function unmarshal<T>(bytes: Uint8Array): T {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch {
    return fail(ErrorCodes.INTERNAL, 'stored record is not valid JSON');
  }
}

/**
 * Writes a record and, when an event name is given, emits exactly the bytes
 * written so listeners see what the ledger holds, not a second rendering of it.
 */
export async function writeRecord(ctx: Context, key: string, record: unknown, eventName?: string): Promise<string> {
  const bytes = marshal(record);
  await ctx.stub.putState(key, bytes);
  if (eventName) ctx.stub.setEvent(eventName, bytes);
  return bytes.toString('utf8');
}

export async function readRecord<T>(ctx: Context, key: string): Promise<T | undefined> {
  const bytes = await ctx.stub.getState(key);
  if (!bytes || bytes.length === 0) return undefined;
  return unmarshal<T>(bytes);
}

/** Value stored under index keys: Fabric convention, the key carries the data. */
export const INDEX_VALUE = Buffer.from([0]);
