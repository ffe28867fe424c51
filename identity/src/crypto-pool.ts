import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { MessageSigner } from '@c2m/shared';
import type { FromCryptoThread, ToCryptoThread } from './crypto-thread.js';
import { signMessage } from './signer.js';

/** Checks a DER ECDSA signature over SHA-256(message); false for anything malformed. */
export type MessageVerifier = (message: Uint8Array, signature: Uint8Array) => Promise<boolean>;

type Op = 'sign' | 'verify';
interface Request {
  readonly key: KeyObject;
  readonly keyId: number;
  readonly message: Uint8Array;
  readonly signature?: Uint8Array;
  readonly resolve: (result: Uint8Array | boolean) => void;
  readonly reject: (err: Error) => void;
}

/**
 * ECDSA P-256 signing and verification on a worker thread, in batches.
 *
 * Every transaction on the embedded ledger carries four signatures (the client's proposal and envelope, two
 * endorsing peers') and four verifications. Signed on the JavaScript thread they took about a fifth of its
 * time; node:crypto's callback form, one libuv job per operation, gave back little of it, because queueing
 * each job and its callback costs the calling thread a good part of the work itself. Here the requests made
 * during one turn of the event loop travel to the thread as one buffer and come back as one, so the calling
 * thread spends a few microseconds per operation.
 *
 * The thread holds the process alive only while operations are outstanding. If it cannot start or dies,
 * outstanding and later operations run on the calling thread instead: slower, never lost.
 */
export class CryptoPool {
  #worker: Worker | undefined;
  #broken = false;
  readonly #keyIds = new WeakMap<KeyObject, number>();
  readonly #keys: KeyObject[] = [];
  /** How many of #keys the current thread has been given (a restarted thread is given them again). */
  #sent = 0;
  readonly #queues: Record<Op, Request[]> = { sign: [], verify: [] };
  #scheduled = false;
  #nextBatch = 0;
  readonly #inFlight = new Map<number, { op: Op; requests: Request[] }>();

  /** A `LedgerIdentity.signMessage` for the private key: low-S DER ECDSA over SHA-256(message). */
  signer(privateKey: KeyObject): MessageSigner {
    if (privateKey.type !== 'private') throw new TypeError('CryptoPool.signer: expected a private key');
    const keyId = this.#register(privateKey);
    return (message) => this.#submit('sign', privateKey, keyId, message) as Promise<Uint8Array>;
  }

  /** A verifier for the public key (keep it: each one registers its key with the thread once). */
  verifier(publicKey: KeyObject): MessageVerifier {
    if (publicKey.type !== 'public') throw new TypeError('CryptoPool.verifier: expected a public key');
    const keyId = this.#register(publicKey);
    return (message, signature) => this.#submit('verify', publicKey, keyId, message, signature) as Promise<boolean>;
  }

  /** Stops the thread; what it still had runs here, and later operations start a new one. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#lost(worker);
    await worker.terminate();
  }

  #register(key: KeyObject): number {
    let keyId = this.#keyIds.get(key);
    if (keyId === undefined) {
      keyId = this.#keys.push(key) - 1;
      this.#keyIds.set(key, keyId);
    }
    return keyId;
  }

  #submit(
    op: Op,
    key: KeyObject,
    keyId: number,
    message: Uint8Array,
    signature?: Uint8Array,
  ): Promise<Uint8Array | boolean> {
    return new Promise((resolve, reject) => {
      this.#queues[op].push({ key, keyId, message, signature, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    for (const op of ['sign', 'verify'] as const) {
      const requests = this.#queues[op];
      if (requests.length === 0) continue;
      this.#queues[op] = [];
      const worker = this.#ensureWorker();
      if (!worker) {
        runHere(op, requests);
        continue;
      }
      const data = encode(op, requests);
      const batch = this.#nextBatch++;
      this.#inFlight.set(batch, { op, requests });
      if (this.#inFlight.size === 1) worker.ref();
      const msg: ToCryptoThread = { type: op, batch, data, count: requests.length };
      worker.postMessage(msg, [data]);
    }
  }

  #ensureWorker(): Worker | undefined {
    if (this.#broken) return undefined;
    if (!this.#worker) {
      try {
        const worker = new Worker(new URL('./crypto-thread.js', import.meta.url));
        worker.unref();
        worker.on('message', (m: FromCryptoThread) => this.#settle(m));
        worker.on('error', () => this.#lost(worker));
        worker.on('exit', () => this.#lost(worker));
        this.#worker = worker;
        this.#sent = 0;
      } catch {
        this.#broken = true;
        return undefined;
      }
    }
    const worker = this.#worker;
    for (; this.#sent < this.#keys.length; this.#sent++) {
      const key = this.#keys[this.#sent]!;
      const kind = key.type === 'private' ? 'pkcs8' : 'spki';
      const der = new Uint8Array(key.export({ format: 'der', type: kind }));
      const msg: ToCryptoThread = { type: 'key', key: this.#sent, der, kind };
      worker.postMessage(msg);
    }
    return worker;
  }

  #settle(m: FromCryptoThread): void {
    const entry = this.#inFlight.get(m.batch);
    if (!entry) return;
    this.#inFlight.delete(m.batch);
    if (this.#inFlight.size === 0) this.#worker?.unref();
    const out = Buffer.from(m.data);
    if (entry.op === 'verify') {
      entry.requests.forEach((r, i) => {
        r.resolve(out[i] === 1);
      });
      return;
    }
    let at = 0;
    entry.requests.forEach((r, i) => {
      const length = out[at]!;
      if (length === 0) {
        r.reject(new Error(`signing failed: ${m.errors[i] ?? 'unknown error'}`));
        at += 1;
        return;
      }
      r.resolve(new Uint8Array(out.subarray(at + 1, at + 1 + length)));
      at += 1 + length;
    });
  }

  /** The thread died: whatever it still had runs here, and a new thread starts on the next request. */
  #lost(worker: Worker): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#sent = 0;
    const pending = [...this.#inFlight.values()];
    this.#inFlight.clear();
    for (const { op, requests } of pending) runHere(op, requests);
  }
}

function encode(op: Op, requests: readonly Request[]): ArrayBuffer {
  const header = op === 'sign' ? 8 : 12;
  let size = 0;
  for (const r of requests) size += header + r.message.byteLength + (r.signature?.byteLength ?? 0);
  const data = new ArrayBuffer(size);
  const view = Buffer.from(data);
  let at = 0;
  for (const r of requests) {
    view.writeUInt32LE(r.keyId, at);
    view.writeUInt32LE(r.message.byteLength, at + 4);
    if (op === 'verify') view.writeUInt32LE(r.signature!.byteLength, at + 8);
    view.set(r.message, at + header);
    if (op === 'verify') view.set(r.signature!, at + header + r.message.byteLength);
    at += header + r.message.byteLength + (r.signature?.byteLength ?? 0);
  }
  return data;
}

function runHere(op: Op, requests: readonly Request[]): void {
  for (const r of requests) {
    try {
      if (op === 'sign') r.resolve(signMessage(r.key, r.message));
      else r.resolve(verifyHere(r.key, r.message, r.signature!));
    } catch (err) {
      r.reject(err as Error);
    }
  }
}

function verifyHere(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify('sha256', message, key.type === 'private' ? createPublicKey(key) : key, signature);
  } catch {
    return false;
  }
}

let shared: CryptoPool | undefined;
/** The process's crypto thread, started on first use. */
export function sharedCryptoPool(): CryptoPool {
  shared ??= new CryptoPool();
  return shared;
}
