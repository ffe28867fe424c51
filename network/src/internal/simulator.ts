/**
 * The peer side of the chaincode shim: the real fabric-shim ChaincodeStub
 * calls these `handle*` methods (the ones its gRPC Handler implements), and
 * this class answers them from committed state while recording the
 * transaction's read/write set, as a Fabric peer's transaction simulator does.
 */
import { createRequire } from 'node:module';
import { ledger, peer } from '@hyperledger/fabric-protos';
import { sha256 } from './protos.js';
import type { PrivateWrite, ReadWriteSet } from './rwset.js';
import { keyHash, type Version, type WorldState } from './world-state.js';

const require = createRequire(import.meta.url);
const { StateQueryIterator, HistoryQueryIterator } = require('fabric-shim/lib/iterators.js') as {
  StateQueryIterator: new (handler: unknown, channel: string, txId: string, response: peer.QueryResponse) => unknown;
  HistoryQueryIterator: new (handler: unknown, channel: string, txId: string, response: peer.QueryResponse) => unknown;
};
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: new () => { setSeconds(v: number): void; setNanos(v: number): void };
};

export interface CollectionConfig {
  /** Orgs whose peers store the collection's cleartext. */
  readonly members: readonly string[];
}

export class SimulationError extends Error {
  override readonly name = 'SimulationError';
}

const EMPTY = Buffer.alloc(0);

export class Simulator {
  readonly #state: WorldState;
  readonly #peerMspId: string;
  readonly #collections: Readonly<Record<string, CollectionConfig>>;
  readonly #namespace: string;
  readonly #reads = new Map<string, Version | null>();
  readonly #writes = new Map<string, Buffer | null>();
  readonly #ranges: ReadWriteSet['ranges'][number][] = [];
  readonly #pvtReads = new Map<string, Map<string, Version | null>>();
  readonly #pvtWrites = new Map<string, Map<string, Buffer | null>>();
  readonly #metadataWrites = new Map<string, Map<string, Buffer | null>>();
  #paginated = false;
  #nextQueryId = 0;

  constructor(
    state: WorldState,
    peerMspId: string,
    namespace: string,
    collections: Readonly<Record<string, CollectionConfig>>,
  ) {
    this.#state = state;
    this.#peerMspId = peerMspId;
    this.#namespace = namespace;
    this.#collections = collections;
  }

  // --- the Handler surface used by ChaincodeStub ---

