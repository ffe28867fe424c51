import { createHash } from 'node:crypto';
import { CodedError, canonicalJson, ErrorCodes } from '@c2m/shared';
import type pg from 'pg';
import { maySeeWorkOrder } from '../auth/work-order-access.js';
import { withTransaction } from '../db/database.js';
import { newId } from '../ids.js';
import type { AuthUser } from '../plugins/auth.js';
import type { OfferExplanation } from './explanation.js';

export interface OrderLine {
  readonly sku: string;
  readonly colour?: string;
  readonly size?: string;
  readonly quantity: number;
}

export interface NewOrder {
  readonly product: string;
  readonly lines: readonly OrderLine[];
  readonly spec?: {
    category?: string;
    processes?: string[];
    materials?: string[];
    requiredCertificates?: string[];
    notes?: string;
    /** Quantities by variant and ISO week, e.g. from a demand forecast. */
    schedule?: { week: string; sku: string; quantity: number }[];
  };
  readonly targetPriceMinor: number;
  readonly currency: string;
  readonly dueDate: string;
  readonly shipTo: string;
}

export const OrderStatuses = {
  /** Not yet posted: a brand's plan (e.g. from a forecast); not dispatched. */
  draft: 'draft',
  posted: 'posted',
  dispatching: 'dispatching',
  offered: 'offered',
  partlyAccepted: 'partly_accepted',
  accepted: 'accepted',
  inProduction: 'in_production',
  shipped: 'shipped',
  delivered: 'delivered',
  closed: 'closed',
  cancelled: 'cancelled',
} as const;

export type OrderStatus = (typeof OrderStatuses)[keyof typeof OrderStatuses];

/** An offer is open until its factory decides, it expires, or the order's edit or cancellation withdraws it. */
export const OfferStatuses = ['open', 'accepted', 'declined', 'expired', 'withdrawn'] as const;
export type OfferStatus = (typeof OfferStatuses)[number];

export const DeclineReasons = ['capacity', 'material', 'price', 'other'] as const;
export type DeclineReason = (typeof DeclineReasons)[number];

/**
 * A work order's status in the platform's read model, in lifecycle order: `committing` from the factory's
 * acceptance until the ledger outbox has committed it and recorded the factory's acceptance (then `committed`;
 * the ledger record says ACCEPTED), then one status per milestone recorded on the ledger.
 */
export const WorkOrderStatuses = {
  committing: 'committing',
  committed: 'committed',
  produced: 'produced',
  qcPassed: 'qc_passed',
  shipped: 'shipped',
  delivered: 'delivered',
} as const;
export type WorkOrderStatus = (typeof WorkOrderStatuses)[keyof typeof WorkOrderStatuses];

export interface Order {
  id: string;
  brandMspId: string;
  product: string;
  lines: OrderLine[];
  spec: Record<string, unknown>;
  totalQuantity: number;
  targetPriceMinor: number;
  currency: string;
  dueDate: string;
  shipTo: string;
  status: OrderStatus;
  /** Increases with every edit; send it back as If-Match to edit. */
  version: number;
  createdAt: string;
}

/** Fields a brand may change after posting; each change is a new version of the order. */
export interface OrderEdit {
  readonly lines?: readonly OrderLine[];
  readonly spec?: NewOrder['spec'];
  readonly targetPriceMinor?: number;
  readonly dueDate?: string;
  readonly shipTo?: string;
}

/** Statuses in which an order may still be edited or cancelled: nothing accepted yet. */
const EDITABLE: readonly string[] = ['draft', 'posted', 'dispatching', 'offered'];

export interface Offer {
  id: string;
  orderId: string;
  factoryMspId: string;
  product: string;
  quantity: number;
  lines: OrderLine[];
  priceMinor: number;
  currency: string;
  dueDate: string;
  status: OfferStatus;
  expiresAt: string;
  declineReason: DeclineReason | null;
  /** Units per week and SKU, as the solver planned them. */
  schedule: { week: string; sku: string; colour?: string; size?: string; quantity: number }[];
  /** Why this factory and what bound the allocation. */
  explanation: OfferExplanation | null;
}

export interface WorkOrder {
  id: string;
  orderId: string;
  offerId: string;
  brandMspId: string;
  factoryMspId: string;
  product: string;
  quantity: number;
  status: WorkOrderStatus;
  producedUnits: number;
  termsHash: string;
  ledger: { txId: string; blockNumber: number } | null;
  acceptedAt: string;
}

