/**
 * EPCIS capture throughput into PostgreSQL (issue 13: at least 5,000 events/s with validation, hashing and
 * storage), against a baseline measured in the same run: the same rows inserted without validation, hashing
 * and signing.
 *
 *   node bench/dist/src/epcis/capture-bench.js [--events 20000] [--per-document 1000] [--concurrency 2]
 *
 * Full path, per document, as the API and its worker run it (services/src/epcis/capture.ts), without HTTP:
 *   accept: JSON parse, CBV vocabulary, EPCIS 2.0 JSON schema (ajv), the job row with the document's exact bytes;
 *   process: per event the CBV 2.0 event hash, the location rule, work order / brand lookup, the signed message
 *   (canonical JSON), an ECDSA P-256 signature by the capturing user's identity (crypto threads), the leaf hash,
 *   and the bulk insert of events and their EPCs (store.ts), in one transaction with the job's completion.
 * Baseline: the same events as rows (eventID given, message = the event's JSON, no signature) through the same
 * bulk insert (store.ts insertEvents), in transactions of one document each.
 * Each runs in its own throwaway database on the local PostgreSQL.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openIdentityStore } from '@c2m/identity';
import {
  createPool,
  dropDatabase,
  ensureDatabase,
  migrate,
  withTransaction,
} from '@c2m/services/dist/src/db/database.js';
import { canonicalUri } from '@c2m/services/dist/src/epcis/canonical.js';
import { checkDocument, createEpcisCapture } from '@c2m/services/dist/src/epcis/capture.js';
import { prepareEvents } from '@c2m/services/dist/src/epcis/prepare.js';
import { type EventRow, indexEvent, insertEvents } from '@c2m/services/dist/src/epcis/store.js';
import { createSchedulerKeeper } from '@c2m/services/dist/src/job-schedulers.js';
import { redisConnection } from '@c2m/services/dist/src/queues.js';
import { Orgs } from '@c2m/shared';
import { Redis } from 'ioredis';
import pino from 'pino';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    'per-document': { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '2' },
  },
});
const total = Number(values.events);
const perDoc = Number(values['per-document']);
const concurrency = Number(values.concurrency);
const docs = Math.ceil(total / perDoc);
const base = process.env.DATABASE_URL_BASE ?? 'postgres://postgres@127.0.0.1:5432';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'warn' });

const GTIN = '06141410000014';
const SITE = 'https://id.gs1.org/414/0614141000005';

/** A commissioning, packing or shipping event as a factory captures them: serials, a line SGLN, a PO. */
function event(doc: number, i: number): Record<string, unknown> {
  const serial = doc * perDoc + i;
  const step = (['commissioning', 'inspecting', 'shipping'] as const)[i % 3];
  return {
    type: 'ObjectEvent',
    eventTime: new Date(Date.UTC(2026, 11, 1, 8) + serial * 1000).toISOString(),
    eventTimeZoneOffset: '+08:00',
    epcList: [`https://id.gs1.org/01/${GTIN}/21/${serial}`, `https://id.gs1.org/01/${GTIN}/21/${serial + 10_000_000}`],
    action: step === 'commissioning' ? 'ADD' : 'OBSERVE',
    bizStep: step,
    disposition: step === 'shipping' ? 'in_transit' : 'active',
    readPoint: { id: `${SITE}/254/line-${i % 4}` },
    bizLocation: { id: SITE },
    bizTransactionList: [{ type: 'po', bizTransaction: `urn:epcglobal:cbv:bt:0614141000005:PO-${doc}` }],
    'example:lineShift': { shift: i % 2 === 0 ? 'day' : 'night', operator: `op-${i % 7}` },
  };
}

function document(doc: number): string {
  return JSON.stringify({
    '@context': [
      'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
      { example: 'http://ns.example.com/epcis/' },
    ],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2026-12-01T00:00:00Z',
    epcisBody: { eventList: Array.from({ length: perDoc }, (_, i) => event(doc, i)) },
  });
}

