import { canonicalJson } from '@c2m/shared';
import type { Context } from 'fabric-contract-api';
import type { Iterators, QueryResponseMetadata } from 'fabric-shim';
import { readRecord } from './marshal.js';

/** One page of a paginated query, with Fabric's bookmark for the next (empty when there is none). */
export interface Page<T> {
  readonly records: readonly T[];
  readonly bookmark: string;
  readonly fetchedRecordsCount: number;
}

/**
 * One page of records from an index query: each index key names a record, which is read and returned when
 * `keep` accepts it. The iterator is always closed.
 */
export async function indexPage<T>(
  ctx: Context,
  query: { readonly iterator: Iterators.StateQueryIterator; readonly metadata: QueryResponseMetadata },
  recordKeyOf: (indexKey: string) => string,
  keep: (record: T) => boolean = () => true,
): Promise<string> {
  const records: T[] = [];
  try {
    for (let r = await query.iterator.next(); !r.done; r = await query.iterator.next()) {
      const record = await readRecord<T>(ctx, recordKeyOf(r.value.key));
      if (record && keep(record)) records.push(record);
    }
  } finally {
    await query.iterator.close();
  }
  const page: Page<T> = {
    records,
    bookmark: query.metadata.bookmark,
    fetchedRecordsCount: query.metadata.fetchedRecordsCount,
  };
  return canonicalJson(page);
}