type Row = Record<string, unknown>;
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
const day = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v));

export function toOrder(r: Row): Order {
  return {
    id: r.id as string,
    brandMspId: r.brand_msp as string,
    product: r.product as string,
    lines: r.lines as OrderLine[],
    spec: r.spec as Record<string, unknown>,
    totalQuantity: r.total_quantity as number,
    targetPriceMinor: r.target_price_minor as number,
    currency: r.currency as string,
    dueDate: day(r.due_date),
    shipTo: r.ship_to as string,
    status: r.status as OrderStatus,
    version: Number(r.version ?? 1),
    createdAt: iso(r.created_at),
  };
}

export function toOffer(r: Row): Offer {
  return {
    id: r.id as string,
    orderId: r.order_id as string,
    factoryMspId: r.factory_msp as string,
    product: r.product as string,
    quantity: r.quantity as number,
    lines: r.lines as OrderLine[],
    priceMinor: r.price_minor as number,
    currency: r.currency as string,
    dueDate: day(r.due_date),
    status: r.status as OfferStatus,
    expiresAt: iso(r.expires_at),
    declineReason: (r.decline_reason as DeclineReason | null) ?? null,
    schedule: (r.schedule as Offer['schedule'] | undefined) ?? [],
    explanation: (r.explanation as OfferExplanation | null | undefined) ?? null,
  };
}

export function toWorkOrder(r: Row): WorkOrder {
  return {
    id: r.id as string,
    orderId: r.order_id as string,
    offerId: r.offer_id as string,
    brandMspId: r.brand_msp as string,
    factoryMspId: r.factory_msp as string,
    product: r.product as string,
    quantity: r.quantity as number,
    status: r.status as WorkOrderStatus,
    producedUnits: Number(r.produced_units ?? 0),
    termsHash: r.terms_hash as string,
    ledger: r.ledger_tx_id ? { txId: r.ledger_tx_id as string, blockNumber: Number(r.ledger_block) } : null,
    acceptedAt: iso(r.accepted_at),
  };
}

const OFFER_SELECT = `SELECT f.*, o.product, o.currency FROM offers f JOIN orders o ON o.id = f.order_id`;
export const WORK_ORDER_SELECT = `SELECT w.*, COALESCE((
    SELECT SUM((e.data->>'units')::bigint) FROM device_events e
    WHERE e.work_order_id = w.id AND e.factory_msp = w.factory_msp AND e.type = 'production.count'), 0) AS produced_units
  FROM work_orders w`;

/** Sha-256 of the canonical terms: what the ledger holds in place of the commercial terms. */
export function termsHash(terms: unknown): string {
  return createHash('sha256').update(canonicalJson(terms)).digest('hex');
}

export interface OrdersServiceDeps {
  readonly pool: pg.Pool;
  /** Called after an order needs (re)dispatching; durable state is already committed. */
  readonly requestDispatch: (orderId: string, reason: string) => Promise<void>;
  /** Called after a work order's ledger outbox entry is committed. */
  readonly commitToLedger: (outboxId: number) => Promise<void>;
}

