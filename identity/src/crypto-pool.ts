import { type KeyObject, verify } from 'node:crypto';
import { availableParallelism } from 'node:os';
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
 * ECDSA P-256 signing and verification on worker threads, in batches.
 *
 * Every transaction on the embedded ledger carries four signatures (the client's proposal and envelope, two
 * endorsing peers') and four verifications. Signed on the JavaScript thread they took about a fifth of its
 * time; node:crypto's callback form, one libuv job per operation, gave back little of it, because queueing
 * each job and its callback costs the calling thread a good part of the work itself. Here the requests made
 * during one turn of the event loop travel to the thread as one buffer and come back as one, so the calling
 * thread spends a few microseconds per operation.
 *
 * A thread holds the process alive only while it has operations outstanding. If one cannot start or dies, its
 * outstanding operations run on the calling thread instead (slower, never lost), and a new one starts when next
 * needed.
 */
export interface CryptoPoolOptions {
  /**
   * Worker threads; default one per core beyond the first, at least two. On this 2-core machine two beat one
   * once a transaction's verifications were spread over its lifetime (ledger bench at 100 clients, three
   * interleaved runs each: anchors 1,390-1,450 tx/s against 1,087-1,173; registrations 1,003-1,190 against
   * 1,031-1,064). Large batches are split across them.
   */
  readonly threads?: number;
}

interface Thread {
  readonly worker: Worker;
  /** How many of the pool's keys this thread has been given. */
  sent: number;
  /** Batches it has not answered yet. */
  readonly inFlight: Map<number, { op: Op; requests: Request[] }>;
}

/** Below this many operations a flush goes to one thread: splitting would cost more messages than it saves. */
const SPLIT_AT = 16;

export class CryptoPool {
  readonly #size: number;
  readonly #threads: (Thread | undefined)[];
  #broken = false;
  readonly #keyIds = new WeakMap<KeyObject, number>();
  readonly #keys: KeyObject[] = [];
  readonly #queues: Record<Op, Request[]> = { sign: [], verify: [] };
  #scheduled = false;
  #nextBatch = 0;
  #nextThread = 0;

  constructor(options: CryptoPoolOptions = {}) {
    this.#size = Math.max(1, Math.floor(options.threads ?? Math.max(2, availableParallelism() - 1)));
    this.#threads = new Array<Thread | undefined>(this.#size).fill(undefined);
  }

  /** A `LedgerIdentity.signMessage` for the private key: low-S DER ECDSA over SHA-256(message). */
  signer(privateKey: KeyObject): MessageSigner {
    if (privateKey.type !== 'private') throw new TypeError('CryptoPool.signer: expected a private key');
    const keyId = this.#register(privateKey);
    return (message) => this.#submit('sign', privateKey, keyId, message) as Promise<Uint8Array>;
  }

  /** A verifier for the public key (keep it: each one registers its key with the threads once). */
  verifier(publicKey: KeyObject): MessageVerifier {
    if (publicKey.type !== 'public') throw new TypeError('CryptoPool.verifier: expected a public key');
    const keyId = this.#register(publicKey);
    return (message, signature) => this.#submit('verify', publicKey, keyId, message, signature) as Promise<boolean>;
  }

  /** Stops the threads; what they still had runs here, and later operations start new ones. */
  async close(): Promise<void> {
    const threads = this.#threads.filter((t): t is Thread => t !== undefined);
    for (const t of threads) this.#lost(t.worker);
    await Promise.all(threads.map((t) => t.worker.terminate()));
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
      const parts = requests.length < SPLIT_AT ? 1 : this.#size;
      const chunk = Math.ceil(requests.length / parts);
      for (let i = 0; i < requests.length; i += chunk) this.#send(op, requests.slice(i, i + chunk));
    }
  }

  #send(op: Op, requests: Request[]): void {
    const thread = this.#thread(this.#nextThread++ % this.#size);
    if (!thread) {
      runHere(op, requests);
      return;
    }
    const data = encode(op, requests);
    const batch = this.#nextBatch++;
    thread.inFlight.set(batch, { op, requests });
    if (thread.inFlight.size === 1) thread.worker.ref();
    const msg: ToCryptoThread = { type: op, batch, data, count: requests.length };
    thread.worker.postMessage(msg, [data]);
  }

  #thread(index: number): Thread | undefined {
    if (this.#broken) return undefined;
    let thread = this.#threads[index];
    if (!thread) {
      try {
        const worker = new Worker(new URL('./crypto-thread.js', import.meta.url));
        worker.unref();
        const t: Thread = { worker, sent: 0, inFlight: new Map() };
        worker.on('message', (m: FromCryptoThread) => this.#settle(t, m));
        worker.on('error', () => this.#lost(worker));
        worker.on('exit', () => this.#lost(worker));
        this.#threads[index] = t;
        thread = t;
      } catch {
        this.#broken = true;
        return undefined;
      }
    }
    for (; thread.sent < this.#keys.length; thread.sent++) {
      const key = this.#keys[thread.sent]!;
      const kind = key.type === 'private' ? 'pkcs8' : 'spki';
      const der = new Uint8Array(key.export({ format: 'der', type: kind }));
      const msg: ToCryptoThread = { type: 'key', key: thread.sent, der, kind };
      thread.worker.postMessage(msg);
    }
    return thread;
  }

  #settle(thread: Thread, m: FromCryptoThread): void {
    const entry = thread.inFlight.get(m.batch);
    if (!entry) return;
    thread.inFlight.delete(m.batch);
    if (thread.inFlight.size === 0) thread.worker.unref();
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

  /** A thread died or was stopped: whatever it still had runs here, and a new thread starts when next needed. */
  #lost(worker: Worker): void {
    const index = this.#threads.findIndex((t) => t?.worker === worker);
    if (index < 0) return;
    const thread = this.#threads[index]!;
    this.#threads[index] = undefined;
    const pending = [...thread.inFlight.values()];
    thread.inFlight.clear();
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
    return verify('sha256', message, key, signature);
  } catch {
    return false;
  }
}

let shared: CryptoPool | undefined;
/** The process's crypto threads, started on first use; `C2M_CRYPTO_THREADS` sets how many (default: cores - 1, at least 2). */
export function sharedCryptoPool(): CryptoPool {
  const threads = Number(process.env.C2M_CRYPTO_THREADS);
  shared ??= new CryptoPool(Number.isInteger(threads) && threads > 0 ? { threads } : {});
  return shared;
}
