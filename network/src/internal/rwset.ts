import { canonicalJson } from '@c2m/shared';
import type { Version } from './world-state.js';

/**
 * A transaction's read/write set as it travels in the endorsed payload.
 * Fabric encodes it as TxReadWriteSet protobuf; this is the same content as
 * canonical JSON (values base64), so endorsers produce identical bytes.
 */
export interface ReadWriteSet {
  readonly reads: readonly { readonly key: string; readonly version: Version | null }[];
  readonly ranges: readonly {
    readonly start: string;
    readonly end: string;
    readonly reads: readonly { readonly key: string; readonly version: Version }[];
  }[];
  readonly writes: readonly { readonly key: string; readonly value: string | null }[];
  /**
   * State metadata writes (Fabric's `metadata_writes`), e.g. a key-level endorsement policy under
   * `VALIDATION_PARAMETER` (base64 of a SignaturePolicyEnvelope; null removes it). Absent when there are none.
   */
  readonly metadataWrites?: readonly {
    readonly key: string;
    readonly name: string;
    readonly value: string | null;
  }[];
  /** Private data: only hashes of keys and values reach the block. */
  readonly collections: readonly {
    readonly collection: string;
    readonly reads: readonly { readonly keyHash: string; readonly version: Version | null }[];
    readonly writes: readonly { readonly keyHash: string; readonly valueHash: string | null }[];
  }[];
}

/** Cleartext private writes: kept off the block, handed from endorser to committer like Fabric's transient store. */
export interface PrivateWrite {
  readonly collection: string;
  readonly key: string;
  readonly value: string | null;
}

export function encodeRwSet(rw: ReadWriteSet): Uint8Array {
  return Buffer.from(canonicalJson(rw), 'utf8');
}

export function decodeRwSet(bytes: Uint8Array): ReadWriteSet {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as ReadWriteSet;
}

export function sameVersion(a: Version | null | undefined, b: Version | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.block === b.block && a.tx === b.tx;
}