async function freshDatabase(name: string) {
  const url = `${base}/c2m_bench_${name}_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(url);
  await migrate(url);
  const pool = createPool(url);
  await pool.query(`INSERT INTO gs1_locations (uri, gln, owner_msp, kind) VALUES ($1, '0614141000005', $2, 'site')`, [
    SITE,
    Orgs.factory1,
  ]);
  await pool.query(`INSERT INTO gs1_products (gtin, brand_msp, sku) VALUES ($1, $2, 'BENCH-1')`, [GTIN, Orgs.brand]);
  return { url, pool };
}

/** Runs `work(i)` for i in [0, n) with at most `c` at a time. */
async function pooled(n: number, c: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(c, n) }, async () => {
      for (let i = next++; i < n; i = next++) await work(i);
    }),
  );
}

const bodies = Array.from({ length: docs }, (_, d) => document(d));
const dataDir = await mkdtemp(join(tmpdir(), 'c2m-bench-epcis-'));
const identity = await openIdentityStore({ dataDir });
const prefix = `c2m-bench-epcis-${randomBytes(3).toString('hex')}`;
const results: { name: string; events: number; seconds: number }[] = [];
const steps: { name: string; events: number; seconds: number }[] = [];

/** Where the time goes: each step of the path alone, on one thread, over the same documents. */
async function stepCosts(): Promise<void> {
  const time = async (name: string, work: () => unknown) => {
    await work();
    const start = performance.now();
    await work();
    steps.push({ name, events: docs * perDoc, seconds: (performance.now() - start) / 1000 });
  };
  const meta = {
    context: JSON.parse(bodies[0] as string)['@context'],
    recordTime: new Date().toISOString(),
    ownerMspId: Orgs.factory1,
    signer: { mspId: Orgs.factory1, username: 'factory1' },
    captureId: 'bench',
  };
  await time('schema check (JSON, CBV, EPCIS 2.0 JSON schema)', () => {
    for (const b of bodies) checkDocument(b);
  });
  const lists = bodies.map((b) => JSON.parse(b).epcisBody.eventList as unknown[]);
  let messages: Buffer[] = [];
  await time('prepare (event hash, index, signed message, leaf)', () => {
    messages = lists.flatMap((l) => prepareEvents(l, 0, meta).prepared.map((p) => Buffer.from(p.message)));
  });
  const signer = identity.userIdentity('factory1');
  await time('sign (ECDSA P-256, crypto threads)', () => Promise.all(messages.map((m) => signer.signMessage?.(m))));
}

try {
  await stepCosts();
  // Full capture path.
  {
    const db = await freshDatabase('capture');
    const schedulers = createSchedulerKeeper({ logger });
    const capture = createEpcisCapture({
      pool: db.pool,
      identity,
      connection: redisConnection(redisUrl),
      prefix,
      logger,
      schedulers,
    });
    const user = { username: 'factory1', mspId: Orgs.factory1 };
    // Warm-up (schema compile, crypto threads, connections) on a document that is not counted.
    const warm = await capture.accept(user, document(docs + 1), 'rollback');
    await capture.processJob(warm.captureID);
    const start = performance.now();
    await pooled(docs, concurrency, async (d) => {
      const job = await capture.accept(user, bodies[d] as string, 'rollback');
      const done = await capture.processJob(job.captureID);
      if (done?.status !== 'succeeded') throw new Error(`document ${d}: ${JSON.stringify(done?.errors.slice(0, 3))}`);
    });
    results.push({
      name: 'capture (validate, hash, sign, store)',
      events: docs * perDoc,
      seconds: (performance.now() - start) / 1000,
    });
    const { rows } = await db.pool.query('SELECT COUNT(*)::int AS n FROM epcis_events');
    if (rows[0].n !== (docs + 1) * perDoc) throw new Error(`stored ${rows[0].n} events`);
    await capture.close();
    await db.pool.end();
    await dropDatabase(db.url);
  }
  // Baseline: the same rows, no validation, hashing or signing.
  {
    const db = await freshDatabase('baseline');
    const recordTime = new Date().toISOString();
    const rowsOf = (d: number): EventRow[] =>
      (JSON.parse(bodies[d] as string).epcisBody.eventList as Record<string, unknown>[]).map((e) => {
        const eventId = `urn:uuid:${randomUUID()}`;
        const stored = { ...e, eventID: eventId, recordTime };
        return {
          eventId,
          eventHash: eventId,
          event: stored,
          index: indexEvent(stored, canonicalUri),
          ownerMsp: Orgs.factory1,
          source: 'capture',
          recordTime,
          message: JSON.stringify(stored),
          signature: '',
          signerCertificate: '',
          leafHash: '',
        };
      });
    const start = performance.now();
    await pooled(docs, concurrency, async (d) => {
      const rows = rowsOf(d);
      await withTransaction(db.pool, (c) => insertEvents(c, rows));
    });
    results.push({
      name: 'baseline: same rows, bulk insert only',
      events: docs * perDoc,
      seconds: (performance.now() - start) / 1000,
    });
    await db.pool.end();
    await dropDatabase(db.url);
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

console.log(`\nEPCIS capture, ${docs} documents of ${perDoc} ObjectEvents, ${concurrency} at a time\n`);
console.log('| path | events | seconds | events/s |');
console.log('|---|---:|---:|---:|');
for (const r of results) {
  console.log(`| ${r.name} | ${r.events} | ${r.seconds.toFixed(2)} | ${Math.round(r.events / r.seconds)} |`);
}
console.log('\nEach step alone, one thread (signing on the crypto threads)\n');
console.log('| step | events | seconds | events/s | µs/event |');
console.log('|---|---:|---:|---:|---:|');
for (const r of steps) {
  console.log(
    `| ${r.name} | ${r.events} | ${r.seconds.toFixed(2)} | ${Math.round(r.events / r.seconds)} | ${((r.seconds * 1e6) / r.events).toFixed(0)} |`,
  );
}
process.exit(0);
