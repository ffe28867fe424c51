/**
 * Trace graph at scale: over an EPCIS store of 1,046,500 events (3.1 million EPC rows), the backward trace of one
 * serial and the forward trace of one material lot reaching 10,000 serials, by the platform's trace graph
 * (services/src/epcis/trace-graph.ts: one set-based query per hop level) against the baseline of a client doing
 * the same trace by repeated EPCIS queries (one query per identifier, one per container or transformation event
 * to read its members, one per serial to find its lot), on the same database in the same run.
 *
 *   node bench/dist/src/epcis/trace-bench.js [--lots 100] [--backward 200] [--forward 20] [--baseline-forward 3] [--fresh]
 *
 * The store (database c2m_bench_trace, built once and kept; --fresh rebuilds it) holds 100 work orders, each a
 * lot of 10,000 serials of its own GTIN made from its own yarn lot: 1 TransformationEvent, 10 commissioning
 * ObjectEvents of 1,000 serials, 1 inspecting event of the lot, 417 cartons of 24 (AggregationEvents), 18
 * pallets of 24 cartons, 18 shipping events and one receiving event per serial at a store (10,000 per lot).
 * Times include assembling the answer and JSON.stringify of it, as the API would send it.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createPool, ensureDatabase, migrate } from '@c2m/services/dist/src/db/database.js';
import { createTraceGraph, eventAccessSql } from '@c2m/services/dist/src/epcis/trace-graph.js';
import type { AuthUser } from '@c2m/services/dist/src/plugins/auth.js';
import { gs1CheckDigit } from '@c2m/shared';
import type pg from 'pg';

const { values } = parseArgs({
  options: {
    lots: { type: 'string', default: '100' },
    backward: { type: 'string', default: '200' },
    forward: { type: 'string', default: '20' },
    'baseline-backward': { type: 'string', default: '50' },
    'baseline-forward': { type: 'string', default: '3' },
    fresh: { type: 'boolean', default: false },
    db: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/c2m_bench_trace' },
  },
});
const LOTS = Number(values.lots);
const SERIALS = 10_000;
const CARTON = 24;
const DL = 'https://id.gs1.org';
const withCheck = (body: string) => `${body}${gs1CheckDigit(body)}`;
const gtinOf = (i: number) => withCheck(`06941410${String(i).padStart(5, '0')}`);
const materialGtinOf = (i: number) => withCheck(`069414209${String(i).padStart(4, '0')}`);
const brand: AuthUser = {
  username: 'bench',
  mspId: 'BrandOrg',
  orgKind: 'brand',
  role: 'brand-manager',
  displayName: 'bench',
};

await ensureDatabase(values.db);
await migrate(values.db);
const pool = createPool(values.db);

async function build(p: pg.Pool): Promise<void> {
  const started = performance.now();
  await p.query(`TRUNCATE epcis_event_epcs, epcis_logistics_followed, epcis_events, work_order_lots, gs1_products,
    work_orders, offers, order_events, orders CASCADE`);
  const gtins = Array.from({ length: LOTS }, (_, i) => gtinOf(i));
  const materials = Array.from({ length: LOTS }, (_, i) => materialGtinOf(i));
  await p.query(
    `INSERT INTO orders (id, brand_msp, created_by, product, lines, total_quantity, target_price_minor, currency,
       due_date, ship_to, status)
     SELECT 'ORD-B-' || i, 'BrandOrg', 'bench', 'sock', '[]', ${SERIALS}, 100, 'CNY', '2027-01-01', 'DC', 'closed'
     FROM generate_series(0, $1 - 1) i`,
    [LOTS],
  );
  await p.query(
    `INSERT INTO offers (id, order_id, factory_msp, quantity, lines, price_minor, due_date, status, expires_at)
     SELECT 'OFF-B-' || i, 'ORD-B-' || i, 'Factory1Org', ${SERIALS}, '[]', 100, '2027-01-01', 'accepted', now()
     FROM generate_series(0, $1 - 1) i`,
    [LOTS],
  );
  await p.query(
    `INSERT INTO work_orders (id, order_id, offer_id, brand_msp, factory_msp, brand_user, factory_user, product,
       quantity, terms, terms_hash, status)
     SELECT 'WO-B-' || i, 'ORD-B-' || i, 'OFF-B-' || i, 'BrandOrg', 'Factory1Org', 'bench', 'bench', 'sock',
       ${SERIALS}, '{}', 'x', 'shipped'
     FROM generate_series(0, $1 - 1) i`,
    [LOTS],
  );
  await p.query(
    `INSERT INTO gs1_products (gtin, brand_msp, sku, name)
     SELECT g, 'BrandOrg', 'SKU-' || n, 'Sock ' || n FROM unnest($1::text[]) WITH ORDINALITY AS u(g, n)`,
    [gtins],
  );
  await p.query(
    `INSERT INTO work_order_lots (work_order_id, gtin, lot, quantity, serial_from, serial_to, next_serial)
     SELECT 'WO-B-' || (n - 1), g, 'LB' || (n - 1), ${SERIALS}, 1, ${SERIALS}, ${SERIALS + 1}
     FROM unnest($1::text[]) WITH ORDINALITY AS u(g, n)`,
    [gtins],
  );
  // Events: id = kind * 1e8 + lot * 1e5 + j, so EPC rows can name them without reading them back.
  const ev = (
    kind: number,
    js: string,
    type: string,
    action: string | null,
    bizStep: string,
    minutes: string,
    extra = `'{}'::jsonb`,
    disposition = 'NULL',
    location = `'${DL}/414/6941420000019/254/1'`,
  ) =>
    p.query(
      `INSERT INTO epcis_events (id, event_id, event_hash, event_type, event_time, action, biz_step, disposition,
         read_point, biz_location, owner_msp, source, work_order_id, brand_msp, event, message, signature,
         signer_certificate, leaf_hash)
       SELECT ${kind}::bigint * 100000000 + i * 100000 + j, 'bench:${kind}:' || i || ':' || j,
         'bench:${kind}:' || i || ':' || j, '${type}',
         timestamptz '2026-01-01T00:00:00Z' + make_interval(hours => i) + make_interval(mins => ${minutes}),
         ${action === null ? 'NULL' : `'${action}'`}, '${bizStep}', ${disposition}, ${location}, ${location},
         'Factory1Org', 'device', 'WO-B-' || i, 'BrandOrg', ${extra}, 'x', 'x', 'x', 'x'
       FROM generate_series(0, $1 - 1) i, ${js}`,
      [LOTS],
    );
  const serial = (i: string, s: string) => `'${DL}/01/' || ($1::text[])[${i} + 1] || '/21/' || ${s}`;
  const lotUri = (i: string) => `'${DL}/01/' || ($1::text[])[${i} + 1] || '/10/LB' || ${i}`;
  const material = (i: string) => `'${DL}/01/' || ($2::text[])[${i} + 1] || '/10/YARN' || ${i}`;
  const carton = (i: string, c: string) => `'${DL}/00/1' || lpad(${i}::text, 5, '0') || lpad(${c}::text, 12, '0')`;
  const pallet = (i: string, c: string) => `'${DL}/00/2' || lpad(${i}::text, 5, '0') || lpad(${c}::text, 12, '0')`;
  // Every statement names all three parameters (an unused CTE), so PostgreSQL knows their types.
  const epcs = (sql: string) =>
    p.query(`WITH _params AS (SELECT $1::text[], $2::text[], $3::int) ${sql}`, [gtins, materials, LOTS]);
  const nCartons = Math.ceil(SERIALS / CARTON);
  const nPallets = Math.ceil(nCartons / CARTON);

  await ev(1, 'generate_series(0, 0) j', 'TransformationEvent', null, 'commissioning', '1');
  await epcs(`INSERT INTO epcis_event_epcs (epc, role, event_pk)
    SELECT ${material('i')}, 'inputEpcClass', 100000000 + i * 100000 FROM generate_series(0, $3 - 1) i
    UNION ALL SELECT ${lotUri('i')}, 'outputEpcClass', 100000000 + i * 100000 FROM generate_series(0, $3 - 1) i`);
  await ev(
    2,
    'generate_series(0, 9) j',
    'ObjectEvent',
    'ADD',
    'commissioning',
    '2',
    `jsonb_build_object('c2m:device', 'bench-dev-' || (i % 10))`,
    `'active'`,
  );
  await epcs(`INSERT INTO epcis_event_epcs (epc, role, event_pk)
    SELECT ${serial('i', 's')}, 'epc', 200000000 + i * 100000 + (s - 1) / 1000
    FROM generate_series(0, $3 - 1) i, generate_series(1, ${SERIALS}) s`);
  await ev(
    3,
    'generate_series(0, 0) j',
    'ObjectEvent',
    'OBSERVE',
    'inspecting',
    '3',
    `jsonb_build_object('c2m:device', 'bench-qc-' || (i % 10))`,
    `'conformant'`,
  );
  await epcs(`INSERT INTO epcis_event_epcs (epc, role, event_pk)
    SELECT ${lotUri('i')}, 'epcClass', 300000000 + i * 100000 FROM generate_series(0, $3 - 1) i`);
  await ev(4, `generate_series(0, ${nCartons - 1}) j`, 'AggregationEvent', 'ADD', 'packing', '4');
  await epcs(`INSERT INTO epcis_event_epcs (epc, role, event_pk)
    SELECT ${carton('i', 'c')}, 'parent', 400000000 + i * 100000 + c
    FROM generate_series(0, $3 - 1) i, generate_series(0, ${nCartons - 1}) c
    UNION ALL SELECT ${serial('i', 's')}, 'child', 400000000 + i * 100000 + (s - 1) / ${CARTON}
    FROM generate_series(0, $3 - 1) i, generate_series(1, ${SERIALS}) s`);
  await ev(5, `generate_series(0, ${nPallets - 1}) j`, 'AggregationEvent', 'ADD', 'packing', '5');
  await epcs(`INSERT INTO epcis_event_epcs (epc, role, event_pk)
    SELECT ${pallet('i', 'c')}, 'parent', 500000000 + i * 100000 + c
    FROM generate_series(0, $3 - 1) i, generate_series(0, ${nPallets - 1}) c
    UNION ALL SELECT ${carton('i', 'c')}, 'child', 500000000 + i * 100000 + c / ${CARTON}
    FROM generate_series(0, $3 - 1) i, generate_series(0, ${nCartons - 1}) c`);
  await ev(
    6,
    `generate_series(0, ${nPallets - 1}) j`,
    'ObjectEvent',
    'OBSERVE',
    'shipping',
    '6',
    `'{}'::jsonb`,
    `'in_transit'`,
    `'${DL}/414/6941420000026'`,
  );
  await epcs(`INSERT INTO epcis_event_epcs (epc, role, event_pk)
    SELECT ${pallet('i', 'c')}, 'epc', 600000000 + i * 100000 + c
    FROM generate_series(0, $3 - 1) i, generate_series(0, ${nPallets - 1}) c`);
  await ev(
    7,
    `generate_series(1, ${SERIALS}) j`,
    'ObjectEvent',
    'OBSERVE',
    'receiving',
    '7 * 60',
    `'{}'::jsonb`,
    `'in_progress'`,
    `'${DL}/414/6941410000033'`,
  );
  await epcs(`INSERT INTO epcis_event_epcs (epc, role, event_pk)
    SELECT ${serial('i', 's')}, 'epc', 700000000 + i * 100000 + s
    FROM generate_series(0, $3 - 1) i, generate_series(1, ${SERIALS}) s`);
  await p.query(`SELECT setval('epcis_events_id_seq', 800000000)`);
  await p.query('VACUUM ANALYZE');
  console.log(`built the store in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

const { rows: count } = await pool.query('SELECT count(*)::int AS n FROM epcis_events');
if (values.fresh || (count[0]?.n ?? 0) < LOTS * 10_000) await build(pool);
const { rows: sizes } = await pool.query(
  'SELECT (SELECT count(*) FROM epcis_events)::int AS events, (SELECT count(*) FROM epcis_event_epcs)::int AS epcs',
);
console.log(`store: ${sizes[0].events} events, ${sizes[0].epcs} EPC rows`);

/**
 * The baseline: a client that knows the same rules but can only ask one thing at a time, as through the EPCIS
 * query interface: the events naming one EPC, the members of one event, the lot of one serial.
 */
