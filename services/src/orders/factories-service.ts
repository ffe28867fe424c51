import { CodedError, ErrorCodes, Orgs } from '@c2m/shared';
import type pg from 'pg';
import type { AuthUser } from '../plugins/auth.js';
import type { CostSegment } from './solver.js';

/** What a factory tells the network about itself; the quality score is computed, never part of it. */
export interface FactoryProfile {
  name: string;
  location: { city: string; province?: string; lat?: number; lon?: number };
  capabilities: { categories: string[]; processes: string[]; materials: string[] };
  certificates: { name: string; number?: string; validUntil: string }[];
  /** Production lines; `id` matches the `line` devices are registered on. */
  lines: { id: string; name?: string; unitsPerDay: number; workDays?: number[] }[];
  /** Whole-factory shutdowns (Spring Festival, maintenance), inclusive dates. */
  shutdowns: { from: string; to: string; reason: string }[];
  /** Smallest run of one SKU the factory will set up for. */
  minBatch: number;
  /** Marginal unit cost by share of a week's capacity (overtime is dearer), increasing. */
  costCurve: CostSegment[];
}

export interface QualityScore {
  /** Share of anchored QC inspections passed first time; null without anchored QC events. */
  firstPassYield: number | null;
  /** Failed inspections per million units produced (anchored production counts). */
  defectPpm: number | null;
  inspections: number;
  unitsProduced: number;
  /** 0..1 used by dispatch: fpy × (1 − defect rate); a neutral prior without data. */
  score: number;
}

/** Score used for a factory with no anchored QC yet: neither rewarded nor written off. */
export const PRIOR_QUALITY_SCORE = 0.95;

const DEFAULT_WORK_DAYS = [1, 2, 3, 4, 5, 6];
const DAY_MS = 86_400_000;

/** Monday (UTC) of the week containing `d`. */
export function weekStart(d: Date): Date {
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const dow = (new Date(day).getUTCDay() + 6) % 7;
  return new Date(day - dow * DAY_MS);
}

export const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** Units per week over `weeks` weeks from `start` for the given lines, minus shutdown days. */
export function weeklyCapacity(
  profile: Pick<FactoryProfile, 'lines' | 'shutdowns'>,
  lineIds: readonly string[],
  start: Date,
  weeks: number,
): number[] {
  const lines = profile.lines.filter((l) => lineIds.includes(l.id));
  const shut = (day: string) => profile.shutdowns.some((s) => s.from <= day && day <= s.to);
  return Array.from({ length: weeks }, (_, w) => {
    let units = 0;
    for (let d = 0; d < 7; d++) {
      const date = new Date(start.getTime() + (w * 7 + d) * DAY_MS);
      const day = isoDay(date);
      if (shut(day)) continue;
      const isoDow = ((date.getUTCDay() + 6) % 7) + 1;
      for (const l of lines) if ((l.workDays ?? DEFAULT_WORK_DAYS).includes(isoDow)) units += l.unitsPerDay;
    }
    return units;
  });
}

/** 8 weeks of capacity: of all lines, and of the lines with a certified device (what dispatch counts). */
function capacityView(profile: FactoryProfile, devices: Map<string, number>, start: Date) {
  const all = weeklyCapacity(
    profile,
    profile.lines.map((l) => l.id),
    start,
    8,
  );
  const certified = weeklyCapacity(
    profile,
    profile.lines.filter((l) => (devices.get(l.id) ?? 0) > 0).map((l) => l.id),
    start,
    8,
  );
  return all.map((units, w) => ({
    week: isoDay(new Date(start.getTime() + w * 7 * DAY_MS)),
    units,
    certifiedUnits: certified[w] ?? 0,
  }));
}

