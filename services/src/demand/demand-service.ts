import { createHash } from 'node:crypto';
import { CodedError, canonicalJson, ErrorCodes } from '@c2m/shared';
import { parse } from 'csv-parse/sync';
import type pg from 'pg';
import { withTransaction } from '../db/database.js';
import type { AuthUser } from '../plugins/auth.js';

export const SignalKinds = ['sale', 'pre_order', 'wishlist', 'search', 'return'] as const;
export type SignalKind = (typeof SignalKinds)[number];
/** The kinds that are units a consumer wants now: the quantity forecast and produced. */
export const DEMAND_KINDS: readonly SignalKind[] = ['sale', 'pre_order'];

export interface SkuInput {
  readonly sku: string;
  readonly colour?: string;
  readonly size?: string;
  readonly material?: string;
}

export interface ProductInput {
  readonly id: string;
  readonly name: string;
  readonly category: { readonly id: string; readonly name?: string };
  readonly skus: readonly SkuInput[];
}

export interface Product {
  id: string;
  name: string;
  category: { id: string; name: string };
  skus: { sku: string; colour: string | null; size: string | null; material: string | null }[];
}

export interface SignalInput {
  /** The client's id for this signal (e.g. its order line id); re-sending it changes nothing. */
  readonly id?: string;
  readonly sku: string;
  readonly kind: SignalKind;
  readonly quantity: number;
  /** The day the consumer acted, YYYY-MM-DD. */
  readonly date: string;
  readonly channel?: string;
  readonly region?: string;
}

export interface RowError {
  /** 1-based row number in the upload (CSV: counting the header as row 1), or index+1 in a JSON batch. */
  readonly row: number;
  readonly field?: string;
  readonly message: string;
}

export interface IngestResult {
  readonly received: number;
  /** Newly stored signals. */
  readonly accepted: number;
  /** Signals already stored (same id), left unchanged. */
  readonly duplicates: number;
}

export interface SeriesPoint {
  readonly date: string;
  readonly quantity: number;
}

/** A PostgreSQL `date` as YYYY-MM-DD: pg parses dates at local midnight, so read local fields, not UTC. */
export function dayString(v: unknown): string {
  if (!(v instanceof Date)) return String(v);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${v.getFullYear()}-${pad(v.getMonth() + 1)}-${pad(v.getDate())}`;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_ROWS = 100_000;
const CHUNK = 5_000;
const UNSPECIFIED = 'unspecified';

function validDay(d: string): boolean {
  if (!DAY_RE.test(d)) return false;
  const t = Date.parse(`${d}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d;
}

/**
 * Derived ids make idempotence work without client ids: the hash of the
 * signal's content and of how many identical signals came before it in the
 * same upload. Re-uploading the same file yields the same ids; two identical
 * sales in one file stay two sales.
 */
function deriveIds(signals: readonly SignalInput[]): string[] {
  const seen = new Map<string, number>();
  return signals.map((s) => {
    if (s.id) return s.id;
    const content = canonicalJson({
      sku: s.sku,
      kind: s.kind,
      quantity: s.quantity,
      date: s.date,
      channel: s.channel ?? UNSPECIFIED,
      region: s.region ?? UNSPECIFIED,
    });
    const n = (seen.get(content) ?? 0) + 1;
    seen.set(content, n);
    return `h:${createHash('sha256').update(`${content}#${n}`).digest('hex').slice(0, 40)}`;
  });
}

