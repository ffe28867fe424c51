import os from 'node:os';
import { type BundleVerification, CodedError, ErrorCodes, type PinnedTrust, type ProofBundleV2 } from '@c2m/shared';
import { Piscina } from 'piscina';

/**
 * Proof bundles are verified on worker threads (a large bundle is seconds of hashing and ECDSA), so
 * verifications do not stall HTTP, queues or /health. One process-wide pool: threads = cores - 1 (at least
 * one), idle threads exit, and a bounded queue refuses a flood with VERIFIER_BUSY (503) instead of queueing
 * without end.
 */
let pool: Piscina | undefined;
const MAX_QUEUE = 16;

function verifyPool(): Piscina {
  pool ??= new Piscina({
    filename: new URL('./verify-worker.js', import.meta.url).href,
    minThreads: 0,
    maxThreads: Math.max(1, os.availableParallelism() - 1),
    idleTimeout: 10_000,
    maxQueue: MAX_QUEUE,
  });
  return pool;
}

export async function verifyInWorker(bundle: ProofBundleV2, trust: PinnedTrust): Promise<BundleVerification> {
  const p = verifyPool();
  if (p.queueSize >= MAX_QUEUE) {
    throw new CodedError(ErrorCodes.VERIFIER_BUSY, 'every proof verifier is busy; retry shortly', 503);
  }
  return (await p.run({ bundle, trust })) as BundleVerification;
}

/** Stops the pool's threads (platform shutdown, tests). */
export async function closeVerifyPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.destroy();
}
