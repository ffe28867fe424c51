/**
 * EPCIS query at scale: latency of the query function (services/src/epcis/query.ts: parameter parsing, the
 * access predicate, the SQL, redaction, page-token signing; not the HTTP layer) over 1,000,000 stored events
 * in a throwaway database.
 *
 *   node bench/dist/src/epcis/query-bench.js [--events 1000000] [--runs 1000] [--baseline-runs 20] [--keep]
 *     [--database postgres://.../name]   (reuse a database a --keep run left loaded; it is kept)
 *
 * Data (generated in SQL with generate_series, as the store lays it out): 500,000 serials of 10 GTINs (two
 * brands), each commissioned at a factory line and shipped three days later (2 events per serial, one
 * epcis_event_epcs row per event), 100 work orders over two factories, event times over 347 days.
 *
 * Queries, each as the platform admin (no access predicate) and as a brand (its products, its captures, its
 * work orders):
 * - MATCH_epc for a random serial (Digital Link), perPage 30;
 * - MATCH_epc for a class pattern (urn:epc:idpat:sgtin:...*: 50,000 serials, 100,000 events), perPage 30,
 *   orderBy eventTime ASC;
 * - a one-day eventTime window, perPage 30;
 * - GET /epcs/{epc}/events's condition for a random serial given as EPC URN (converted to Digital Link);
 * - the bizSteps collection (a distinct scan of the visible events: the figure says what that costs).
 * Baseline, same run: MATCH_epc by JSONB containment on the stored event (`event->'epcList' ? epc`), i.e.
 * without the EPC index table.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createPool, dropDatabase, ensureDatabase, migrate } from '@c2m/services/dist/src/db/database.js';
import {
  createEpcisQuery,
  createPageTokens,
  epcPathCondition,
  parseQuery,
} from '@c2m/services/dist/src/epcis/query.js';
import type { AuthUser } from '@c2m/services/dist/src/plugins/auth.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '1000' },
    'baseline-runs': { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    database: { type: 'string' },
  },
});
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const BASELINE_RUNS = Number(values['baseline-runs']);
const SERIALS = EVENTS / 2;

function checkDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[digits.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return String((10 - (sum % 10)) % 10);
}
// Five GTINs of BrandOrg (company prefix 0614141), five of Brand2Org (4012345); item references 1073400+k.
const ITEMS = Array.from({ length: 10 }, (_, k) => {
  const cp = k < 5 ? '0614141' : '4012345';
  const ir = `1${String(7340 + k).padStart(5, '0')}`.slice(0, 13 - cp.length);
  const body = `${ir[0]}${cp}${ir.slice(1)}`;
  return { cp, ir, gtin: body + checkDigit(body) };
});

const admin: AuthUser = {
  username: 'platform',
  mspId: 'PlatformOrg',
  orgKind: 'platform',
  role: 'admin',
  displayName: 'bench',
};
const brand: AuthUser = {
  username: 'brand',
  mspId: 'BrandOrg',
  orgKind: 'brand',
  role: 'brand-manager',
  displayName: 'bench',
};

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function main() {
  const url = values.database ?? `postgres://postgres@127.0.0.1:5432/c2m_epcis_bench_${randomBytes(4).toString('hex')}`;
  const keep = values.keep || values.database !== undefined;
  await ensureDatabase(url);
  await migrate(url);
  const pool = createPool(url);
  try {
    const { rows: have } = await pool.query('SELECT count(*)::int AS n FROM epcis_events');
    if (have[0].n === 0) await load(pool);
    else console.log(`reusing ${have[0].n} events in ${url}`);
    await report(pool);
  } finally {
    await pool.end();
    if (!keep) await dropDatabase(url);
    else console.log(`kept ${url}`);
  }
}

async function load(pool: import('pg').Pool) {
  const t0 = performance.now();
  await pool.query(`
      INSERT INTO orders (id, brand_msp, created_by, product, lines, total_quantity, target_price_minor, currency,
        due_date, ship_to, status)
      SELECT 'O-' || k, CASE WHEN k % 10 < 5 THEN 'BrandOrg' ELSE 'Brand2Org' END, 'bench', 'socks', '[]', 1, 1,
        'CNY', '2027-01-01', 'DC', 'closed' FROM generate_series(0, 99) k;
      INSERT INTO offers (id, order_id, factory_msp, quantity, lines, price_minor, due_date, status, expires_at)
      SELECT 'OF-' || k, 'O-' || k, CASE WHEN k % 2 = 0 THEN 'Factory1Org' ELSE 'Factory2Org' END, 1, '[]', 1,
        '2027-01-01', 'accepted', now() FROM generate_series(0, 99) k;
      INSERT INTO work_orders (id, order_id, offer_id, brand_msp, factory_msp, brand_user, factory_user, product,
        quantity, terms, terms_hash, status)
      SELECT 'WO-' || k, 'O-' || k, 'OF-' || k, CASE WHEN k % 10 < 5 THEN 'BrandOrg' ELSE 'Brand2Org' END,
        CASE WHEN k % 2 = 0 THEN 'Factory1Org' ELSE 'Factory2Org' END, 'x', 'x', 'socks', 1, '{}', 'h', 'accepted'
      FROM generate_series(0, 99) k;`);
  // Events: serial s (1..SERIALS), phase 0 = commissioning at the line, 1 = shipping from the site.
  await pool.query(
    `INSERT INTO epcis_events (event_id, event_hash, event_type, event_time, record_time, action, biz_step,
         disposition, read_point, biz_location, owner_msp, source, work_order_id, brand_msp, event, message,
         signature, signer_certificate, leaf_hash)
       SELECT g.event_id, 'ni:///sha-256;' || g.h || '?ver=CBV2.0', 'ObjectEvent', g.t, g.t + interval '1 minute',
         g.action, g.step, g.disp, g.rp, g.rp, g.factory, CASE WHEN g.phase = 0 THEN 'device' ELSE 'capture' END,
         g.wo, g.brand,
         jsonb_build_object('eventID', g.event_id, 'type', 'ObjectEvent', 'eventTime', g.t,
           'eventTimeZoneOffset', '+08:00', 'recordTime', g.t + interval '1 minute', 'action', g.action,
           'bizStep', g.step, 'disposition', g.disp, 'epcList', jsonb_build_array(g.epc),
           'readPoint', jsonb_build_object('id', g.rp), 'bizLocation', jsonb_build_object('id', g.rp),
           'c2m:workOrder', g.wo),
         g.epc, 'sig', 'cert', g.h
       FROM (
         SELECT i, s, phase, md5(i::text) AS h, 'urn:uuid:' || md5(i::text)::uuid AS event_id,
           timestamptz '2026-01-01T00:00:00Z' + s * interval '1 minute' + phase * interval '3 days' AS t,
           CASE WHEN phase = 0 THEN 'ADD' ELSE 'OBSERVE' END AS action,
           CASE WHEN phase = 0 THEN 'commissioning' ELSE 'shipping' END AS step,
           CASE WHEN phase = 0 THEN 'active' ELSE 'in_transit' END AS disp,
           'https://id.gs1.org/01/' || ($1::text[])[s % 10 + 1] || '/21/' || s AS epc,
           'WO-' || (s % 100) AS wo,
           CASE WHEN s % 2 = 0 THEN 'Factory1Org' ELSE 'Factory2Org' END AS factory,
           CASE WHEN s % 10 < 5 THEN 'BrandOrg' ELSE 'Brand2Org' END AS brand,
           CASE WHEN phase = 0 THEN 'https://id.gs1.org/414/0614141000005/254/L' || (s % 4)
                ELSE 'https://id.gs1.org/414/0614141000005' END AS rp
         FROM (SELECT i, (i - 1) % $2 + 1 AS s, (i - 1) / $2 AS phase FROM generate_series(1, $3::int) i) n
       ) g`,
    [ITEMS.map((x) => x.gtin), SERIALS, EVENTS],
  );
  await pool.query(
    `INSERT INTO epcis_event_epcs (epc, role, event_pk) SELECT event->'epcList'->>0, 'epc', id FROM epcis_events`,
  );
  // As autovacuum leaves a table at rest: statistics, and a visibility map for index-only scans.
  await pool.query('VACUUM ANALYZE');
  const loadSec = (performance.now() - t0) / 1000;
  const { rows: size } = await pool.query(
    `SELECT pg_size_pretty(pg_total_relation_size('epcis_events')) AS events,
              pg_size_pretty(pg_total_relation_size('epcis_event_epcs')) AS epcs`,
  );
  console.log(
    `loaded ${EVENTS} events in ${loadSec.toFixed(1)} s (epcis_events ${size[0].events}, epcis_event_epcs ${size[0].epcs})`,
  );
}

/** What a case runs against: the query function over a database. */
interface Target {
  readonly query: ReturnType<typeof createEpcisQuery>;
  readonly db: { query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };
}