async function naive(user: AuthUser, start: string, direction: 'backward' | 'forward'): Promise<number> {
  const access = `($2::text IS NOT NULL AND ${eventAccessSql(user, '$2')})`;
  const seen = new Set<string>([start]);
  const queue: { epc: string; up: boolean; origin: boolean; forward: boolean }[] = [
    { epc: start, up: true, origin: direction === 'backward', forward: direction === 'forward' },
  ];
  const members = new Map<number, { epc: string; role: string }[]>();
  let queries = 0;
  const push = (epc: string, up: boolean, origin: boolean, forward: boolean) => {
    if (seen.has(epc)) return;
    seen.add(epc);
    queue.push({ epc, up, origin, forward });
  };
  while (queue.length > 0) {
    const n = queue.shift() as (typeof queue)[number];
    queries++;
    const { rows } = await pool.query(
      `SELECT ee.role, e.id, e.event_type, e.action FROM epcis_event_epcs ee JOIN epcis_events e ON e.id = ee.event_pk
       WHERE ee.epc = $1 AND ${access}`,
      [n.epc, user.mspId],
    );
    for (const r of rows) {
      const container = r.event_type === 'AggregationEvent' || r.event_type === 'AssociationEvent';
      if (!container && r.event_type !== 'TransformationEvent') continue;
      const id = Number(r.id);
      let m = members.get(id);
      if (!m) {
        queries++;
        m = (await pool.query('SELECT epc, role FROM epcis_event_epcs WHERE event_pk = $1', [id])).rows;
        members.set(id, m);
      }
      if (container && r.role === 'child' && n.up) {
        for (const x of m) if (x.role === 'parent') push(x.epc, true, false, false);
      }
      if (r.event_type === 'TransformationEvent') {
        if (n.forward && r.role.startsWith('input')) {
          for (const x of m) if (x.role.startsWith('output')) push(x.epc, true, false, true);
        }
        if (n.origin && r.role.startsWith('output')) {
          for (const x of m) if (x.role.startsWith('input')) push(x.epc, false, true, false);
        }
      }
    }
    const serial = /\/01\/(\d{14})\/21\/(\d+)$/.exec(n.epc);
    if (serial && n.origin) {
      queries++;
      const { rows: lots } = await pool.query(
        'SELECT gtin, lot FROM work_order_lots WHERE gtin = $1 AND $2::bigint BETWEEN serial_from AND serial_to',
        [serial[1], serial[2]],
      );
      for (const l of lots) push(`${DL}/01/${l.gtin}/10/${l.lot}`, false, true, false);
    }
    const lot = /\/01\/(\d{14})\/10\/([^/]+)$/.exec(n.epc);
    if (lot && n.forward) {
      queries++;
      const { rows: lots } = await pool.query(
        'SELECT serial_from, serial_to FROM work_order_lots WHERE gtin = $1 AND lot = $2',
        [lot[1], lot[2]],
      );
      for (const l of lots) {
        for (let s = Number(l.serial_from); s <= Number(l.serial_to); s++)
          push(`${DL}/01/${lot[1]}/21/${s}`, true, false, false);
      }
    }
  }
  return queries;
}

