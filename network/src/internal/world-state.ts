import { sha256 } from './protos.js';

/** A committed key's version: the block and the transaction index that last wrote it (Fabric's height). */
export interface Version {
  readonly block: number;
  readonly tx: number;
}

export interface StateEntry {
  readonly value: Buffer;
  readonly version: Version;
}

export interface HistoryEntry {
  readonly txId: string;
  readonly value: Buffer;
  readonly isDelete: boolean;
  readonly timestampMs: number;
  readonly version: Version;
}

export interface PrivateHash {
  readonly valueHash: Buffer;
  readonly version: Version;
}

/** Orders keys by Unicode code point, which is the byte order of their UTF-8 encoding (how Fabric's state DB sorts). */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates encode code points above U+FFFF, which sort after every BMP character.
    if (x >= 0xd800 && y >= 0xd800) {
      const xs = x <= 0xdfff;
      const ys = y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
    }
    return x - y;
  }
  return a.length - b.length;
}

function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class SortedMap {
  readonly #map = new Map<string, StateEntry>();
  readonly #keys: string[] = [];

  get(key: string): StateEntry | undefined {
    return this.#map.get(key);
  }

  set(key: string, entry: StateEntry): void {
    if (!this.#map.has(key)) this.#keys.splice(lowerBound(this.#keys, key), 0, key);
    this.#map.set(key, entry);
  }

  delete(key: string): void {
    if (!this.#map.delete(key)) return;
    this.#keys.splice(lowerBound(this.#keys, key), 1);
  }

  /** Keys in [start, end); an empty end means unbounded. */
  range(start: string, end: string): [string, StateEntry][] {
    const out: [string, StateEntry][] = [];
    for (let i = lowerBound(this.#keys, start); i < this.#keys.length; i++) {
      const k = this.#keys[i]!;
      if (end !== '' && compareKeys(k, end) >= 0) break;
      out.push([k, this.#map.get(k)!]);
    }
    return out;
  }

  get size(): number {
    return this.#map.size;
  }
}

export function keyHash(key: string): string {
  return sha256(Buffer.from(key, 'utf8')).toString('hex');
}

/**
 * Committed state of the one chaincode namespace: public keys with versions,
 * history per key, private collections and their hashes (which every peer
 * holds, members or not). Only the committer mutates it.
 */
export class WorldState {
  readonly #public = new SortedMap();
  readonly #history = new Map<string, HistoryEntry[]>();
  readonly #private = new Map<string, SortedMap>();
  readonly #hashes = new Map<string, Map<string, PrivateHash>>();
  /** State metadata per public key (e.g. VALIDATION_PARAMETER); it lives and dies with the key's value, as in Fabric. */
  readonly #metadata = new Map<string, Map<string, Buffer>>();

  getMetadata(key: string): ReadonlyMap<string, Buffer> | undefined {
    return this.#metadata.get(key);
  }

  /** Sets (or with null removes) one metadata entry of an existing key; the key takes the writing transaction's version. */
  putMetadata(key: string, name: string, value: Buffer | null, version: Version): void {
    const entry = this.#public.get(key);
    if (!entry) return;
    this.#public.set(key, { value: entry.value, version });
    let m = this.#metadata.get(key);
    if (value === null) {
      m?.delete(name);
      if (m?.size === 0) this.#metadata.delete(key);
      return;
    }
    if (!m) {
      m = new Map();
      this.#metadata.set(key, m);
    }
    m.set(name, value);
  }

  get(key: string): StateEntry | undefined {
    return this.#public.get(key);
  }

  range(start: string, end: string): [string, StateEntry][] {
    return this.#public.range(start, end);
  }

  /** Newest first, as Fabric 2.x returns history. */
  history(key: string): readonly HistoryEntry[] {
    return this.#history.get(key) ?? [];
  }

  getPrivate(collection: string, key: string): StateEntry | undefined {
    return this.#private.get(collection)?.get(key);
  }

  rangePrivate(collection: string, start: string, end: string): [string, StateEntry][] {
    return this.#private.get(collection)?.range(start, end) ?? [];
  }

  getPrivateHash(collection: string, hashOfKey: string): PrivateHash | undefined {
    return this.#hashes.get(collection)?.get(hashOfKey);
  }

  put(key: string, value: Buffer | null, version: Version, txId: string, timestampMs: number): void {
    if (value === null) {
      this.#public.delete(key);
      this.#metadata.delete(key);
    } else this.#public.set(key, { value, version });
    let h = this.#history.get(key);
    if (!h) {
      h = [];
      this.#history.set(key, h);
    }
    h.unshift({ txId, value: value ?? Buffer.alloc(0), isDelete: value === null, timestampMs, version });
  }

  putPrivateHash(collection: string, hashOfKey: string, valueHash: Buffer | null, version: Version): void {
    let m = this.#hashes.get(collection);
    if (!m) {
      m = new Map();
      this.#hashes.set(collection, m);
    }
    if (valueHash === null) m.delete(hashOfKey);
    else m.set(hashOfKey, { valueHash, version });
  }

  putPrivate(collection: string, key: string, value: Buffer | null, version: Version): void {
    let m = this.#private.get(collection);
    if (!m) {
      m = new SortedMap();
      this.#private.set(collection, m);
    }
    if (value === null) m.delete(key);
    else m.set(key, { value, version });
  }

  get size(): number {
    return this.#public.size;
  }
}
