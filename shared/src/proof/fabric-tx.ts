/**
 * Decodes a Fabric transaction `Envelope` (as committed in a block) with the
 * small protobuf reader: the creator, its signature, the proposal, the
 * endorsed response and its endorsements, and the read/write set, either the
 * embedded engine's canonical JSON or Fabric's `TxReadWriteSet` protobuf.
 * Field numbers are those of fabric-protos (common/common.proto,
 * peer/transaction.proto, peer/proposal*.proto, ledger/rwset/*.proto).
 */
import { concat, fromBase64, fromUtf8, sha256, toHex } from './bytes.js';
import { bytesField, intField, readFields, repeatedBytes, stringField } from './protobuf.js';

export const ENDORSER_TRANSACTION = 3;

export interface Identity {
  readonly mspId: string;
  readonly certificatePem: string;
  /** The SerializedIdentity bytes, as signed over. */
  readonly bytes: Uint8Array;
}

export interface DecodedTransaction {
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly type: number;
  readonly channel: string;
  readonly txId: string;
  readonly timestampMs: number;
  readonly chaincode: string;
  readonly creator: Identity;
  readonly nonce: Uint8Array;
  readonly args: readonly Uint8Array[];
  /** SHA-256(channel header ‖ signature header ‖ proposal payload without transient data): what endorsers bound. */
  readonly proposalHash: Uint8Array;
  readonly responsePayload: Uint8Array;
  readonly response: {
    readonly proposalHash: Uint8Array;
    readonly chaincode: string;
    readonly status: number;
    readonly results: Uint8Array;
  };
  readonly endorsements: readonly { readonly endorser: Identity; readonly signature: Uint8Array }[];
}

export function decodeIdentity(bytes: Uint8Array): Identity {
  const f = readFields(bytes);
  return { mspId: stringField(f, 1), certificatePem: stringField(f, 2), bytes };
}

export async function decodeTransaction(envelope: Uint8Array): Promise<DecodedTransaction> {
  const env = readFields(envelope);
  const payload = bytesField(env, 1);
  const p = readFields(payload);
  const header = readFields(bytesField(p, 1));
  const channelHeaderBytes = bytesField(header, 1);
  const signatureHeaderBytes = bytesField(header, 2);
  const ch = readFields(channelHeaderBytes);
  const sh = readFields(signatureHeaderBytes);
  const ts = readFields(bytesField(ch, 3));
  const ext = readFields(bytesField(ch, 7));
  const ccId = readFields(bytesField(ext, 2));
  const actions = repeatedBytes(readFields(bytesField(p, 2)), 1);
  if (actions.length !== 1) throw new Error(`expected one transaction action, found ${actions.length}`);
  const action = readFields(actions[0]!);
  const cap = readFields(bytesField(action, 2));
  const proposalPayload = bytesField(cap, 1);
  const ccpp = readFields(proposalPayload);
  if (repeatedBytes(ccpp, 2).length > 0) throw new Error('committed proposal payload still holds transient data');
  const spec = readFields(bytesField(readFields(bytesField(ccpp, 1)), 1));
  const input = readFields(bytesField(spec, 3));
  const endorsed = readFields(bytesField(cap, 2));
  const responsePayload = bytesField(endorsed, 1);
  const prp = readFields(responsePayload);
  const ccAction = readFields(bytesField(prp, 2));
  const response = readFields(bytesField(ccAction, 3));
  const creator = decodeIdentity(bytesField(sh, 1));
  return {
    payload,
    signature: bytesField(env, 2),
    type: intField(ch, 1),
    channel: stringField(ch, 4),
    txId: stringField(ch, 5),
    timestampMs: intField(ts, 1) * 1000 + Math.floor(intField(ts, 2) / 1_000_000),
    chaincode: stringField(ccId, 2),
    creator,
    nonce: bytesField(sh, 2),
    args: repeatedBytes(input, 1),
    proposalHash: await sha256(concat(channelHeaderBytes, signatureHeaderBytes, proposalPayload)),
    responsePayload,
    response: {
      proposalHash: bytesField(prp, 1),
      chaincode: stringField(readFields(bytesField(ccAction, 4)), 2),
      status: intField(response, 1),
      results: bytesField(ccAction, 1),
    },
    endorsements: repeatedBytes(endorsed, 2).map((e) => {
      const f = readFields(e);
      return { endorser: decodeIdentity(bytesField(f, 1)), signature: bytesField(f, 2) };
    }),
  };
}

/** Fabric's rule: txId = hex SHA-256(nonce ‖ creator). */
export async function expectedTxId(tx: DecodedTransaction): Promise<string> {
  return toHex(await sha256(concat(tx.nonce, tx.creator.bytes)));
}

export interface StateWrites {
  /** Public writes of the chaincode's namespace: value bytes, or null for a delete. */
  readonly writes: ReadonlyMap<string, Uint8Array | null>;
  /** Metadata writes (e.g. VALIDATION_PARAMETER, a key-level policy) by key, then name. */
  readonly metadata: ReadonlyMap<string, ReadonlyMap<string, Uint8Array | null>>;
}

interface JsonRwSet {
  writes?: { key: string; value: string | null }[];
  metadataWrites?: { key: string; name: string; value: string | null }[];
}

/** The public writes of a read/write set: the embedded engine's canonical JSON, or Fabric's protobuf. */
export function decodeWrites(results: Uint8Array, chaincode: string): StateWrites {
  const writes = new Map<string, Uint8Array | null>();
  const metadata = new Map<string, Map<string, Uint8Array | null>>();
  const meta = (key: string) => {
    const m = metadata.get(key) ?? new Map<string, Uint8Array | null>();
    metadata.set(key, m);
    return m;
  };
  if (results[0] === 0x7b) {
    const rw = JSON.parse(fromUtf8(results)) as JsonRwSet;
    for (const w of rw.writes ?? []) writes.set(w.key, w.value === null ? null : fromBase64(w.value));
    for (const w of rw.metadataWrites ?? []) meta(w.key).set(w.name, w.value === null ? null : fromBase64(w.value));
    return { writes, metadata };
  }
  // TxReadWriteSet { ns_rwset 2: { namespace 1, rwset 2: KVRWSet { writes 3: { key 1, is_delete 2, value 3 },
  // metadata_writes 4: { key 1, entries 2: { name 1, value 2 } } } } }
  for (const ns of repeatedBytes(readFields(results), 2)) {
    const nsf = readFields(ns);
    if (stringField(nsf, 1) !== chaincode) continue;
    const kv = readFields(bytesField(nsf, 2));
    for (const w of repeatedBytes(kv, 3)) {
      const f = readFields(w);
      writes.set(stringField(f, 1), intField(f, 2) ? null : bytesField(f, 3));
    }
    for (const m of repeatedBytes(kv, 4)) {
      const f = readFields(m);
      const key = stringField(f, 1);
      for (const e of repeatedBytes(f, 2)) {
        const ef = readFields(e);
        const value = bytesField(ef, 2);
        meta(key).set(stringField(ef, 1), value.length ? value : null);
      }
    }
  }
  return { writes, metadata };
}

/** fabric-shim's composite key: U+0000 type U+0000 (attribute U+0000)*. */
export function compositeKey(objectType: string, ...attributes: string[]): string {
  return `\u0000${objectType}\u0000${attributes.map((a) => `${a}\u0000`).join('')}`;
}