const graph = createTraceGraph({ pool });
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}
interface Row {
  trace: string;
  method: string;
  runs: number;
  p50: number;
  p99: number;
  nodes: number;
  queries: number;
}
const table: Row[] = [];
async function measure(
  trace: string,
  method: string,
  runs: number,
  pick: (k: number) => string,
  fn: (start: string) => Promise<{ nodes: number; queries: number }>,
) {
  const times: number[] = [];
  let last = { nodes: 0, queries: 0 };
  await fn(pick(runs)); // warm-up
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    last = await fn(pick(k));
    times.push(performance.now() - t0);
  }
  table.push({ trace, method, runs, p50: pct(times, 50), p99: pct(times, 99), ...last });
}

const rnd = (n: number) => Math.floor(Math.random() * n);
const randomSerial = () => `${DL}/01/${gtinOf(rnd(LOTS))}/21/${1 + rnd(SERIALS)}`;
const randomMaterial = () => {
  const i = rnd(LOTS);
  return `${DL}/01/${materialGtinOf(i)}/10/YARN${i}`;
};

await measure('backward, one serial', 'trace graph (set per hop)', Number(values.backward), randomSerial, async (s) => {
  const g = await graph.trace(brand, s, { direction: 'backward' });
  JSON.stringify(g);
  return { nodes: g.nodes.length, queries: g.queries };
});
await measure(
  'backward, one serial',
  'baseline: query per identifier',
  Number(values['baseline-backward']),
  randomSerial,
  async (s) => ({
    nodes: 0,
    queries: await naive(brand, s, 'backward'),
  }),
);
await measure(
  'forward, one yarn lot (10,000 serials)',
  'trace graph (set per hop)',
  Number(values.forward),
  randomMaterial,
  async (m) => {
    const g = await graph.trace(brand, m, { direction: 'forward' });
    JSON.stringify(g);
    return { nodes: g.nodes.length, queries: g.queries };
  },
);
await measure(
  'forward, one yarn lot (10,000 serials)',
  'baseline: query per identifier',
  Number(values['baseline-forward']),
  randomMaterial,
  async (m) => ({
    nodes: 0,
    queries: await naive(brand, m, 'forward'),
  }),
);

console.log('\n| trace | method | runs | p50 ms | p99 ms | nodes | queries |');
console.log('|---|---|---|---|---|---|---|');
for (const r of table) {
  console.log(
    `| ${r.trace} | ${r.method} | ${r.runs} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.nodes || '-'} | ${r.queries} |`,
  );
}
await pool.end();