/** Demand signals, the product hierarchy and the aggregated daily and weekly series. */
export function createDemandService(deps: { readonly pool: pg.Pool }) {
  const { pool } = deps;

  async function upsertProducts(user: AuthUser, products: readonly ProductInput[]): Promise<Product[]> {
    await withTransaction(pool, async (client) => {
      for (const p of products) {
        await client.query(
          `INSERT INTO demand_categories (brand_msp, id, name) VALUES ($1, $2, $3)
           ON CONFLICT (brand_msp, id) DO UPDATE SET name = COALESCE($4, demand_categories.name)`,
          [user.mspId, p.category.id, p.category.name ?? p.category.id, p.category.name ?? null],
        );
        await client.query(
          `INSERT INTO demand_products (brand_msp, id, name, category_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (brand_msp, id) DO UPDATE SET name = EXCLUDED.name, category_id = EXCLUDED.category_id`,
          [user.mspId, p.id, p.name, p.category.id],
        );
        for (const s of p.skus) {
          const { rows } = await client.query(
            `INSERT INTO demand_skus (brand_msp, sku, product_id, colour, size, material) VALUES ($1,$2,$3,$4,$5,$6)
             ON CONFLICT (brand_msp, sku) DO UPDATE SET colour = EXCLUDED.colour, size = EXCLUDED.size,
               material = EXCLUDED.material
             WHERE demand_skus.product_id = EXCLUDED.product_id
             RETURNING sku`,
            [user.mspId, s.sku, p.id, s.colour ?? null, s.size ?? null, s.material ?? null],
          );
          if (rows.length === 0) {
            throw new CodedError(ErrorCodes.CONFLICT, `SKU ${s.sku} already belongs to another product`, 409);
          }
        }
      }
    });
    const all = await listProducts(user);
    const ids = new Set(products.map((p) => p.id));
    return all.filter((p) => ids.has(p.id));
  }

  async function listProducts(user: AuthUser): Promise<Product[]> {
    const { rows } = await pool.query(
      `SELECT p.id, p.name, c.id AS category_id, c.name AS category_name,
         COALESCE(json_agg(json_build_object('sku', s.sku, 'colour', s.colour, 'size', s.size, 'material', s.material)
           ORDER BY s.sku) FILTER (WHERE s.sku IS NOT NULL), '[]') AS skus
       FROM demand_products p
       JOIN demand_categories c ON c.brand_msp = p.brand_msp AND c.id = p.category_id
       LEFT JOIN demand_skus s ON s.brand_msp = p.brand_msp AND s.product_id = p.id
       WHERE p.brand_msp = $1 GROUP BY p.id, p.name, c.id, c.name ORDER BY p.id`,
      [user.mspId],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      category: { id: r.category_id, name: r.category_name },
      skus: r.skus,
    }));
  }

  /** Checks every signal; returns one error per bad field, without storing anything. */
  async function validate(user: AuthUser, signals: readonly SignalInput[], rowOffset: number): Promise<RowError[]> {
    const errors: RowError[] = [];
    const skus = [...new Set(signals.map((s) => s.sku))];
    const { rows } = await pool.query('SELECT sku FROM demand_skus WHERE brand_msp = $1 AND sku = ANY($2)', [
      user.mspId,
      skus,
    ]);
    const known = new Set(rows.map((r) => r.sku as string));
    signals.forEach((s, i) => {
      const row = i + rowOffset;
      // Another brand's SKU reads as unknown: its existence is not ours to reveal.
      if (!known.has(s.sku)) errors.push({ row, field: 'sku', message: `unknown SKU ${s.sku}` });
      if (!SignalKinds.includes(s.kind)) {
        errors.push({ row, field: 'kind', message: `kind must be one of ${SignalKinds.join(', ')}` });
      }
      if (!Number.isInteger(s.quantity) || s.quantity < 0 || s.quantity > 1_000_000) {
        errors.push({ row, field: 'quantity', message: 'quantity must be an integer from 0 to 1000000' });
      }
      if (!validDay(s.date)) errors.push({ row, field: 'date', message: 'date must be a valid YYYY-MM-DD day' });
    });
    return errors;
  }

  async function store(user: AuthUser, signals: readonly SignalInput[], source: string): Promise<IngestResult> {
    const ids = deriveIds(signals);
    let accepted = 0;
    await withTransaction(pool, async (client) => {
      for (let i = 0; i < signals.length; i += CHUNK) {
        const part = signals.slice(i, i + CHUNK);
        // Signals and daily totals change in one statement: a total never counts a signal twice or misses one.
        const { rows } = await client.query(
          `WITH input AS (
             SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::date[])
               AS t(signal_id, sku, kind, channel, region, quantity, day)
           ), ins AS (
             INSERT INTO demand_signals (brand_msp, signal_id, sku, kind, channel, region, quantity, day, source)
             SELECT $1, signal_id, sku, kind, channel, region, quantity, day, $9 FROM input
             ON CONFLICT (brand_msp, signal_id) DO NOTHING
             RETURNING sku, kind, quantity, day
           ), agg AS (
             INSERT INTO demand_daily (brand_msp, sku, day, kind, quantity)
             SELECT $1, sku, day, kind, SUM(quantity) FROM ins GROUP BY sku, day, kind
             ON CONFLICT (brand_msp, sku, day, kind) DO UPDATE SET quantity = demand_daily.quantity + EXCLUDED.quantity
             RETURNING 1
           )
           SELECT (SELECT count(*) FROM ins)::int AS accepted, (SELECT count(*) FROM agg)::int AS days`,
          [
            user.mspId,
            ids.slice(i, i + CHUNK),
            part.map((s) => s.sku),
            part.map((s) => s.kind),
            part.map((s) => s.channel ?? UNSPECIFIED),
            part.map((s) => s.region ?? UNSPECIFIED),
            part.map((s) => s.quantity),
            part.map((s) => s.date),
            source,
          ],
        );
        accepted += rows[0].accepted;
      }
    });
    return { received: signals.length, accepted, duplicates: signals.length - accepted };
  }

  /** Stores a batch of signals all-or-nothing: one bad signal rejects the batch with every error listed. */
  async function recordSignals(user: AuthUser, signals: readonly SignalInput[]): Promise<IngestResult> {
    const errors = await validate(user, signals, 1);
    if (errors.length > 0) throw new SignalRejection(errors);
    return store(user, signals, 'api');
  }

  /**
   * Parses a CSV upload (header row: sku,kind,quantity,date and optionally
   * id,channel,region) and stores it all-or-nothing, like a batch; with
   * `partial`, stores the good rows and reports the bad ones.
   */
  async function uploadCsv(
    user: AuthUser,
    csv: string,
    options: { partial?: boolean } = {},
  ): Promise<IngestResult & { rejected: number; errors: RowError[] }> {
    let records: Record<string, string>[];
    try {
      records = parse(csv, {
        columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
        skip_empty_lines: true,
        trim: true,
        bom: true,
      });
    } catch (err) {
      throw new SignalRejection([{ row: (err as { lines?: number }).lines ?? 1, message: (err as Error).message }]);
    }
    if (records.length > MAX_ROWS) {
      throw new SignalRejection([{ row: MAX_ROWS + 2, message: `at most ${MAX_ROWS} rows per upload` }]);
    }
    const required = ['sku', 'kind', 'quantity', 'date'];
    const header = records.length > 0 ? Object.keys(records[0]) : required;
    const missing = required.filter((c) => !header.includes(c));
    if (missing.length > 0)
      throw new SignalRejection([{ row: 1, message: `missing column(s): ${missing.join(', ')}` }]);
    const signals: SignalInput[] = records.map((r) => ({
      id: r.id || undefined,
      sku: r.sku,
      kind: r.kind as SignalKind,
      quantity: /^\d+$/.test(r.quantity) ? Number(r.quantity) : Number.NaN,
      date: r.date,
      channel: r.channel || undefined,
      region: r.region || undefined,
    }));
    // Row 1 is the header, so data row i is line i + 2.
    const errors = await validate(user, signals, 2);
    if (errors.length > 0 && !options.partial) throw new SignalRejection(errors);
    const bad = new Set(errors.map((e) => e.row - 2));
    const good = signals.filter((_, i) => !bad.has(i));
    const result = good.length > 0 ? await store(user, good, 'csv') : { received: 0, accepted: 0, duplicates: 0 };
    return { ...result, received: signals.length, rejected: bad.size, errors };
  }

  /**
   * The daily (or weekly) series of one node of the hierarchy (a SKU, product,
   * category or the whole brand) for the given kinds, zero-filled between
   * `from` and `to` (default: the brand's first and last signal days).
   */
  async function series(
    user: AuthUser,
    level: 'sku' | 'product' | 'category' | 'brand',
    key: string,
    options: {
      kinds?: readonly SignalKind[];
      interval?: 'day' | 'week' | 'month' | 'quarter';
      from?: string;
      to?: string;
    } = {},
  ): Promise<SeriesPoint[]> {
    const kinds = options.kinds ?? DEMAND_KINDS;
    const filter = {
      sku: 's.sku = $2',
      product: 's.product_id = $2',
      category: 'p.category_id = $2',
      brand: '$2::text IS NOT NULL',
    }[level];
    const known = await pool.query(
      `SELECT 1 FROM demand_skus s JOIN demand_products p ON p.brand_msp = s.brand_msp AND p.id = s.product_id
       WHERE s.brand_msp = $1 AND ${filter} LIMIT 1`,
      [user.mspId, key],
    );
    if (!known.rowCount) throw new CodedError(ErrorCodes.NOT_FOUND, `${level} ${key} not found`, 404);
    const span = await brandSpan(user.mspId);
    const from = options.from ?? span?.from;
    const to = options.to ?? span?.to;
    if (!from || !to) return [];
    // ISO weeks (Monday first), calendar months and quarters: the planning frequencies.
    const unit = options.interval && options.interval !== 'day' ? options.interval : undefined;
    const { rows } = await pool.query(
      `WITH days AS (
         SELECT d::date AS day FROM generate_series($3::date, $4::date, interval '1 day') d
       ), node AS (
         SELECT s.sku FROM demand_skus s JOIN demand_products p ON p.brand_msp = s.brand_msp AND p.id = s.product_id
         WHERE s.brand_msp = $1 AND ${filter}
       ), daily AS (
         SELECT days.day, COALESCE(SUM(q.quantity), 0)::bigint AS quantity FROM days
         LEFT JOIN demand_daily q ON q.brand_msp = $1 AND q.day = days.day AND q.kind = ANY($5)
           AND q.sku IN (SELECT sku FROM node)
         GROUP BY days.day
       )
       SELECT ${unit ? `date_trunc('${unit}', day)::date` : 'day'} AS date, SUM(quantity)::bigint AS quantity
       FROM daily GROUP BY 1 ORDER BY 1`,
      [user.mspId, key, from, to, kinds],
    );
    return rows.map((r) => ({ date: dayString(r.date), quantity: Number(r.quantity) }));
  }

  /** The first and last day with any signal of this brand. */
  async function brandSpan(brandMsp: string): Promise<{ from: string; to: string } | undefined> {
    const { rows } = await pool.query(
      `SELECT to_char(MIN(day), 'YYYY-MM-DD') AS from, to_char(MAX(day), 'YYYY-MM-DD') AS to
       FROM demand_daily WHERE brand_msp = $1`,
      [brandMsp],
    );
    return rows[0]?.from ? { from: rows[0].from, to: rows[0].to } : undefined;
  }

  return { upsertProducts, listProducts, recordSignals, uploadCsv, series, brandSpan };
}

export type DemandService = ReturnType<typeof createDemandService>;

/** Bad signals: the whole batch is rejected (400) and every problem is listed by row. */
export class SignalRejection extends CodedError {
  constructor(readonly errors: readonly RowError[]) {
    super(
      ErrorCodes.VALIDATION_FAILED,
      `${errors.length} problem(s) in the signals, first: row ${errors[0]?.row}: ${errors[0]?.message}`,
      400,
    );
  }
}