/** The demo consortium's two sock factories: different costs, quality and calendars, both shut for Spring Festival. */
export const DemoProfiles: Record<string, FactoryProfile> = {
  [Orgs.factory1]: {
    // The org's own name (identity/src/consortium.ts): a factory has one name wherever it appears.
    name: 'Ningbo Sock Factory No. 1 / 宁波袜业一厂',
    location: { city: 'Ningbo', province: 'Zhejiang', lat: 29.82, lon: 121.55 },
    capabilities: {
      categories: ['socks', 'hosiery'],
      processes: ['knitting', 'linking', 'dyeing', 'boarding'],
      materials: ['cotton', 'merino wool 70%', 'nylon 27%', 'elastane 3%', 'merino 70%', 'polyester'],
    },
    certificates: [
      { name: 'ISO 9001', number: 'CN-QMS-2024-0117', validUntil: '2027-06-30' },
      { name: 'OEKO-TEX 100', number: 'OTS-21.HCN.44871', validUntil: '2027-03-31' },
    ],
    lines: [
      { id: 'line-1', name: 'Lonati knitting line', unitsPerDay: 1500 },
      { id: 'line-2', name: 'Santoni knitting line', unitsPerDay: 1000 },
    ],
    shutdowns: [{ from: '2027-01-31', to: '2027-02-14', reason: 'Spring Festival / 春节' }],
    minBatch: 200,
    costCurve: [
      { upToShare: 0.8, unitCostMinor: 820 },
      { upToShare: 1, unitCostMinor: 1010 },
    ],
  },
  [Orgs.factory2]: {
    name: 'Ningbo Sock Factory No. 2 / 宁波袜业二厂',
    location: { city: 'Ningbo', province: 'Zhejiang', lat: 29.87, lon: 121.62 },
    capabilities: {
      categories: ['socks', 'knitwear'],
      processes: ['knitting', 'linking', 'boarding'],
      materials: ['cotton', 'merino wool 70%', 'nylon 27%', 'elastane 3%', 'merino 70%'],
    },
    certificates: [
      { name: 'ISO 9001', number: 'CN-QMS-2023-0442', validUntil: '2027-12-31' },
      { name: 'OEKO-TEX 100', number: 'OTS-22.HCN.90233', validUntil: '2027-09-30' },
      { name: 'BSCI', validUntil: '2027-05-31' },
    ],
    lines: [{ id: 'line-1', name: 'Knitting hall A', unitsPerDay: 1200, workDays: [1, 2, 3, 4, 5, 6, 7] }],
    shutdowns: [{ from: '2027-02-03', to: '2027-02-17', reason: 'Spring Festival / 春节' }],
    minBatch: 300,
    costCurve: [
      { upToShare: 0.75, unitCostMinor: 860 },
      { upToShare: 1, unitCostMinor: 1090 },
    ],
  },
};

export interface FactoriesServiceDeps {
  readonly pool: pg.Pool;
  /** MSP ids of the factories in the consortium. */
  readonly factories: () => readonly string[];
}

export function validateProfile(p: FactoryProfile): void {
  const fail = (msg: string) => {
    throw new CodedError(ErrorCodes.VALIDATION_FAILED, msg);
  };
  let last = 0;
  for (const seg of p.costCurve) {
    if (seg.upToShare <= last || seg.upToShare > 1) fail('costCurve shares must increase and end at 1');
    last = seg.upToShare;
  }
  if (p.costCurve.length > 0 && last !== 1) fail('costCurve must end at upToShare 1');
  for (let i = 1; i < p.costCurve.length; i++) {
    // Convexity keeps the cost curve a linear program; a cheaper overtime segment would need integers.
    if ((p.costCurve[i]?.unitCostMinor ?? 0) < (p.costCurve[i - 1]?.unitCostMinor ?? 0))
      fail('costCurve unit costs must not decrease');
  }
  for (const s of p.shutdowns) if (s.from > s.to) fail(`shutdown ${s.from}..${s.to} ends before it starts`);
  const ids = new Set<string>();
  for (const l of p.lines) {
    if (ids.has(l.id)) fail(`duplicate line ${l.id}`);
    ids.add(l.id);
  }
}

