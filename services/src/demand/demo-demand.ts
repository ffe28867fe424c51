import type { Logger } from 'pino';
import { festivalCalendar } from './holidays.js';

/** The demo brand's catalogue: variants of three products, one of them with sparse, intermittent demand. */
const CATALOGUE = [
  {
    id: 'MCS',
    name: 'Merino crew sock / 美利奴羊毛中筒袜',
    category: { id: 'HOSIERY', name: 'Hosiery / 袜类' },
    season: 'winter',
    skus: [
      { sku: 'MCS-GRY-M', colour: 'grey', size: 'M', material: 'merino', base: 60 },
      { sku: 'MCS-GRY-L', colour: 'grey', size: 'L', material: 'merino', base: 40 },
      { sku: 'MCS-NVY-M', colour: 'navy', size: 'M', material: 'merino', base: 45 },
      { sku: 'MCS-NVY-L', colour: 'navy', size: 'L', material: 'merino', base: 25 },
    ],
  },
  {
    id: 'CTT',
    name: 'Cotton tee / 纯棉T恤',
    category: { id: 'TOPS', name: 'Tops / 上衣' },
    season: 'summer',
    skus: [
      { sku: 'CTT-WHT-M', colour: 'white', size: 'M', material: 'cotton', base: 80 },
      { sku: 'CTT-BLK-M', colour: 'black', size: 'M', material: 'cotton', base: 55 },
      { sku: 'CTT-BLK-L', colour: 'black', size: 'L', material: 'cotton', base: 30 },
    ],
  },
  {
    id: 'LWS',
    name: 'Lambswool scarf / 羊羔毛围巾',
    category: { id: 'ACCESSORIES', name: 'Accessories / 配饰' },
    season: 'winter',
    skus: [{ sku: 'LWS-RED-OS', colour: 'red', size: 'one size', material: 'lambswool', base: 0.6 }],
  },
] as const;

const CHANNELS = ['tmall', 'jd', 'douyin'] as const;
const REGIONS = ['CN-ZJ', 'CN-GD', 'CN-JS', 'CN-SH'] as const;
const WEEKDAY = [1.35, 0.9, 0.85, 0.9, 1.0, 1.2, 1.45]; // Sunday first: weekends sell more online
const DAY_MS = 86_400_000;

/** Seeded, so a re-run regenerates the same signals and the upload is a no-op. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson draw (Knuth for small means, normal approximation for large). */
function poisson(r: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) {
    const z = Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > l);
  return k - 1;
}

/**
 * Two years of plausible daily signals up to yesterday: weekly rhythm, a
 * season per product, growth, the festival spikes (Double 11, 618, Double 12)
 * and the Spring Festival stock-up and lull; sales, pre-orders, wish-lists and
 * returns over three channels. As CSV, the way a brand would upload an export.
 */
export function demoSignalsCsv(days = 730, end = new Date(Date.now() - DAY_MS)): string {
  const last = Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate());
  const first = last - (days - 1) * DAY_MS;
  const festivals = festivalCalendar(new Date(first).getUTCFullYear(), new Date(last).getUTCFullYear());
  const lift = (t: number) => {
    let f = 1;
    for (const o of festivals) {
      const d = Math.round((t - Date.parse(`${o.day}T00:00:00Z`)) / DAY_MS);
      if (o.name === 'double_11') f *= d === 0 ? 5 : d >= -3 && d < 0 ? 2 : 1;
      if (o.name === '618') f *= d === 0 ? 3 : d >= -3 && d < 0 ? 1.6 : 1;
      if (o.name === 'double_12') f *= d === 0 ? 2 : d === -1 ? 1.3 : 1;
      if (o.name === 'spring_festival') f *= d >= -10 && d < -2 ? 1.3 : d >= -2 && d <= 7 ? 0.35 : 1;
    }
    return f;
  };
  const rows = ['sku,kind,quantity,date,channel,region'];
  let seed = 1;
  for (const product of CATALOGUE) {
    for (const s of product.skus) {
      const r = rng(seed++);
      for (let t = first; t <= last; t += DAY_MS) {
        const date = new Date(t).toISOString().slice(0, 10);
        const i = (t - first) / DAY_MS;
        const dayOfYear = (t - Date.UTC(new Date(t).getUTCFullYear(), 0, 1)) / DAY_MS;
        // Peak mid-January for winter goods, mid-July for summer goods.
        const phase = product.season === 'winter' ? 15 : 196;
        const season = 1 + 0.45 * Math.cos((2 * Math.PI * (dayOfYear - phase)) / 365.25);
        const mean = s.base * (1 + (0.35 * i) / days) * season * WEEKDAY[new Date(t).getUTCDay()] * lift(t);
        const channel = CHANNELS[i % CHANNELS.length];
        const region = REGIONS[Math.floor(r() * REGIONS.length)];
        const sales = poisson(r, mean * 0.85);
        const pre = poisson(r, mean * 0.15);
        const wish = poisson(r, mean * 0.6);
        const returns = poisson(r, mean * 0.04);
        if (sales) rows.push(`${s.sku},sale,${sales},${date},${channel},${region}`);
        if (pre) rows.push(`${s.sku},pre_order,${pre},${date},${channel},${region}`);
        if (wish) rows.push(`${s.sku},wishlist,${wish},${date},${channel},${region}`);
        if (returns) rows.push(`${s.sku},return,${returns},${date},${channel},${region}`);
      }
    }
  }
  return `${rows.join('\n')}\n`;
}

async function call<T>(
  baseUrl: string,
  method: string,
  path: string,
  token: string | undefined,
  body?: string,
  type = 'application/json',
): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': type } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
  });
  const json = (await res.json()) as T & { message?: string };
  if (!res.ok) throw new Error(`demo: ${method} ${path}: ${res.status} ${json.message ?? ''}`);
  return json;
}

/**
 * Loads the demo brand's catalogue and two years of signals through the API
 * and starts a first forecast run, so the forecast page has a chart. Safe to
 * run again: the upload is idempotent and a run is started only if none exists.
 */
export async function loadDemandDemo(options: { baseUrl: string; password: string; log: Logger }): Promise<void> {
  const { baseUrl, log } = options;
  const { token } = await call<{ token: string }>(
    baseUrl,
    'POST',
    '/api/auth/login',
    undefined,
    JSON.stringify({ username: 'brand', password: options.password }),
  );
  await call(
    baseUrl,
    'PUT',
    '/api/demand/products',
    token,
    JSON.stringify({
      products: CATALOGUE.map((p) => ({
        id: p.id,
        name: p.name,
        category: p.category,
        skus: p.skus.map(({ sku, colour, size, material }) => ({ sku, colour, size, material })),
      })),
    }),
  );
  const upload = await call<{ accepted: number; duplicates: number }>(
    baseUrl,
    'POST',
    '/api/demand/signals.csv',
    token,
    demoSignalsCsv(),
    'text/csv',
  );
  log.info(upload, 'demo: brand uploads two years of demand signals');
  const runs = await call<{ items: unknown[] }>(baseUrl, 'GET', '/api/demand/forecasts', token);
  if (runs.items.length === 0) {
    const run = await call<{ id: string }>(
      baseUrl,
      'POST',
      '/api/demand/forecasts',
      token,
      JSON.stringify({ horizonDays: 84 }),
    );
    log.info({ runId: run.id }, 'demo: first forecast run started');
  }
}
