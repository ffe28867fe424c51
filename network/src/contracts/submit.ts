import {
  ErrorCodes,
  type Ledger,
  type LedgerIdentity,
  type ProposalOptions,
  type SubmittedTransaction,
} from '@c2m/shared';
import { CommitError } from '../errors.js';

/** A write's outcome: the record as the chaincode wrote it, and where the transaction landed. */
export interface Committed<T> {
  readonly record: T;
  readonly txId: string;
  readonly blockNumber: number;
}

/** One page of an index query; pass `bookmark` back for the next page (empty when there is none). */
export interface Paged<T> {
  readonly records: readonly T[];
  readonly bookmark: string;
}

export interface PageOptions {
  readonly pageSize?: number;
  readonly bookmark?: string;
}

const RACE_RETRIES = 2;

/**
 * What a lost race looks like at commit. An MVCC conflict, or an endorsement
 * policy failure: Fabric's key-level validator invalidates a write to a key
 * whose policy an earlier transaction of the same block set (two commits of
 * one new work order), before it looks at versions. A genuine policy failure
 * fails the same way again, so retrying it costs two submits and changes nothing.
 */
const RACE_CODES: ReadonlySet<string> = new Set([ErrorCodes.MVCC_READ_CONFLICT, ErrorCodes.ENDORSEMENT_POLICY_FAILURE]);

/**
 * Submits, and when the transaction lost a race (RACE_CODES) submits again as
 * a new transaction: the chaincode re-reads the state that changed, so the
 * retry is safe for the read-check-write transactions used here, and the loser
 * then gets the chaincode's own answer (e.g. WORK_ORDER_EXISTS).
 */
export async function submitCommitted<T>(
  ledger: Ledger,
  identity: LedgerIdentity,
  fn: string,
  options: ProposalOptions,
): Promise<Committed<T>> {
  let attempt = 0;
  for (;;) {
    let tx: SubmittedTransaction;
    try {
      tx = await ledger.submit(identity, fn, options);
    } catch (err) {
      if (err instanceof CommitError && RACE_CODES.has(err.code) && attempt < RACE_RETRIES) {
        attempt++;
        continue;
      }
      throw err;
    }
    return { record: parseJson<T>(tx.result), txId: tx.txId, blockNumber: tx.blockNumber };
  }
}

export async function evaluateJson<T>(
  ledger: Ledger,
  identity: LedgerIdentity,
  fn: string,
  args: readonly string[],
): Promise<T> {
  return parseJson<T>(await ledger.evaluate(identity, fn, { arguments: args }));
}

export function parseJson<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

export function isoString(t: string | Date): string {
  return typeof t === 'string' ? t : t.toISOString();
}

export function pageArgs(page: PageOptions | undefined): string[] {
  return [String(page?.pageSize ?? 50), page?.bookmark ?? ''];
}