async function report(pool: import('pg').Pool) {
  const tokens = createPageTokens(randomBytes(32));
  const real: Target = { query: createEpcisQuery({ pool, tokens }), db: pool };
  // The same statements under EXPLAIN ANALYZE: planning + execution time inside PostgreSQL, without the
  // round trip and without waiting for a CPU (this machine's load average is several times its 2 cores).
  let serverMs = 0;
  const explainDb: Target['db'] = {
    async query(sql, params) {
      const { rows } = await pool.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
      const plans = (rows[0]?.['QUERY PLAN'] ?? []) as { 'Planning Time': number; 'Execution Time': number }[];
      const plan = plans[0];
      serverMs += (plan?.['Planning Time'] ?? 0) + (plan?.['Execution Time'] ?? 0);
      return { rows: [] };
    },
  };
  const explained: Target = {
    query: createEpcisQuery({ pool: explainDb as unknown as import('pg').Pool, tokens }),
    db: explainDb,
  };
  const rnd = () => 1 + Math.floor(Math.random() * SERIALS);
  const serialEpc = (s: number) => `https://id.gs1.org/01/${ITEMS[s % 10]?.gtin}/21/${s}`;
  const day = (d: number) => new Date(Date.UTC(2026, 0, 1 + d)).toISOString();

  interface Case {
    readonly name: string;
    readonly user: AuthUser;
    readonly runs: number;
    readonly run: (t: Target) => Promise<number>;
  }
  const viaQuery = (user: AuthUser, qs: () => string) => async (t: Target) => {
    const page = await t.query.events(user, parseQuery(new URLSearchParams(qs())), { scope: 'events' });
    return page.events.length;
  };
  const classPattern = () => {
    const k = Math.floor(Math.random() * 5);
    const item = ITEMS[k] as (typeof ITEMS)[number];
    return `MATCH_epc=urn:epc:idpat:sgtin:${item.cp}.${item.ir}.*&orderBy=eventTime&orderDirection=ASC&perPage=30`;
  };
  const cases: Case[] = [];
  for (const user of [admin, brand]) {
    cases.push(
      {
        name: 'MATCH_epc random serial',
        user,
        runs: RUNS,
        run: viaQuery(user, () => `MATCH_epc=${serialEpc(rnd())}`),
      },
      {
        name: 'GET /epcs/{epc}/events condition, random serial (URN)',
        user,
        runs: RUNS,
        run: async (t) => {
          const s = rnd();
          const item = ITEMS[s % 10] as (typeof ITEMS)[number];
          const page = await t.query.events(user, parseQuery(new URLSearchParams()), {
            scope: 'epcs',
            extra: [epcPathCondition(`urn:epc:id:sgtin:${item.cp}.${item.ir}.${s}`)],
          });
          return page.events.length;
        },
      },
      {
        name: `MATCH_epc class pattern (${(SERIALS / 10).toLocaleString('en')} serials)`,
        user,
        runs: Math.ceil(RUNS / 10),
        run: viaQuery(user, classPattern),
      },
      {
        name: 'one-day eventTime window',
        user,
        runs: Math.ceil(RUNS / 10),
        run: viaQuery(user, () => {
          const d = Math.floor(Math.random() * 340);
          return `GE_eventTime=${day(d)}&LT_eventTime=${day(d + 1)}&perPage=30`;
        }),
      },
      {
        name: 'bizSteps collection (distinct over visible events)',
        user,
        runs: 5,
        run: async (t) => (await t.query.vocabulary(user, 'bizSteps', { perPage: 30 })).members.length,
      },
    );
  }
  // Baseline: the same serial lookup without the EPC table, by containment on the stored event.
  const baseline: Case = {
    name: 'baseline: MATCH_epc by JSONB containment on the event',
    user: admin,
    runs: BASELINE_RUNS,
    run: async (t) => {
      const { rows } = await t.db.query(
        `SELECT e.event FROM epcis_events e WHERE e.event->'epcList' ? $1 ORDER BY e.event_time, e.id LIMIT 31`,
        [serialEpc(rnd())],
      );
      return rows.length;
    },
  };

  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
  console.log(`\nload average before: ${load()} (2 cores)`);
  console.log(
    '\n| query | caller | runs | wall p50 ms | wall p95 ms | wall p99 ms | wall max ms | PostgreSQL p50 ms | PostgreSQL p99 ms | events per answer |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const f = (x: number) => x.toFixed(2);
  for (const c of [...cases, baseline]) {
    for (let i = 0; i < Math.min(200, c.runs); i++) await c.run(real); // warm the cache, the plan and the JIT
    const times: number[] = [];
    let answered = 0;
    for (let i = 0; i < c.runs; i++) {
      const s = performance.now();
      answered += await c.run(real);
      times.push(performance.now() - s);
    }
    const server: number[] = [];
    for (let i = 0; i < c.runs; i++) {
      serverMs = 0;
      await c.run(explained);
      server.push(serverMs);
    }
    times.sort((a, b) => a - b);
    server.sort((a, b) => a - b);
    console.log(
      `| ${c.name} | ${c.user.username} | ${c.runs} | ${f(pct(times, 50))} | ${f(pct(times, 95))} | ${f(pct(times, 99))} | ${f(times[times.length - 1] ?? Number.NaN)} | ${f(pct(server, 50))} | ${f(pct(server, 99))} | ${(answered / c.runs).toFixed(1)} |`,
    );
  }
  console.log(`\nload average after: ${load()}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
