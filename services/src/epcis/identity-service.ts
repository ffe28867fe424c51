import { CodedError, ErrorCodes } from '@c2m/shared';
import type pg from 'pg';
import { withTransaction } from '../db/database.js';
import {
  computeGln,
  computeSscc,
  parseGln,
  parseGlnExtension,
  parseGtin,
  sglnKey,
  toDigitalLink,
  withCheckDigit,
} from '../gs1/index.js';
import type { AuthUser } from '../plugins/auth.js';
import { lgtinUri, sgtinUri } from './from-device.js';

/**
 * Product identity on GS1 keys: each org's company prefix, a GTIN per brand SKU, the locations (GLN / SGLN) an
 * org owns, lots and serial ranges allocated to a work order when its factory starts it, and SSCCs for cartons
 * and pallets. Every key is checked (digits, length, check digit, the owner's prefix) before it is stored; the
 * lots also go to the ledger (the chaincode's StartProduction, through the outbox).
 */

const bad = (message: string) => new CodedError(ErrorCodes.VALIDATION_FAILED, message, 400);

/** Whether a key (GTIN-14 without its indicator digit, GLN, SSCC without its extension digit) is from `prefix`. */
function ownedBy(key: string, prefix: string): boolean {
  return key.startsWith(prefix);
}

export const glnUri = (gln: string, extension = '') => toDigitalLink(sglnKey(gln, extension || undefined));
export const ssccUri = (sscc: string) => toDigitalLink({ kind: 'sscc', sscc });

/** The GTIN-14 of item reference `ref` under `prefix` (indicator digit 0). */
function gtinOf(prefix: string, ref: number): string {
  const room = 12 - prefix.length;
  if (String(ref).length > room) {
    throw new CodedError(ErrorCodes.INVALID_STATE, `company prefix ${prefix} has no item reference ${ref} left`, 409);
  }
  return withCheckDigit(`0${prefix}${String(ref).padStart(room, '0')}`);
}

export interface Gs1Product {
  gtin: string;
  sku: string;
  name: string;
  uri: string;
}
export interface Gs1Location {
  uri: string;
  gln: string;
  extension: string;
  kind: string;
  name: string;
  parentUri: string | null;
  line: string | null;
}
export interface WorkOrderLot {
  gtin: string;
  lot: string;
  quantity: number;
  serialFrom: number;
  serialTo: number;
  nextSerial: number;
  uri: string;
  firstSerialUri: string;
}

/** The lot code a work order's units carry: its date and id suffix, within GS1 AI (10)'s 20 characters. */
export function lotCode(workOrderId: string): string {
  const m = /^[A-Z]+-(\d{8})-([0-9a-f]+)$/.exec(workOrderId);
  const code = m ? `L${m[1]?.slice(2)}-${m[2]?.toUpperCase()}` : `L${workOrderId.replace(/[^A-Za-z0-9]/g, '')}`;
  return code.slice(0, 20);
}