/** Orders, offers and work orders: the brand's and factories' side of dispatch. */
export function createOrdersService(deps: OrdersServiceDeps) {
  const { pool } = deps;

  async function audit(client: pg.PoolClient, orderId: string, actor: string, action: string, data: unknown = {}) {
    await client.query('INSERT INTO order_events (order_id, actor, action, data) VALUES ($1, $2, $3, $4)', [
      orderId,
      actor,
      action,
      JSON.stringify(data),
    ]);
  }

  /**
   * An order no factory could ever take is refused at once, with what would make it dispatchable, rather than
   * left waiting in dispatch: a due date already past, a quantity below every factory's minimum batch, a
   * category no factory on the network makes. (Capacity and certified devices change over time: those orders
   * wait, and the order's history says why.)
   */
  async function assertDispatchable(input: NewOrder, due: number, total: number): Promise<void> {
    const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    if (due < today) {
      throw new CodedError(
        ErrorCodes.VALIDATION_FAILED,
        `dueDate ${input.dueDate} is in the past: give a date from today on`,
      );
    }
    const { rows } = await pool.query(
      `SELECT MIN((profile->>'minBatch')::int) AS min_batch,
         ARRAY(SELECT DISTINCT c FROM factory_profiles p2, jsonb_array_elements_text(p2.profile->'capabilities'->'categories') c
               ORDER BY c) AS categories
       FROM factory_profiles`,
    );
    const minBatch = rows[0]?.min_batch as number | null;
    if (minBatch !== null && minBatch !== undefined && total < minBatch) {
      throw new CodedError(
        ErrorCodes.VALIDATION_FAILED,
        `${total} units is below every factory's minimum batch (the smallest is ${minBatch}): order at least ${minBatch}`,
      );
    }
    const category = input.spec?.category;
    const categories = (rows[0]?.categories ?? []) as string[];
    if (typeof category === 'string' && categories.length > 0 && !categories.includes(category)) {
      throw new CodedError(
        ErrorCodes.VALIDATION_FAILED,
        `no factory on the network makes category '${category}' (categories made: ${categories.join(', ')})`,
      );
    }
  }

  async function createOrder(user: AuthUser, input: NewOrder, options: { draft?: boolean } = {}): Promise<Order> {
    const status = options.draft ? OrderStatuses.draft : OrderStatuses.posted;
    const due = Date.parse(`${input.dueDate}T00:00:00Z`);
    if (Number.isNaN(due)) throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'dueDate must be YYYY-MM-DD');
    const skus = new Set<string>();
    for (const l of input.lines) {
      const key = `${l.sku}|${l.colour ?? ''}|${l.size ?? ''}`;
      if (skus.has(key)) throw new CodedError(ErrorCodes.VALIDATION_FAILED, `duplicate order line ${key}`);
      skus.add(key);
    }
    const total = input.lines.reduce((s, l) => s + l.quantity, 0);
    if (!options.draft) await assertDispatchable(input, due, total);
    const id = newId('ORD');
    const order = await withTransaction(pool, async (client) => {
      const { rows } = await client.query(
        `INSERT INTO orders (id, brand_msp, created_by, product, lines, spec, total_quantity, target_price_minor,
           currency, due_date, ship_to, status)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING *`,
        [
          id,
          user.mspId,
          user.username,
          input.product,
          JSON.stringify(input.lines),
          JSON.stringify(input.spec ?? {}),
          total,
          input.targetPriceMinor,
          input.currency,
          input.dueDate,
          input.shipTo,
          status,
        ],
      );
      await audit(client, id, user.username, status, { totalQuantity: total });
      return toOrder(rows[0]);
    });
    if (status === OrderStatuses.posted) await deps.requestDispatch(id, 'posted');
    return order;
  }

  async function listOrders(user: AuthUser): Promise<Order[]> {
    const { rows } =
      user.orgKind === 'platform'
        ? await pool.query('SELECT * FROM orders ORDER BY created_at DESC LIMIT 500')
        : await pool.query('SELECT * FROM orders WHERE brand_msp = $1 ORDER BY created_at DESC LIMIT 500', [
            user.mspId,
          ]);
    return rows.map(toOrder);
  }

  async function getOrder(user: AuthUser, id: string) {
    const { rows } = await pool.query('SELECT * FROM orders WHERE id = $1', [id]);
    const row = rows[0];
    // Another brand's order is "not found", not "forbidden": its existence is a commercial secret.
    if (!row || (user.orgKind !== 'platform' && row.brand_msp !== user.mspId)) {
      throw new CodedError(ErrorCodes.ORDER_NOT_FOUND, `order ${id} not found`, 404);
    }
    const offers = await pool.query(`${OFFER_SELECT} WHERE f.order_id = $1 ORDER BY f.created_at`, [id]);
    const workOrders = await pool.query(`${WORK_ORDER_SELECT} WHERE w.order_id = $1 ORDER BY w.accepted_at`, [id]);
    const history = await pool.query(
      'SELECT at, actor, action, data FROM order_events WHERE order_id = $1 ORDER BY id',
      [id],
    );
    return {
      ...toOrder(row),
      offers: offers.rows.map(toOffer),
      workOrders: workOrders.rows.map(toWorkOrder),
      history: history.rows.map((h) => ({ at: iso(h.at), actor: h.actor, action: h.action, data: h.data })),
    };
  }

  async function listOffers(user: AuthUser, status?: string): Promise<Offer[]> {
    const { rows } = await pool.query(
      `${OFFER_SELECT} WHERE f.factory_msp = $1 AND ($2::text IS NULL OR f.status = $2) ORDER BY f.created_at DESC LIMIT 500`,
      [user.mspId, status ?? null],
    );
    return rows.map(toOffer);
  }

  /** Locks an offer addressed to the caller's factory, or explains why it cannot be answered. */
  async function lockOpenOffer(client: pg.PoolClient, user: AuthUser, offerId: string): Promise<Row> {
    const { rows } = await client.query(`${OFFER_SELECT} WHERE f.id = $1 FOR UPDATE OF f`, [offerId]);
    const offer = rows[0];
    if (!offer || offer.factory_msp !== user.mspId) {
      throw new CodedError(ErrorCodes.OFFER_NOT_FOUND, `offer ${offerId} not found`, 404);
    }
    if (offer.status !== 'open')
      throw new CodedError(ErrorCodes.OFFER_CLOSED, `offer ${offerId} is ${offer.status}`, 409);
    if ((offer.expires_at as Date).getTime() <= Date.now()) {
      await client.query(`UPDATE offers SET status = 'expired', decided_at = now() WHERE id = $1`, [offerId]);
      throw new CodedError(ErrorCodes.OFFER_CLOSED, `offer ${offerId} expired`, 409);
    }
    return offer;
  }

  async function acceptOffer(user: AuthUser, offerId: string) {
    let outboxId = 0;
    let expired = false;
    const result = await withTransaction(pool, async (client) => {
      let offer: Row;
      try {
        offer = await lockOpenOffer(client, user, offerId);
      } catch (err) {
        // The expiry must stick even though the caller gets an error.
        if (err instanceof CodedError && err.message.endsWith('expired')) expired = true;
        else throw err;
        return undefined;
      }
      const { rows: orderRows } = await client.query('SELECT * FROM orders WHERE id = $1 FOR UPDATE', [offer.order_id]);
      const order = orderRows[0];
      await client.query(`UPDATE offers SET status = 'accepted', decided_at = now() WHERE id = $1`, [offerId]);
      const terms = {
        orderId: order.id,
        offerId,
        product: order.product,
        lines: offer.lines,
        quantity: offer.quantity,
        priceMinor: Number(offer.price_minor),
        currency: order.currency,
        dueDate: day(offer.due_date),
        shipTo: order.ship_to,
      };
      const id = newId('WO');
      const hash = termsHash(terms);
      await client.query(
        `INSERT INTO work_orders (id, order_id, offer_id, brand_msp, factory_msp, brand_user, factory_user, product,
           quantity, terms, terms_hash, status)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
        [
          id,
          order.id,
          offerId,
          order.brand_msp,
          user.mspId,
          order.created_by,
          user.username,
          order.product,
          offer.quantity,
          JSON.stringify(terms),
          hash,
          WorkOrderStatuses.committing,
        ],
      );
      const { rows: outbox } = await client.query(
        `INSERT INTO ledger_outbox (kind, ref, payload) VALUES ('work-order', $1, $2) RETURNING id`,
        [id, JSON.stringify({ workOrderId: id })],
      );
      outboxId = outbox[0].id as number;
      const { rows: sums } = await client.query(
        `SELECT COALESCE(SUM(quantity), 0)::int AS accepted FROM work_orders WHERE order_id = $1`,
        [order.id],
      );
      const status = sums[0].accepted >= order.total_quantity ? OrderStatuses.accepted : OrderStatuses.partlyAccepted;
      await client.query('UPDATE orders SET status = $2, updated_at = now() WHERE id = $1', [order.id, status]);
      await audit(client, order.id, user.username, 'offer_accepted', {
        offerId,
        workOrderId: id,
        quantity: offer.quantity,
      });
      return { offerId, workOrderId: id };
    });
    if (expired || !result) {
      const { rows } = await pool.query('SELECT order_id FROM offers WHERE id = $1', [offerId]);
      if (rows[0]) await deps.requestDispatch(rows[0].order_id, 'offer_expired');
      throw new CodedError(ErrorCodes.OFFER_CLOSED, `offer ${offerId} expired`, 409);
    }
    // Fast path: try the ledger now; if it fails the outbox worker retries until it commits.
    await deps.commitToLedger(outboxId).catch(() => {});
    const offer = await pool.query(`${OFFER_SELECT} WHERE f.id = $1`, [offerId]);
    const wo = await pool.query(`${WORK_ORDER_SELECT} WHERE w.id = $1`, [result.workOrderId]);
    return { offer: toOffer(offer.rows[0]), workOrder: toWorkOrder(wo.rows[0]) };
  }

  async function declineOffer(user: AuthUser, offerId: string, reason: DeclineReason, note?: string) {
    const orderId = await withTransaction(pool, async (client) => {
      const offer = await lockOpenOffer(client, user, offerId);
      await client.query(
        `UPDATE offers SET status = 'declined', decline_reason = $2, decline_note = $3, decided_at = now() WHERE id = $1`,
        [offerId, reason, note ?? null],
      );
      await audit(client, offer.order_id as string, user.username, 'offer_declined', { offerId, reason, note });
      return offer.order_id as string;
    });
    await deps.requestDispatch(orderId, `declined:${offerId}`);
    const { rows } = await pool.query(`${OFFER_SELECT} WHERE f.id = $1`, [offerId]);
    return { offer: toOffer(rows[0]) };
  }

  /** Marks an offer expired if it is still open past its deadline; true if it did. */
  async function expireOffer(offerId: string): Promise<string | undefined> {
    return withTransaction(pool, async (client) => {
      const { rows } = await client.query(
        `UPDATE offers SET status = 'expired', decided_at = now()
         WHERE id = $1 AND status = 'open' AND expires_at <= now() RETURNING order_id`,
        [offerId],
      );
      if (!rows[0]) return undefined;
      await audit(client, rows[0].order_id, 'platform', 'offer_expired', { offerId });
      return rows[0].order_id as string;
    });
  }

  async function listWorkOrders(user: AuthUser): Promise<WorkOrder[]> {
    const where =
      user.orgKind === 'brand'
        ? 'WHERE w.brand_msp = $1'
        : user.orgKind === 'factory'
          ? 'WHERE w.factory_msp = $1'
          : '';
    const params = where ? [user.mspId] : [];
    const { rows } = await pool.query(`${WORK_ORDER_SELECT} ${where} ORDER BY w.accepted_at DESC LIMIT 500`, params);
    return rows.map(toWorkOrder);
  }

  /** A work order the caller may see: its brand, its factory, financiers and the platform. */
  async function getWorkOrder(user: AuthUser, id: string): Promise<WorkOrder> {
    const { rows } = await pool.query(`${WORK_ORDER_SELECT} WHERE w.id = $1`, [id]);
    const row = rows[0];
    const visible = row && maySeeWorkOrder(user, { brandMsp: row.brand_msp, factoryMsp: row.factory_msp });
    if (!visible) throw new CodedError(ErrorCodes.WORK_ORDER_NOT_FOUND, `work order ${id} not found`, 404);
    return toWorkOrder(row);
  }

  /** Locks a brand's own order for a change, or says why it cannot change. */
  async function lockEditable(client: pg.PoolClient, user: AuthUser, id: string, ifMatch: number | undefined) {
    // Offers before the order, the same order acceptOffer locks them in, so the two never deadlock.
    await client.query(`SELECT id FROM offers WHERE order_id = $1 AND status = 'open' ORDER BY id FOR UPDATE`, [id]);
    const { rows } = await client.query('SELECT * FROM orders WHERE id = $1 FOR UPDATE', [id]);
    const row = rows[0];
    if (!row || row.brand_msp !== user.mspId)
      throw new CodedError(ErrorCodes.ORDER_NOT_FOUND, `order ${id} not found`, 404);
    if (ifMatch !== undefined && row.version !== ifMatch) {
      throw new CodedError(ErrorCodes.CONFLICT, `order ${id} is at version ${row.version}, not ${ifMatch}`, 412);
    }
    if (!EDITABLE.includes(row.status)) {
      throw new CodedError(ErrorCodes.CONFLICT, `order ${id} is ${row.status}: accepted work cannot change`, 409);
    }
    return row as Row;
  }

  /** Withdraws an order's open offers (their capacity reservations stop counting with them). */
  async function withdrawOpenOffers(client: pg.PoolClient, orderId: string): Promise<string[]> {
    const { rows } = await client.query(
      `UPDATE offers SET status = 'withdrawn', decided_at = now() WHERE order_id = $1 AND status = 'open' RETURNING id`,
      [orderId],
    );
    return rows.map((r) => r.id as string);
  }

  /**
   * Edits an order before any of it is accepted: the previous state is kept in
   * order_versions, open offers are withdrawn and a posted order is dispatched
   * again. `ifMatch` (the version the brand last saw) guards against lost updates.
   */
  async function updateOrder(user: AuthUser, id: string, edit: OrderEdit, ifMatch: number | undefined): Promise<Order> {
    if (edit.dueDate !== undefined && Number.isNaN(Date.parse(`${edit.dueDate}T00:00:00Z`)))
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'dueDate must be YYYY-MM-DD');
    if (edit.lines) {
      const keys = new Set(edit.lines.map((l) => `${l.sku}|${l.colour ?? ''}|${l.size ?? ''}`));
      if (keys.size !== edit.lines.length) throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'duplicate order line');
    }
    const { order, redispatch } = await withTransaction(pool, async (client) => {
      const row = await lockEditable(client, user, id, ifMatch);
      const before = toOrder(row);
      await client.query('INSERT INTO order_versions (order_id, version, data, changed_by) VALUES ($1, $2, $3, $4)', [
        id,
        before.version,
        JSON.stringify(before),
        user.username,
      ]);
      const lines = edit.lines ?? before.lines;
      const { rows } = await client.query(
        `UPDATE orders SET lines = $2, spec = $3, total_quantity = $4, target_price_minor = $5, due_date = $6,
           ship_to = $7, version = version + 1,
           status = CASE WHEN status = 'draft' THEN 'draft' ELSE 'posted' END, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [
          id,
          JSON.stringify(lines),
          JSON.stringify(edit.spec ?? before.spec),
          lines.reduce((n, l) => n + l.quantity, 0),
          edit.targetPriceMinor ?? before.targetPriceMinor,
          edit.dueDate ?? before.dueDate,
          edit.shipTo ?? before.shipTo,
        ],
      );
      const withdrawn = await withdrawOpenOffers(client, id);
      await audit(client, id, user.username, 'edited', {
        version: rows[0].version,
        changed: Object.keys(edit),
        withdrawnOffers: withdrawn,
      });
      return { order: toOrder(rows[0]), redispatch: before.status !== 'draft' };
    });
    if (redispatch) await deps.requestDispatch(id, `edited:v${order.version}`);
    return order;
  }

  /** Posts a draft order: from here on it is dispatched. */
  async function postOrder(user: AuthUser, id: string, ifMatch: number | undefined): Promise<Order> {
    const order = await withTransaction(pool, async (client) => {
      const row = await lockEditable(client, user, id, ifMatch);
      if (row.status !== 'draft')
        throw new CodedError(ErrorCodes.CONFLICT, `order ${id} is already ${row.status}`, 409);
      const { rows } = await client.query(
        `UPDATE orders SET status = 'posted', updated_at = now() WHERE id = $1 RETURNING *`,
        [id],
      );
      await audit(client, id, user.username, 'posted', { totalQuantity: rows[0].total_quantity });
      return toOrder(rows[0]);
    });
    await deps.requestDispatch(id, 'posted');
    return order;
  }

  /** Cancels an order nothing of which is accepted yet; open offers are withdrawn. */
  async function cancelOrder(user: AuthUser, id: string, reason: string | undefined, ifMatch: number | undefined) {
    return withTransaction(pool, async (client) => {
      await lockEditable(client, user, id, ifMatch);
      const { rows } = await client.query(
        `UPDATE orders SET status = 'cancelled', version = version + 1, updated_at = now() WHERE id = $1 RETURNING *`,
        [id],
      );
      const withdrawn = await withdrawOpenOffers(client, id);
      await audit(client, id, user.username, 'cancelled', { reason, withdrawnOffers: withdrawn });
      return toOrder(rows[0]);
    });
  }

  async function listVersions(user: AuthUser, id: string) {
    await getOrder(user, id);
    const { rows } = await pool.query(
      'SELECT version, data, changed_by, changed_at FROM order_versions WHERE order_id = $1 ORDER BY version',
      [id],
    );
    return rows.map((r) => ({
      version: r.version as number,
      order: r.data as Order,
      changedBy: r.changed_by as string,
      changedAt: iso(r.changed_at),
    }));
  }

  return {
    updateOrder,
    postOrder,
    cancelOrder,
    listVersions,
    createOrder,
    listOrders,
    getOrder,
    listOffers,
    acceptOffer,
    declineOffer,
    expireOffer,
    listWorkOrders,
    getWorkOrder,
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