  async handleGetState(collection: string, key: string): Promise<Buffer> {
    if (collection === '') {
      const entry = this.#state.get(key);
      // Fabric reads see committed state only (not this transaction's own writes).
      if (!this.#reads.has(key)) this.#reads.set(key, entry?.version ?? null);
      return entry ? Buffer.from(entry.value) : EMPTY;
    }
    this.#requireMember(collection);
    const entry = this.#state.getPrivate(collection, key);
    this.#recordPrivateRead(collection, key);
    return entry ? Buffer.from(entry.value) : EMPTY;
  }

  async handlePutState(collection: string, key: string, value: Uint8Array): Promise<Buffer> {
    if (key === '') throw new SimulationError('key must not be an empty string');
    const v = Buffer.from(value);
    if (collection === '') this.#writes.set(key, v);
    else this.#privateWrites(collection).set(key, v);
    return EMPTY;
  }

  async handleDeleteState(collection: string, key: string): Promise<Buffer> {
    if (collection === '') this.#writes.set(key, null);
    else this.#privateWrites(collection).set(key, null);
    return EMPTY;
  }

  async handlePurgeState(): Promise<never> {
    throw new SimulationError('purging private data is not supported by the embedded ledger');
  }

  /** `setStateValidationParameter` and its kin: metadata writes travel in the read/write set, validated at commit. */
  async handlePutStateMetadata(collection: string, key: string, name: string, value: Uint8Array): Promise<Buffer> {
    if (collection !== '') {
      throw new SimulationError(
        'key-level endorsement policies on private data are not supported by the embedded ledger',
      );
    }
    if (key === '') throw new SimulationError('key must not be an empty string');
    let m = this.#metadataWrites.get(key);
    if (!m) {
      m = new Map();
      this.#metadataWrites.set(key, m);
    }
    m.set(name, value && value.length > 0 ? Buffer.from(value) : null);
    return EMPTY;
  }

  /** Committed metadata of a key; like Fabric, reading it puts the key in the read set. */
  async handleGetStateMetadata(collection: string, key: string): Promise<Record<string, Buffer>> {
    if (collection !== '') {
      throw new SimulationError(
        'key-level endorsement policies on private data are not supported by the embedded ledger',
      );
    }
    if (!this.#reads.has(key)) this.#reads.set(key, this.#state.get(key)?.version ?? null);
    const out: Record<string, Buffer> = {};
    for (const [name, value] of this.#state.getMetadata(key) ?? []) out[name] = Buffer.from(value);
    return out;
  }

  async handleGetPrivateDataHash(collection: string, key: string): Promise<Buffer> {
    const hash = this.#state.getPrivateHash(collection, keyHash(key));
    this.#recordPrivateRead(collection, key);
    return hash ? Buffer.from(hash.valueHash) : EMPTY;
  }

  async handleGetStateByRange(
    collection: string,
    startKey: string,
    endKey: string,
    _channel: string,
    txId: string,
    metadata?: Uint8Array,
  ): Promise<{ iterator: unknown; metadata?: { bookmark: string; fetchedRecordsCount: number } }> {
    let start = startKey;
    let pageSize = Number.POSITIVE_INFINITY;
    if (metadata && metadata.length > 0) {
      const q = peer.QueryMetadata.deserializeBinary(metadata);
      pageSize = q.getPagesize();
      if (q.getBookmark()) start = q.getBookmark();
      this.#paginated = true;
    }
    // A page reads one key past its end (the next bookmark), never the rest of the range.
    const limit = pageSize + 1;
    let rows: [string, { value: Buffer; version: Version }][];
    if (collection === '') rows = this.#state.range(start, endKey, limit);
    else {
      this.#requireMember(collection);
      rows = this.#state.rangePrivate(collection, start, endKey, limit);
    }
    let bookmark = '';
    if (rows.length > pageSize) {
      bookmark = rows[pageSize]![0];
      rows = rows.slice(0, pageSize);
    }
    if (collection === '') {
      this.#ranges.push({ start, end: endKey, reads: rows.map(([key, e]) => ({ key, version: e.version })) });
    }
    const response = this.#queryResponse(
      rows.map(([key, e]) => {
        const kv = new ledger.queryresult.KV();
        kv.setNamespace(this.#namespace);
        kv.setKey(key);
        kv.setValue(e.value);
        return kv.serializeBinary();
      }),
    );
    const iterator = new StateQueryIterator(this, '', txId, response);
    if (!this.#paginated) return { iterator };
    const md = { bookmark, fetchedRecordsCount: rows.length };
    return { iterator, metadata: md };
  }

  async handleQueryStateNext(): Promise<peer.QueryResponse> {
    // Every query answers in one response with has_more=false, so the shim never asks for more.
    return this.#queryResponse([]);
  }

  async handleQueryStateClose(): Promise<peer.QueryResponse> {
    return this.#queryResponse([]);
  }

  async handleGetQueryResult(): Promise<never> {
    throw new SimulationError('rich queries need CouchDB; the embedded ledger has a LevelDB-like state database');
  }

  async handleGetHistoryForKey(key: string, _channel: string, txId: string): Promise<unknown> {
    const results = this.#state.history(key).map((h) => {
      const km = new ledger.queryresult.KeyModification();
      km.setTxId(h.txId);
      km.setValue(h.value);
      km.setIsDelete(h.isDelete);
      const ts = new Timestamp();
      ts.setSeconds(Math.floor(h.timestampMs / 1000));
      ts.setNanos((h.timestampMs % 1000) * 1_000_000);
      // biome-ignore lint/suspicious/noExplicitAny: google-protobuf ships no types for Timestamp here.
      km.setTimestamp(ts as any);
      return km.serializeBinary();
    });
    return new HistoryQueryIterator(this, '', txId, this.#queryResponse(results));
  }

  async handleInvokeChaincode(): Promise<never> {
    throw new SimulationError('chaincode-to-chaincode calls are not supported by the embedded ledger');
  }

  // --- results ---

  /** The read/write set in Fabric's deterministic order (keys sorted), and the cleartext private writes. */
  results(): { rwset: ReadWriteSet; privateWrites: PrivateWrite[] } {
    if (this.#paginated && (this.#writes.size > 0 || this.#pvtWrites.size > 0 || this.#metadataWrites.size > 0)) {
      // Fabric refuses this too: a paginated query cannot be re-checked for phantoms at commit.
      throw new SimulationError('paginated queries are not supported in a transaction that writes');
    }
    const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const collections = [...new Set([...this.#pvtReads.keys(), ...this.#pvtWrites.keys()])]
      .sort()
      .map((collection) => ({
        collection,
        reads: sorted(this.#pvtReads.get(collection) ?? new Map()).map(([keyHash, version]) => ({ keyHash, version })),
        writes: sorted(this.#pvtWrites.get(collection) ?? new Map<string, Buffer | null>()).map(([key, value]) => ({
          keyHash: keyHash(key),
          valueHash: value === null ? null : sha256(value).toString('hex'),
        })),
      }));
    const privateWrites: PrivateWrite[] = [];
    for (const [collection, m] of this.#pvtWrites) {
      for (const [key, value] of sorted(m))
        privateWrites.push({ collection, key, value: value?.toString('base64') ?? null });
    }
    const metadataWrites = sorted(this.#metadataWrites).flatMap(([key, m]) =>
      sorted(m).map(([name, value]) => ({ key, name, value: value?.toString('base64') ?? null })),
    );
    return {
      rwset: {
        reads: sorted(this.#reads).map(([key, version]) => ({ key, version })),
        ranges: this.#ranges,
        writes: sorted(this.#writes).map(([key, value]) => ({ key, value: value?.toString('base64') ?? null })),
        // Only present when used, so transactions without metadata keep the read/write set they always had.
        ...(metadataWrites.length > 0 ? { metadataWrites } : {}),
        collections,
      },
      privateWrites,
    };
  }

  #requireMember(collection: string): void {
    const config = this.#collections[collection];
    if (!config) throw new SimulationError(`collection ${collection} is not defined for this chaincode`);
    if (!config.members.includes(this.#peerMspId)) {
      throw new SimulationError(`peer of ${this.#peerMspId} is not a member of collection ${collection}`);
    }
  }

  #recordPrivateRead(collection: string, key: string): void {
    let m = this.#pvtReads.get(collection);
    if (!m) {
      m = new Map();
      this.#pvtReads.set(collection, m);
    }
    const h = keyHash(key);
    if (!m.has(h)) m.set(h, this.#state.getPrivateHash(collection, h)?.version ?? null);
  }

  #privateWrites(collection: string): Map<string, Buffer | null> {
    if (!this.#collections[collection])
      throw new SimulationError(`collection ${collection} is not defined for this chaincode`);
    let m = this.#pvtWrites.get(collection);
    if (!m) {
      m = new Map();
      this.#pvtWrites.set(collection, m);
    }
    return m;
  }

  #queryResponse(results: Uint8Array[]): peer.QueryResponse {
    const response = new peer.QueryResponse();
    response.setResultsList(
      results.map((bytes) => {
        const r = new peer.QueryResultBytes();
        r.setResultbytes(bytes);
        return r;
      }),
    );
    response.setHasMore(false);
    response.setId(String(this.#nextQueryId++));
    return response;
  }
}
