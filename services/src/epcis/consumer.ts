import { createHash, randomBytes } from 'node:crypto';
import { CodedError, canonicalJson, ErrorCodes, OrgKinds, Roles } from '@c2m/shared';
import type pg from 'pg';
import type { AuthUser } from '../plugins/auth.js';
import type { RecallService } from './recalls.js';
import type { TraceGraphService } from './trace-graph.js';
import { parseTraceKey, type TraceKey } from './trace-key.js';

/**
 * What a consumer who scans a product's QR code may read, without logging in: the product and its brand, the
 * factory, the certified devices that made and inspected it, the QC results, the shipping steps, whether its
 * lot is under an open recall (read from the LEDGER's Recalls records, not the platform's table), and a redacted
 * view of the events behind it. No prices, terms or personal data: work orders are named by nothing but their
 * factory and brand, users not at all. The redacted events disclose what the page shows and replace every other
 * field with a salted SHA-256 commitment (salt kept by the platform), so a party holding the full event (the
 * brand, an auditor) can check that the redaction hid nothing different from what the ledger-anchored event says.
 */

/** The platform's own reading of the trace, for the public view (then cut down to what is public). */
const PUBLIC_READER: AuthUser = {
  username: 'platform',
  mspId: 'PlatformOrg',
  orgKind: OrgKinds.platform,
  role: Roles.admin,
  displayName: 'consumer view',
};

/** Event fields a consumer page may show; everything else is committed to, not disclosed. */
const DISCLOSED = new Set([
  'type',
  'eventTime',
  'eventTimeZoneOffset',
  'action',
  'bizStep',
  'disposition',
  'readPoint',
  'bizLocation',
  'eventID',
]);

export interface RedactedEvent {
  readonly eventID: string;
  readonly disclosed: Record<string, unknown>;
  /** field -> sha256(salt || canonical JSON of the value), hex. */
  readonly redacted: Record<string, string>;
  readonly leafHash: string;
  readonly batchId: string | null;
  readonly anchor: { txId: string; blockNumber: number; merkleRoot: string } | null;
}

export interface ConsumerDeps {
  readonly pool: pg.Pool;
  readonly traceGraph: TraceGraphService;
  readonly recalls: RecallService;
  readonly orgName: (mspId: string) => { en: string; zh: string } | undefined;
}