export function createIdentityService(deps: { pool: pg.Pool }) {
  const { pool } = deps;

  async function prefixOf(client: pg.Pool | pg.PoolClient, mspId: string): Promise<string | undefined> {
    const { rows } = await client.query('SELECT company_prefix FROM gs1_company_prefixes WHERE msp_id = $1', [mspId]);
    return rows[0]?.company_prefix as string | undefined;
  }

  async function requirePrefix(client: pg.Pool | pg.PoolClient, mspId: string): Promise<string> {
    const p = await prefixOf(client, mspId);
    if (!p) {
      throw new CodedError(
        ErrorCodes.INVALID_STATE,
        `${mspId} has no GS1 company prefix yet: set one (PUT /gs1/company-prefix)`,
        409,
      );
    }
    return p;
  }

  async function setCompanyPrefix(user: AuthUser, companyPrefix: string) {
    if (!/^[0-9]{6,12}$/.test(companyPrefix)) throw bad('companyPrefix must be 6 to 12 digits');
    return withTransaction(pool, async (client) => {
      const current = await prefixOf(client, user.mspId);
      if (current === companyPrefix) return { mspId: user.mspId, companyPrefix };
      const { rows: used } = await client.query(
        `SELECT 1 FROM gs1_products WHERE brand_msp = $1 UNION ALL SELECT 1 FROM gs1_locations WHERE owner_msp = $1 LIMIT 1`,
        [user.mspId],
      );
      if (current && used.length > 0) {
        throw new CodedError(
          ErrorCodes.INVALID_STATE,
          `${user.mspId}'s keys are issued from prefix ${current}; it cannot change`,
          409,
        );
      }
      const { rows: taken } = await client.query(
        `SELECT msp_id FROM gs1_company_prefixes WHERE msp_id <> $1
           AND (company_prefix LIKE $2 || '%' OR $2 LIKE company_prefix || '%')`,
        [user.mspId, companyPrefix],
      );
      if (taken.length > 0) {
        throw new CodedError(ErrorCodes.CONFLICT, `company prefix ${companyPrefix} overlaps another org's`, 409);
      }
      await client.query(
        `INSERT INTO gs1_company_prefixes (msp_id, company_prefix, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (msp_id) DO UPDATE SET company_prefix = $2, updated_by = $3, updated_at = now()`,
        [user.mspId, companyPrefix, user.username],
      );
      return { mspId: user.mspId, companyPrefix };
    });
  }

  const productView = (r: Record<string, unknown>): Gs1Product => ({
    gtin: r.gtin as string,
    sku: r.sku as string,
    name: r.name as string,
    uri: toDigitalLink({ kind: 'gtin', gtin: r.gtin as string }),
  });

  async function listProducts(user: AuthUser): Promise<Gs1Product[]> {
    const { rows } = await pool.query('SELECT * FROM gs1_products WHERE brand_msp = $1 ORDER BY sku', [user.mspId]);
    return rows.map(productView);
  }

  /** A GTIN for one of the brand's SKUs: the one given (checked, from its prefix) or the next free one. */
  async function assignGtin(user: AuthUser, input: { sku: string; gtin?: string; name?: string }) {
    return withTransaction(pool, async (client) => {
      const prefix = await requirePrefix(client, user.mspId);
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`gtin:${user.mspId}`]);
      const { rows: existing } = await client.query('SELECT * FROM gs1_products WHERE brand_msp = $1 AND sku = $2', [
        user.mspId,
        input.sku,
      ]);
      if (existing[0]) {
        if (input.gtin && parseGtin(input.gtin) !== existing[0].gtin) {
          throw new CodedError(ErrorCodes.CONFLICT, `SKU ${input.sku} already has GTIN ${existing[0].gtin}`, 409);
        }
        return productView(existing[0]);
      }
      let gtin: string;
      if (input.gtin) {
        gtin = parseGtin(input.gtin);
        if (!ownedBy(gtin.slice(1), prefix)) {
          throw bad(`GTIN ${gtin} is not from ${user.mspId}'s company prefix ${prefix}`);
        }
      } else {
        const { rows } = await client.query('SELECT count(*)::int AS n FROM gs1_products WHERE brand_msp = $1', [
          user.mspId,
        ]);
        let ref = (rows[0].n as number) + 1;
        for (;;) {
          gtin = gtinOf(prefix, ref);
          const { rows: clash } = await client.query('SELECT 1 FROM gs1_products WHERE gtin = $1', [gtin]);
          if (clash.length === 0) break;
          ref++;
        }
      }
      const { rows: taken } = await client.query('SELECT sku FROM gs1_products WHERE gtin = $1', [gtin]);
      if (taken[0]) throw new CodedError(ErrorCodes.CONFLICT, `GTIN ${gtin} is already SKU ${taken[0].sku}'s`, 409);
      const { rows } = await client.query(
        'INSERT INTO gs1_products (gtin, brand_msp, sku, name) VALUES ($1, $2, $3, $4) RETURNING *',
        [gtin, user.mspId, input.sku, input.name ?? ''],
      );
      return productView(rows[0]);
    });
  }

  const locationView = (r: Record<string, unknown>): Gs1Location => ({
    uri: r.uri as string,
    gln: r.gln as string,
    extension: r.extension as string,
    kind: r.kind as string,
    name: r.name as string,
    parentUri: (r.parent_uri as string | null) ?? null,
    line: (r.line as string | null) ?? null,
  });

  async function listLocations(user: AuthUser): Promise<Gs1Location[]> {
    const { rows } = await pool.query('SELECT * FROM gs1_locations WHERE owner_msp = $1 ORDER BY uri', [user.mspId]);
    return rows.map(locationView);
  }

  /**
   * Registers a site, line or warehouse: a GLN of the org's prefix (given and checked, or the next free one),
   * or an SGLN extension of one of its GLNs. A line names the `line` its devices report, which places their
   * events at it.
   */
  async function addLocation(
    user: AuthUser,
    input: { kind: string; name?: string; gln?: string; extension?: string; parentUri?: string; line?: string },
  ): Promise<Gs1Location> {
    const extension = input.extension ? parseGlnExtension(input.extension) : '';
    return withTransaction(pool, async (client) => {
      const prefix = await requirePrefix(client, user.mspId);
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`gln:${user.mspId}`]);
      let parent: Record<string, unknown> | undefined;
      if (input.parentUri) {
        const { rows } = await client.query('SELECT * FROM gs1_locations WHERE uri = $1 AND owner_msp = $2', [
          input.parentUri,
          user.mspId,
        ]);
        parent = rows[0];
        if (!parent) throw new CodedError(ErrorCodes.NOT_FOUND, `no location ${input.parentUri} of yours`, 404);
      }
      let gln: string;
      if (input.gln) {
        gln = parseGln(input.gln);
        if (!ownedBy(gln, prefix)) throw bad(`GLN ${gln} is not from ${user.mspId}'s company prefix ${prefix}`);
      } else if (extension && parent) {
        gln = parent.gln as string;
      } else {
        const { rows } = await client.query(
          `SELECT count(DISTINCT gln)::int AS n FROM gs1_locations WHERE owner_msp = $1`,
          [user.mspId],
        );
        let ref = (rows[0].n as number) + 1;
        for (;;) {
          gln = computeGln(prefix, ref);
          const { rows: clash } = await client.query('SELECT 1 FROM gs1_locations WHERE gln = $1', [gln]);
          if (clash.length === 0) break;
          ref++;
        }
      }
      const uri = glnUri(gln, extension);
      const { rows: clash } = await client.query('SELECT owner_msp FROM gs1_locations WHERE uri = $1', [uri]);
      if (clash[0]) throw new CodedError(ErrorCodes.CONFLICT, `location ${uri} is already registered`, 409);
      if (input.line) {
        const { rows: lineClash } = await client.query(
          'SELECT uri FROM gs1_locations WHERE owner_msp = $1 AND line = $2',
          [user.mspId, input.line],
        );
        if (lineClash[0]) {
          throw new CodedError(ErrorCodes.CONFLICT, `line ${input.line} is already at ${lineClash[0].uri}`, 409);
        }
      }
      const { rows } = await client.query(
        `INSERT INTO gs1_locations (uri, gln, extension, owner_msp, kind, name, parent_uri, line)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING *`,
        [uri, gln, extension, user.mspId, input.kind, input.name ?? '', input.parentUri ?? null, input.line ?? null],
      );
      return locationView(rows[0]);
    });
  }

  const lotView = (r: Record<string, unknown>): WorkOrderLot => ({
    gtin: r.gtin as string,
    lot: r.lot as string,
    quantity: r.quantity as number,
    serialFrom: Number(r.serial_from),
    serialTo: Number(r.serial_to),
    nextSerial: Number(r.next_serial),
    uri: lgtinUri(r.gtin as string, r.lot as string),
    firstSerialUri: sgtinUri(r.gtin as string, Number(r.serial_from)),
  });

  async function workOrderFor(client: pg.Pool | pg.PoolClient, user: AuthUser, workOrderId: string) {
    const { rows } = await client.query('SELECT * FROM work_orders WHERE id = $1', [workOrderId]);
    const wo = rows[0];
    const party = wo && (wo.brand_msp === user.mspId || wo.factory_msp === user.mspId || user.orgKind === 'platform');
    if (!party) throw new CodedError(ErrorCodes.WORK_ORDER_NOT_FOUND, `work order ${workOrderId} not found`, 404);
    return wo;
  }

  async function lots(user: AuthUser, workOrderId: string): Promise<WorkOrderLot[]> {
    await workOrderFor(pool, user, workOrderId);
    const { rows } = await pool.query('SELECT * FROM work_order_lots WHERE work_order_id = $1 ORDER BY gtin, lot', [
      workOrderId,
    ]);
    return rows.map(lotView);
  }

  /**
   * The factory starts a work order: one lot per SKU of its offer, serials from each GTIN's counter. The
   * brand's SKUs get GTINs from its prefix where they have none. Stored with the ledger's StartProduction in
   * the outbox (same transaction); starting again returns the same lots.
   */
  async function start(
    user: AuthUser,
    workOrderId: string,
  ): Promise<{ lots: WorkOrderLot[]; outboxId: number | null }> {
    return withTransaction(pool, async (client) => {
      const wo = await workOrderFor(client, user, workOrderId);
      if (wo.factory_msp !== user.mspId) {
        throw new CodedError(ErrorCodes.FORBIDDEN, `only ${wo.factory_msp} may start ${workOrderId}`, 403);
      }
      await client.query('SELECT 1 FROM work_orders WHERE id = $1 FOR UPDATE', [workOrderId]);
      const { rows: have } = await client.query('SELECT * FROM work_order_lots WHERE work_order_id = $1', [
        workOrderId,
      ]);
      if (have.length > 0) return { lots: have.map(lotView), outboxId: null };
      if (wo.status !== 'committed' || !wo.ledger_tx_id) {
        throw new CodedError(
          ErrorCodes.INVALID_STATE,
          `work order ${workOrderId} is ${wo.status}: production starts once it is accepted on the ledger and before any milestone`,
          409,
        );
      }
      const { rows: offer } = await client.query('SELECT lines FROM offers WHERE id = $1', [wo.offer_id]);
      const perSku = new Map<string, number>();
      for (const l of (offer[0]?.lines ?? []) as { sku: string; quantity: number }[]) {
        perSku.set(l.sku, (perSku.get(l.sku) ?? 0) + l.quantity);
      }
      if (perSku.size === 0) perSku.set(wo.product as string, wo.quantity as number);
      const lot = lotCode(workOrderId);
      const out: Record<string, unknown>[] = [];
      for (const [sku, quantity] of [...perSku].sort(([a], [b]) => a.localeCompare(b))) {
        let { rows: product } = await client.query('SELECT gtin FROM gs1_products WHERE brand_msp = $1 AND sku = $2', [
          wo.brand_msp,
          sku,
        ]);
        if (!product[0]) {
          const prefix = await prefixOf(client, wo.brand_msp);
          if (!prefix) {
            throw new CodedError(
              ErrorCodes.INVALID_STATE,
              `SKU ${sku} has no GTIN and ${wo.brand_msp} has no GS1 company prefix to issue one from`,
              409,
            );
          }
          const { rows: n } = await client.query('SELECT count(*)::int AS n FROM gs1_products WHERE brand_msp = $1', [
            wo.brand_msp,
          ]);
          let ref = (n[0].n as number) + 1;
          let gtin = gtinOf(prefix, ref);
          while ((await client.query('SELECT 1 FROM gs1_products WHERE gtin = $1', [gtin])).rows.length > 0) {
            gtin = gtinOf(prefix, ++ref);
          }
          ({ rows: product } = await client.query(
            'INSERT INTO gs1_products (gtin, brand_msp, sku) VALUES ($1, $2, $3) RETURNING gtin',
            [gtin, wo.brand_msp, sku],
          ));
        }
        const gtin = product[0].gtin as string;
        const { rows: counter } = await client.query(
          `INSERT INTO gs1_serial_counters (gtin, next_serial) VALUES ($1, 1 + $2)
           ON CONFLICT (gtin) DO UPDATE SET next_serial = gs1_serial_counters.next_serial + $2
           RETURNING next_serial - $2 AS first`,
          [gtin, quantity],
        );
        const first = Number(counter[0].first);
        const { rows: inserted } = await client.query(
          `INSERT INTO work_order_lots (work_order_id, gtin, lot, quantity, serial_from, serial_to, next_serial)
           VALUES ($1, $2, $3, $4, $5, $6, $5) RETURNING *`,
          [workOrderId, gtin, lot, quantity, first, first + quantity - 1],
        );
        out.push(inserted[0]);
      }
      const views = out.map(lotView);
      const { rows: outbox } = await client.query(
        `INSERT INTO ledger_outbox (kind, ref, payload) VALUES ('start-production', $1, $2) RETURNING id`,
        [
          workOrderId,
          JSON.stringify({
            username: user.username,
            lots: views.map((l) => ({
              gtin: l.gtin,
              lot: l.lot,
              quantity: l.quantity,
              serialFrom: l.serialFrom,
              serialTo: l.serialTo,
            })),
          }),
        ],
      );
      return { lots: views, outboxId: outbox[0].id as number };
    });
  }

  /** SSCCs (extension digit 0) from the org's prefix, for cartons and pallets it packs. */
  async function allocateSscc(user: AuthUser, count: number): Promise<{ sscc: string; uri: string }[]> {
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw bad('count must be 1 to 1000');
    return withTransaction(pool, async (client) => {
      const prefix = await requirePrefix(client, user.mspId);
      const { rows } = await client.query(
        `INSERT INTO gs1_sscc_counters (msp_id, next_reference) VALUES ($1, 1 + $2)
         ON CONFLICT (msp_id) DO UPDATE SET next_reference = gs1_sscc_counters.next_reference + $2
         RETURNING next_reference - $2 AS first`,
        [user.mspId, count],
      );
      const first = Number(rows[0].first);
      return Array.from({ length: count }, (_, i) => {
        const sscc = computeSscc(prefix, 0, first + i);
        return { sscc, uri: ssccUri(sscc) };
      });
    });
  }

  return {
    prefixOf: (mspId: string) => prefixOf(pool, mspId),
    setCompanyPrefix,
    listProducts,
    assignGtin,
    listLocations,
    addLocation,
    lots,
    start,
    allocateSscc,
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
