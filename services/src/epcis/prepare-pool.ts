import os from 'node:os';
import { Piscina } from 'piscina';
import { type PreparedEvent, type PrepareFailure, type PrepareMeta, prepareEvents } from './prepare.js';

/**
 * Capture's per-event work (prepare.ts) on worker threads: a document is cut into slices, one per thread, so
 * a large document uses every core while the capturing thread waits on PostgreSQL for the previous one. Small
 * documents run here: a thread round trip costs more than they do. Threads exit when idle.
 */
let pool: Piscina | undefined;
const SLICE_MIN = 200;

function preparePool(): Piscina {
  pool ??= new Piscina({
    filename: new URL('./prepare-worker.js', import.meta.url).href,
    minThreads: 0,
    maxThreads: Math.max(1, os.availableParallelism()),
    idleTimeout: 10_000,
  });
  return pool;
}

export async function prepareInWorkers(
  events: readonly unknown[],
  meta: PrepareMeta,
): Promise<{ prepared: PreparedEvent[]; failures: PrepareFailure[] }> {
  if (events.length < SLICE_MIN * 2) return prepareEvents(events, 0, meta);
  const p = preparePool();
  const slices = Math.min(p.options.maxThreads, Math.ceil(events.length / SLICE_MIN));
  const size = Math.ceil(events.length / slices);
  const parts = await Promise.all(
    Array.from(
      { length: slices },
      (_, s) =>
        p.run({ events: events.slice(s * size, (s + 1) * size), firstIndex: s * size, meta }) as Promise<{
          prepared: PreparedEvent[];
          failures: PrepareFailure[];
        }>,
    ),
  );
  return { prepared: parts.flatMap((x) => x.prepared), failures: parts.flatMap((x) => x.failures) };
}

/** Stops the threads (platform shutdown, tests). */
export async function closePreparePool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.destroy();
}