/** Factory profiles, their capacity calendars and their computed quality scores. */
export function createFactoriesService(deps: FactoriesServiceDeps) {
  const { pool } = deps;

  async function seedDemoProfiles(): Promise<void> {
    for (const msp of deps.factories()) {
      const profile = DemoProfiles[msp];
      if (!profile) continue;
      await pool.query(
        `INSERT INTO factory_profiles (msp_id, profile, updated_by) VALUES ($1, $2, 'platform')
         ON CONFLICT (msp_id) DO NOTHING`,
        [msp, JSON.stringify(profile)],
      );
    }
  }

  async function qualityScores(mspIds: readonly string[], db: pg.Pool | pg.PoolClient = pool) {
    // Only events in anchored batches count: the score rests on records anyone can verify on the ledger.
    const { rows } = await db.query(
      `SELECT e.factory_msp,
         COUNT(*) FILTER (WHERE e.type = 'quality.measurement')::int AS inspections,
         COUNT(*) FILTER (WHERE e.type = 'quality.measurement' AND (e.data->>'pass')::boolean)::int AS passed,
         COALESCE(SUM((e.data->>'units')::bigint) FILTER (WHERE e.type = 'production.count'), 0)::bigint AS units
       FROM device_events e JOIN batches b ON b.batch_id = e.batch_id AND b.status = 'anchored'
       WHERE e.factory_msp = ANY($1)
       GROUP BY e.factory_msp`,
      [mspIds],
    );
    const out = new Map<string, QualityScore>();
    for (const msp of mspIds) {
      const r = rows.find((x) => x.factory_msp === msp);
      const inspections = Number(r?.inspections ?? 0);
      const passed = Number(r?.passed ?? 0);
      const units = Number(r?.units ?? 0);
      if (inspections === 0) {
        out.set(msp, {
          firstPassYield: null,
          defectPpm: null,
          inspections,
          unitsProduced: units,
          score: PRIOR_QUALITY_SCORE,
        });
        continue;
      }
      const fpy = passed / inspections;
      const ppm = ((inspections - passed) / Math.max(units, inspections)) * 1e6;
      out.set(msp, {
        firstPassYield: fpy,
        defectPpm: Math.round(ppm),
        inspections,
        unitsProduced: units,
        score: fpy * (1 - ppm / 1e6),
      });
    }
    return out;
  }

  async function loadProfiles(
    mspIds: readonly string[],
    db: pg.Pool | pg.PoolClient = pool,
  ): Promise<Map<string, { profile: FactoryProfile; version: number; updatedAt: string }>> {
    const { rows } = await db.query('SELECT * FROM factory_profiles WHERE msp_id = ANY($1)', [mspIds]);
    return new Map(
      rows.map((r) => [
        r.msp_id as string,
        { profile: r.profile as FactoryProfile, version: r.version as number, updatedAt: String(r.updated_at) },
      ]),
    );
  }

  /** Lines with at least one certified device, per factory. */
  async function certifiedLines(mspIds: readonly string[], db: pg.Pool | pg.PoolClient = pool) {
    const { rows } = await db.query(
      `SELECT factory_msp, line, COUNT(*)::int AS n FROM devices
       WHERE factory_msp = ANY($1) AND status = 'CERTIFIED'
         AND (certified_until IS NULL OR certified_until > now())
       GROUP BY factory_msp, line`,
      [mspIds],
    );
    const out = new Map<string, Map<string, number>>();
    for (const r of rows) {
      const m = out.get(r.factory_msp) ?? new Map<string, number>();
      m.set(r.line, r.n);
      out.set(r.factory_msp, m);
    }
    return out;
  }

  function assertKnown(mspId: string) {
    if (!deps.factories().includes(mspId))
      throw new CodedError(ErrorCodes.NOT_FOUND, `factory ${mspId} not found`, 404);
  }

  async function getProfile(user: AuthUser, mspId: string) {
    assertKnown(mspId);
    // A factory reads its own profile; brands and the platform read any (they choose and dispatch).
    if (user.orgKind === 'factory' && user.mspId !== mspId)
      throw new CodedError(ErrorCodes.NOT_FOUND, `factory ${mspId} not found`, 404);
    const profiles = await loadProfiles([mspId]);
    const entry = profiles.get(mspId);
    if (!entry) throw new CodedError(ErrorCodes.NOT_FOUND, `factory ${mspId} has no profile yet`, 404);
    const quality = (await qualityScores([mspId])).get(mspId) as QualityScore;
    const devices = (await certifiedLines([mspId])).get(mspId) ?? new Map<string, number>();
    const start = weekStart(new Date());
    return {
      mspId,
      version: entry.version,
      updatedAt: new Date(entry.updatedAt).toISOString(),
      profile: entry.profile,
      quality,
      lines: entry.profile.lines.map((l) => ({ id: l.id, certifiedDevices: devices.get(l.id) ?? 0 })),
      capacity: capacityView(entry.profile, devices, start),
    };
  }

  async function putProfile(user: AuthUser, mspId: string, profile: FactoryProfile, ifMatch?: number) {
    assertKnown(mspId);
    if (user.mspId !== mspId) throw new CodedError(ErrorCodes.FORBIDDEN, 'a factory edits only its own profile', 403);
    validateProfile(profile);
    const { rows } = await pool.query(
      `INSERT INTO factory_profiles (msp_id, profile, updated_by) VALUES ($1, $2, $3)
       ON CONFLICT (msp_id) DO UPDATE SET profile = EXCLUDED.profile, updated_by = EXCLUDED.updated_by,
         version = factory_profiles.version + 1, updated_at = now()
       WHERE $4::int IS NULL OR factory_profiles.version = $4
       RETURNING version`,
      [mspId, JSON.stringify(profile), user.username, ifMatch ?? null],
    );
    if (!rows[0])
      throw new CodedError(ErrorCodes.CONFLICT, `profile of ${mspId} changed since version ${ifMatch}`, 412);
    return getProfile(user, mspId);
  }

  async function listFactories() {
    const ids = deps.factories();
    const profiles = await loadProfiles(ids);
    const quality = await qualityScores(ids);
    return ids.map((mspId) => ({
      mspId,
      name: profiles.get(mspId)?.profile.name ?? null,
      city: profiles.get(mspId)?.profile.location.city ?? null,
      categories: profiles.get(mspId)?.profile.capabilities.categories ?? [],
      quality: quality.get(mspId) as QualityScore,
    }));
  }

  return { seedDemoProfiles, qualityScores, loadProfiles, certifiedLines, getProfile, putProfile, listFactories };
}

export type FactoriesService = ReturnType<typeof createFactoriesService>;
