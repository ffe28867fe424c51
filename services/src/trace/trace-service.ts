import type { Ledger } from '@c2m/shared';
import type pg from 'pg';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { buildTree } from './merkle.js';
import type { ProofBundle } from './proof-bundle.js';
import { verifyProofBundle } from './verify-bundle.js';

export interface TraceDeps {
  readonly pool: pg.Pool;
  readonly ledger: LedgerAccess;
  readonly rawLedger: Ledger;
  /** The platform user that reads device records for bundles. */
  readonly readerUser: string;
  readonly caCertificates: () => Record<string, string>;
  /** Largest number of events a bundle carries. */
  readonly maxEvents?: number;
}

const iso = (d: Date) => d.toISOString();

/** An anchor (a Merkle batch) is pending until the ledger commits it: the `batches.status` values its CHECK allows. */
export const AnchorStatuses = ['pending', 'anchored'] as const;
export type AnchorStatus = (typeof AnchorStatuses)[number];

/** Events, anchors, production series and proof bundles: the traceability side. */
export function createTraceService(deps: TraceDeps) {
  const { pool } = deps;

  async function events(workOrderId: string, limit = 200) {
    const { rows } = await pool.query(
      `SELECT device_id, seq, event_time, type, data, batch_id, received_at FROM device_events
       WHERE work_order_id = $1 AND factory_msp = (SELECT factory_msp FROM work_orders WHERE id = $1)
       ORDER BY event_time DESC, id DESC LIMIT $2`,
      [workOrderId, limit],
    );
    return rows.map((r) => ({
      deviceId: r.device_id as string,
      seq: r.seq as number,
      eventTime: iso(r.event_time),
      type: r.type as string,
      data: r.data as Record<string, unknown>,
      batchId: (r.batch_id as string | null) ?? null,
      receivedAt: iso(r.received_at),
    }));
  }

  async function production(workOrderId: string, bucket: 'minute' | 'hour' = 'hour') {
    const { rows } = await pool.query(
      `SELECT date_trunc('${bucket === 'minute' ? 'minute' : 'hour'}', event_time) AS hour, SUM((data->>'units')::bigint)::bigint AS units
       FROM device_events WHERE work_order_id = $1 AND type = 'production.count'
         AND factory_msp = (SELECT factory_msp FROM work_orders WHERE id = $1)
       GROUP BY 1 ORDER BY 1`,
      [workOrderId],
    );
    return rows.map((r) => ({ hour: iso(r.hour), units: Number(r.units) }));
  }

  async function anchors(limit = 100) {
    const { rows } = await pool.query(`SELECT * FROM batches ORDER BY created_at DESC LIMIT $1`, [limit]);
    return rows.map((b) => ({
      batchId: b.batch_id as string,
      factoryMspId: b.factory_msp as string,
      merkleRoot: b.merkle_root as string,
      eventCount: b.event_count as number,
      firstEventTime: iso(b.first_event_time),
      lastEventTime: iso(b.last_event_time),
      status: b.status as AnchorStatus,
      txId: (b.tx_id as string | null) ?? null,
      blockNumber: b.block_number === null ? null : Number(b.block_number),
    }));
  }

  async function buildProofBundle(workOrderId: string): Promise<ProofBundle> {
    const { rows: woRows } = await pool.query('SELECT * FROM work_orders WHERE id = $1', [workOrderId]);
    const wo = woRows[0];
    const { rows: evs } = await pool.query(
      `SELECT e.id, e.device_id, e.message, e.signature, e.leaf_hash, e.batch_id FROM device_events e
       JOIN batches b ON b.batch_id = e.batch_id AND b.status = 'anchored'
       WHERE e.work_order_id = $1 AND e.factory_msp = (SELECT factory_msp FROM work_orders WHERE id = $1)
       ORDER BY e.id LIMIT $2`,
      [workOrderId, deps.maxEvents ?? 5000],
    );
    const byBatch = new Map<string, typeof evs>();
    for (const e of evs) {
      const list = byBatch.get(e.batch_id) ?? [];
      list.push(e);
      byBatch.set(e.batch_id, list);
    }
    const events: ProofBundle['events'][number][] = [];
    const anchorsOut: Record<string, ProofBundle['anchors'][string]> = {};
    for (const [batchId, members] of byBatch) {
      // Rebuild the batch's tree from all its leaves, in the order it was cut.
      const { rows: leaves } = await pool.query(
        'SELECT id, leaf_hash FROM device_events WHERE batch_id = $1 ORDER BY id',
        [batchId],
      );
      const index = new Map(leaves.map((l, i) => [l.id as number, i]));
      const tree = buildTree(leaves.map((l) => l.leaf_hash as string));
      for (const e of members) {
        events.push({
          message: e.message,
          sig: e.signature,
          leafHash: e.leaf_hash,
          batchId,
          proof: tree.proof(index.get(e.id) as number),
        });
      }
      const { rows } = await pool.query('SELECT * FROM batches WHERE batch_id = $1', [batchId]);
      const b = rows[0];
      const tx = await deps.rawLedger.transaction(b.tx_id);
      anchorsOut[batchId] = {
        batchId,
        factoryMspId: b.factory_msp,
        merkleRoot: b.merkle_root,
        eventCount: b.event_count,
        txId: b.tx_id,
        blockNumber: Number(b.block_number),
        blockHash: tx?.blockHash,
      };
    }
    const devices: Record<string, ProofBundle['devices'][string]> = {};
    for (const deviceId of new Set(evs.map((e) => e.device_id as string))) {
      const { rows } = await pool.query('SELECT certificate_pem FROM devices WHERE device_id = $1', [deviceId]);
      const record = await deps.ledger.readDevice(deps.readerUser, deviceId);
      const history = await deps.ledger.deviceHistory(deps.readerUser, deviceId);
      const states = history.filter((h) => !h.isDelete && h.record);
      // Every certificate the device held, so events signed before a key rotation verify with the key of their time.
      const fingerprints = [...new Set(states.map((h) => h.record?.certificateFingerprint as string))];
      const certs = await pool.query(
        'SELECT fingerprint, certificate_pem FROM device_certificates WHERE device_id = $1 AND fingerprint = ANY($2)',
        [deviceId, fingerprints],
      );
      devices[deviceId] = {
        certificatePem: rows[0]?.certificate_pem ?? '',
        factoryMspId: record.factoryMspId,
        certificateFingerprint: record.certificateFingerprint,
        publicKeyPem: record.publicKeyPem,
        certificates: Object.fromEntries(certs.rows.map((c) => [c.fingerprint as string, c.certificate_pem as string])),
        states: states.map((h) => ({
          from: h.timestamp,
          status: h.record?.status as string,
          ...(h.record?.validUntil ? { validUntil: h.record.validUntil } : {}),
          publicKeyPem: h.record?.publicKeyPem,
          certificateFingerprint: h.record?.certificateFingerprint,
        })),
      };
    }
    return {
      version: 1,
      generatedAt: new Date().toISOString(),
      workOrder: {
        id: wo.id,
        orderId: wo.order_id,
        brandMspId: wo.brand_msp,
        factoryMspId: wo.factory_msp,
        quantity: wo.quantity,
        termsHash: wo.terms_hash,
        ledger: wo.ledger_tx_id ? { txId: wo.ledger_tx_id, blockNumber: Number(wo.ledger_block) } : null,
      },
      events,
      anchors: anchorsOut,
      devices,
      caCertificates: deps.caCertificates(),
    };
  }

  /** Server-side verification: the stand-alone checks, CAs pinned to the consortium's, anchors confirmed on the ledger. */
  async function verify(bundle: ProofBundle) {
    return verifyProofBundle(bundle, {
      trustedCaCertificates: deps.caCertificates(),
      confirmAnchor: async (anchor) => {
        const tx = await deps.rawLedger.transaction(anchor.txId);
        if (!tx) return { ok: false, detail: `transaction ${anchor.txId} is not on the ledger` };
        if (tx.validationCode !== 'VALID') return { ok: false, detail: `transaction is ${tx.validationCode}` };
        if (anchor.blockHash && tx.blockHash !== anchor.blockHash) return { ok: false, detail: 'block hash differs' };
        const onLedger = await deps.ledger.readAnchor(deps.readerUser, anchor.batchId);
        if (onLedger.merkleRoot !== anchor.merkleRoot) return { ok: false, detail: 'the ledger holds another root' };
        return { ok: true, detail: `root in block ${tx.blockNumber}, tx ${anchor.txId.slice(0, 12)}… VALID` };
      },
    });
  }

  return { events, production, anchors, buildProofBundle, verify };
}

export type TraceService = ReturnType<typeof createTraceService>;