export function createConsumerView(deps: ConsumerDeps) {
  const { pool } = deps;

  /** The salt the platform keeps per event and field (deterministic per event so a commitment never changes). */
  async function saltsOf(eventIds: string[]): Promise<Map<string, string>> {
    const salts = eventIds.map(() => randomBytes(16).toString('hex'));
    // A salt is made once per event and kept (a second request returns the stored one): commitments never change.
    const { rows } = await pool.query(
      `INSERT INTO consumer_redaction_salts (event_id, salt) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (event_id) DO UPDATE SET event_id = EXCLUDED.event_id RETURNING event_id, salt`,
      [eventIds, salts],
    );
    return new Map(rows.map((r) => [r.event_id as string, r.salt as string]));
  }

  function key(gtin: string, serial: string): TraceKey {
    const k = parseTraceKey(`/01/${gtin}/21/${serial}`);
    if (k.kind !== 'serial') throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'not a serial', 400);
    return k;
  }

  /** The public product page's facts for one serial. 404 for a serial no event names. */
  async function product(gtin: string, serial: string) {
    const k = key(gtin, serial);
    const { rows: p } = await pool.query('SELECT gtin, brand_msp, sku, name FROM gs1_products WHERE gtin = $1', [
      k.gtin,
    ]);
    if (!p[0]) throw new CodedError(ErrorCodes.NOT_FOUND, `no product ${k.gtin}`, 404);
    const g = await deps.traceGraph.trace(PUBLIC_READER, k, { direction: 'backward' });
    const nodes = (kind: string) => g.nodes.filter((n) => n.kind === kind);
    const factoryMsp = (nodes('workOrder')[0]?.data.factoryMsp as string | undefined) ?? null;
    const lot = nodes('lot').find((n) => n.uri?.startsWith(`https://id.gs1.org/01/${k.gtin}/10/`));
    const lotName = lot?.uri ? decodeURIComponent(lot.uri.split('/10/')[1] ?? '') : null;
    const devices = nodes('device')
      .filter((d) => typeof d.data.deviceId === 'string')
      .map((d) => {
        const certified = Object.values((d.data.certifiedAtEventTime ?? {}) as Record<string, boolean>);
        return {
          deviceId: d.data.deviceId as string,
          model: (d.data.model as string | null) ?? null,
          roles: [
            ...new Set(
              g.edges.filter((e) => e.from === d.id).map((e) => (e.kind === 'inspectedBy' ? 'inspected' : 'made')),
            ),
          ],
          certifiedAtEventTime: certified.length > 0 && certified.every(Boolean),
          certifiedUntil: (d.data.validUntil as string | null) ?? null,
        };
      });
    const qc = nodes('qc').map((q) => ({
      eventID: q.events[0] as string,
      eventTime: g.events[q.events[0] as string]?.eventTime ?? null,
      disposition: (q.data.disposition as string | null) ?? null,
      pass: q.data.pass === true,
      measurements: ((q.data.reports ?? []) as Record<string, unknown>[]).map((r) => ({
        type: r.type ?? null,
        value: r.value ?? null,
        uom: r.uom ?? null,
      })),
    }));
    const shipping = nodes('shipment').map((s) => {
      const ev = g.events[s.events[0] as string];
      return {
        eventID: s.events[0] as string,
        bizStep: (s.data.bizStep as string) ?? null,
        eventTime: ev?.eventTime ?? null,
        location: ev?.bizLocation ?? ev?.readPoint ?? null,
      };
    });
    const me = g.nodes.find((n) => n.id === k.uri);
    const recalls = lotName ? await deps.recalls.openRecallsForLot(k.gtin as string, lotName) : [];
    const brandMsp = p[0].brand_msp as string;
    return {
      uri: k.uri,
      gtin: k.gtin as string,
      serial: k.serial as string,
      lot: lotName,
      product: { name: p[0].name as string, sku: p[0].sku as string },
      brand: { mspId: brandMsp, names: deps.orgName(brandMsp) ?? { en: brandMsp, zh: brandMsp } },
      factory: factoryMsp
        ? { mspId: factoryMsp, names: deps.orgName(factoryMsp) ?? { en: factoryMsp, zh: factoryMsp } }
        : null,
      line: nodes('location')[0]?.label ?? null,
      devices,
      qc,
      shipping,
      lastLocation: me?.lastLocation ?? null,
      // From the ledger's Recalls records: status, reason and the transaction that opened each.
      recalls: recalls.map((r) => ({
        recallId: r.recallId,
        status: r.status,
        reason: r.reason,
        openedAt: r.openedAt,
        txId: r.history[0]?.txId ?? null,
        source: 'ledger' as const,
      })),
      events: Object.keys(g.events),
    };
  }

  /**
   * The events behind the page, redacted: disclosed fields as they are, every other field (and every EPC of
   * the event other than this serial, its lot and its containers) as a salted SHA-256 commitment; each with its
   * Merkle leaf, batch and the ledger anchor of that batch where it is anchored.
   */
  async function redactedBundle(gtin: string, serial: string) {
    const view = await product(gtin, serial);
    const { rows } = await pool.query(
      `SELECT e.event_id, e.event, e.leaf_hash, e.batch_id, b.tx_id, b.block_number, b.merkle_root, b.status
       FROM epcis_events e LEFT JOIN batches b ON b.batch_id = e.batch_id
       WHERE e.event_id = ANY($1) ORDER BY e.event_time`,
      [view.events],
    );
    const salts = await saltsOf(rows.map((r) => r.event_id as string));
    const events: RedactedEvent[] = rows.map((r) => {
      const salt = salts.get(r.event_id) as string;
      const disclosed: Record<string, unknown> = {};
      const redacted: Record<string, string> = {};
      for (const [field, value] of Object.entries(r.event as Record<string, unknown>)) {
        if (DISCLOSED.has(field)) disclosed[field] = value;
        else redacted[field] = commitment(salt, field, value);
      }
      return {
        eventID: r.event_id,
        disclosed,
        redacted,
        leafHash: r.leaf_hash,
        batchId: r.batch_id ?? null,
        anchor:
          r.status === 'anchored'
            ? { txId: r.tx_id, blockNumber: Number(r.block_number), merkleRoot: r.merkle_root }
            : null,
      };
    });
    return {
      version: 1,
      kind: 'c2m.consumer-redacted-bundle',
      subject: view.uri,
      generatedAt: new Date().toISOString(),
      commitment: 'sha256(salt || 0x00 || field || 0x00 || canonicalJson(value)), hex; salts held by the platform',
      events,
      recalls: view.recalls,
    };
  }

  return { product, redactedBundle };
}

export type ConsumerView = ReturnType<typeof createConsumerView>;

/** A salted commitment to one hidden field of one event. */
export function commitment(saltHex: string, field: string, value: unknown): string {
  return createHash('sha256')
    .update(Buffer.from(saltHex, 'hex'))
    .update(Buffer.from([0]))
    .update(field, 'utf8')
    .update(Buffer.from([0]))
    .update(canonicalJson(value ?? null), 'utf8')
    .digest('hex');
}
