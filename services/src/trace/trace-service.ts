import {
  type BatchTotals,
  CodedError,
  defaultPolicy,
  ErrorCodes,
  type Ledger,
  Orgs,
  type PinnedTrust,
  parsePolicy,
  recordInProof,
  type TransactionProof,
} from '@c2m/shared';
import type pg from 'pg';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { batchLeaves } from './anchorer.js';
import { buildTree } from './merkle.js';
import type { ProofBundle } from './proof-bundle.js';
import { verifyInWorker } from './verify-pool.js';

export interface BundleOptions {
  readonly form?: 'full' | 'summary';
  /** full: a page of the work order's anchored events, in event order. */
  readonly offset?: number;
  readonly limit?: number;
  /** full: the work order's events of this batch only. */
  readonly batchId?: string;
  /** summary: how many random full events to include (default 10). */
  readonly sample?: number;
}

/** The fields of a device record (chaincode DeviceRecord) a bundle needs. */
interface DeviceRecordView {
  readonly ownerMspId: string;
  readonly certificateFingerprint: string;
  readonly publicKeyPem: string;
  readonly status: string;
  readonly validUntil: string | null;
  readonly revision: number;
  readonly lastChange: { readonly at: string };
}

export interface TraceDeps {
  readonly pool: pg.Pool;
  readonly ledger: LedgerAccess;
  readonly rawLedger: Ledger;
  /** The platform user that reads device records for bundles. */
  readonly readerUser: string;
  readonly caCertificates: () => Record<string, string>;
  /** Largest number of events a bundle carries. */
  readonly maxEvents?: number;
  /** The channel's endorsement policy; defaults to the embedded engine's default for these CAs. */
  readonly endorsementPolicy?: string;
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

  /** Server-side pinned trust: the consortium's CAs and the policy the embedded engine runs (its default). */
  function trust(): PinnedTrust {
    const caCertificates = deps.caCertificates();
    return {
      caCertificates,
      endorsementPolicy: parsePolicy(endorsementPolicy(caCertificates)),
      channel: deps.rawLedger.channel,
      chaincode: deps.rawLedger.chaincode,
      ordererMspIds: [Orgs.platform],
    };
  }
  function endorsementPolicy(caCertificates: Record<string, string>): string {
    return deps.endorsementPolicy ?? defaultPolicy(Orgs.platform, Object.keys(caCertificates));
  }

  /**
   * A proof bundle for a work order. `full` (default): a page of its anchored events (`offset`, `limit`, at most
   * maxEvents) or every event of one batch (`batchId`), with Merkle paths. `summary`: every anchored batch that
   * holds its events, with the totals committed in each anchor, and `sample` random full events. Either way
   * with the ledger transactions (envelopes, block headers, orderer signatures) that prove the work order,
   * the anchors and the devices' record histories offline.
   */
  async function buildProofBundle(workOrderId: string, options: BundleOptions = {}): Promise<ProofBundle> {
    const form = options.form ?? 'full';
    const max = deps.maxEvents ?? 5000;
    const { rows: woRows } = await pool.query('SELECT * FROM work_orders WHERE id = $1', [workOrderId]);
    const wo = woRows[0];
    // Only the work order's own factory's events: another factory's device naming this work order proves nothing.
    const ownFactory = `e.work_order_id = $1 AND e.factory_msp = (SELECT factory_msp FROM work_orders WHERE id = $1)`;
    const anchoredEvents = `SELECT e.id, e.device_id, e.message, e.signature, e.leaf_hash, e.batch_id FROM device_events e
       JOIN batches b ON b.batch_id = e.batch_id AND b.status = 'anchored' WHERE ${ownFactory}`;
    let evs: pg.QueryResultRow[];
    let batchIds: string[];
    if (form === 'summary') {
      const { rows } = await pool.query(
        `SELECT DISTINCT e.batch_id FROM device_events e JOIN batches b ON b.batch_id = e.batch_id AND b.status = 'anchored'
         WHERE ${ownFactory} ORDER BY e.batch_id`,
        [workOrderId],
      );
      batchIds = rows.map((r) => r.batch_id as string);
      const sample = Math.min(options.sample ?? 10, max);
      evs =
        sample > 0
          ? (await pool.query(`${anchoredEvents} ORDER BY random() LIMIT $2`, [workOrderId, sample])).rows
          : [];
    } else {
      evs = options.batchId
        ? (
            await pool.query(`${anchoredEvents} AND e.batch_id = $2 ORDER BY e.id LIMIT $3`, [
              workOrderId,
              options.batchId,
              max,
            ])
          ).rows
        : (
            await pool.query(`${anchoredEvents} ORDER BY e.id OFFSET $2 LIMIT $3`, [
              workOrderId,
              options.offset ?? 0,
              Math.min(options.limit ?? max, max),
            ])
          ).rows;
      batchIds = [...new Set(evs.map((e) => e.batch_id as string))];
    }
    const { proofs, prove } = prover();

    const events: ProofBundle['events'][number][] = [];
    const byBatch = new Map<string, pg.QueryResultRow[]>();
    for (const e of evs) byBatch.set(e.batch_id, [...(byBatch.get(e.batch_id) ?? []), e]);
    for (const [batchId, members] of byBatch) {
      // Rebuild the batch's tree from all its leaves, in the order it was cut.
      const { device: index, leaves } = await batchLeaves(pool, batchId);
      const tree = buildTree(leaves);
      for (const e of members) {
        events.push({
          message: e.message,
          sig: e.signature,
          leafHash: e.leaf_hash,
          batchId,
          proof: tree.proof(index.get(Number(e.id)) as number),
        });
      }
    }
    const anchorsOut = await anchorsFor(batchIds, prove);

    const devices: Record<string, ProofBundle['devices'][string]> = {};
    for (const deviceId of new Set(evs.map((e) => e.device_id as string))) {
      devices[deviceId] = await deviceProof(deviceId, prove);
    }
    const woTxIds = [wo?.ledger_commit_tx_id, wo?.ledger_tx_id].filter((t): t is string => typeof t === 'string');
    for (const txId of woTxIds) await prove(txId);

    const caCertificates = deps.caCertificates();
    return {
      version: 2,
      generatedAt: new Date().toISOString(),
      workOrder: {
        id: wo.id,
        orderId: wo.order_id,
        brandMspId: wo.brand_msp,
        factoryMspId: wo.factory_msp,
        quantity: wo.quantity,
        termsHash: wo.terms_hash,
        ledger: wo.ledger_tx_id ? { txId: wo.ledger_tx_id, blockNumber: Number(wo.ledger_block) } : null,
        ledgerTxIds: woTxIds,
      },
      events,
      anchors: anchorsOut,
      devices,
      ...ledgerMaterial(proofs),
      caCertificates,
      endorsementPolicy: endorsementPolicy(caCertificates),
    };
  }

  /** Every anchored batch named, with its anchor as the ledger holds it (totals read from the proven transaction). */
  async function anchorsFor(
    batchIds: readonly string[],
    prove: (txId: string | null | undefined) => Promise<TransactionProof | undefined>,
  ): Promise<Record<string, ProofBundle['anchors'][string]>> {
    const anchorsOut: Record<string, ProofBundle['anchors'][string]> = {};
    const { rows: batchRows } = await pool.query('SELECT * FROM batches WHERE batch_id = ANY($1)', [batchIds]);
    for (const b of batchRows) {
      const p = await prove(b.tx_id);
      const onLedger = p
        ? await recordInProof<{ totals?: Record<string, BatchTotals> }>(
            p,
            deps.rawLedger.chaincode,
            'c2m.anchor',
            b.batch_id,
          )
        : undefined;
      anchorsOut[b.batch_id] = {
        batchId: b.batch_id,
        factoryMspId: b.factory_msp,
        merkleRoot: b.merkle_root,
        eventCount: b.event_count,
        txId: b.tx_id,
        blockNumber: Number(b.block_number),
        blockHash: (await deps.rawLedger.transaction(b.tx_id))?.blockHash ?? '',
        ...(onLedger?.totals ? { totals: onLedger.totals } : {}),
      };
    }
    return anchorsOut;
  }

  /** The proven transactions and their blocks, as a bundle carries them. */
  function ledgerMaterial(proofs: ReadonlyMap<string, TransactionProof>) {
    const transactions: ProofBundle['transactions'] = {};
    const blocks: ProofBundle['blocks'] = {};
    for (const p of proofs.values()) {
      transactions[p.txId] = { envelope: p.envelope, blockNumber: p.blockNumber, txIndex: p.txIndex };
      blocks[String(p.blockNumber)] = p.block as ProofBundle['blocks'][string];
    }
    return { transactions, blocks };
  }

  /** Memoised transaction proofs of one bundle. */
  function prover() {
    const proofs = new Map<string, TransactionProof>();
    const prove = async (txId: string | null | undefined) => {
      if (!txId || proofs.has(txId)) return proofs.get(txId ?? '');
      const p = await deps.rawLedger.transactionProof?.(txId);
      if (p) proofs.set(txId, p);
      return p;
    };
    return { proofs, prove };
  }

  /**
   * A proof bundle for one EPCIS eventID, without a work order: the anchored event (and its error declaration,
   * if one is stored) with its signed message, signer certificate, signature and Merkle path, and for an event
   * derived from device messages those messages with their paths and their devices' ledger histories. Throws
   * INVALID_STATE while the event's batch is not anchored yet.
   */
  async function buildEpcisProofBundle(eventPks: readonly number[]): Promise<ProofBundle> {
    const { rows } = await pool.query(
      `SELECT e.id, e.event_id, e.message, e.signature, e.signer_certificate, e.leaf_hash, e.batch_id, e.source_leaves
       FROM epcis_events e JOIN batches b ON b.batch_id = e.batch_id AND b.status = 'anchored'
       WHERE e.id = ANY($1) ORDER BY e.id`,
      [eventPks],
    );
    if (rows.length < eventPks.length) {
      throw new CodedError(ErrorCodes.INVALID_STATE, 'the event is not anchored yet: ask again shortly', 409);
    }
    const { proofs, prove } = prover();
    const sourceLeaves = [...new Set(rows.flatMap((r) => r.source_leaves as string[]))];
    const { rows: sources } =
      sourceLeaves.length > 0
        ? await pool.query(
            `SELECT e.id, e.device_id, e.message, e.signature, e.leaf_hash, e.batch_id FROM device_events e
             JOIN batches b ON b.batch_id = e.batch_id AND b.status = 'anchored' WHERE e.leaf_hash = ANY($1) ORDER BY e.id`,
            [sourceLeaves],
          )
        : { rows: [] as pg.QueryResultRow[] };
    const batchIds = [...new Set([...rows, ...sources].map((r) => r.batch_id as string))];
    const trees = new Map<string, Awaited<ReturnType<typeof batchLeaves>> & { tree: ReturnType<typeof buildTree> }>();
    for (const batchId of batchIds) {
      const leaves = await batchLeaves(pool, batchId);
      trees.set(batchId, { ...leaves, tree: buildTree(leaves.leaves) });
    }
    const pathOf = (batchId: string, kind: 'device' | 'epcis', id: unknown) => {
      const t = trees.get(batchId);
      const index = t?.[kind].get(Number(id));
      if (!t || index === undefined) throw new Error(`leaf ${String(id)} is not in batch ${batchId}`);
      return t.tree.proof(index);
    };
    const devices: Record<string, ProofBundle['devices'][string]> = {};
    for (const deviceId of new Set(sources.map((e) => e.device_id as string))) {
      devices[deviceId] = await deviceProof(deviceId, prove);
    }
    const caCertificates = deps.caCertificates();
    return {
      version: 2,
      generatedAt: new Date().toISOString(),
      workOrder: null,
      events: sources.map((e) => ({
        message: e.message,
        sig: e.signature,
        leafHash: e.leaf_hash,
        batchId: e.batch_id,
        proof: pathOf(e.batch_id, 'device', e.id),
      })),
      epcisEvents: rows.map((e) => ({
        message: e.message,
        signature: e.signature,
        signerCertificate: e.signer_certificate,
        leafHash: e.leaf_hash,
        batchId: e.batch_id,
        proof: pathOf(e.batch_id, 'epcis', e.id),
      })),
      anchors: await anchorsFor(batchIds, prove),
      devices,
      ...ledgerMaterial(proofs),
      caCertificates,
      endorsementPolicy: endorsementPolicy(caCertificates),
    };
  }

  /** A device's certificates and its whole ledger history, each state read from the transaction that wrote it. */
  async function deviceProof(
    deviceId: string,
    prove: (txId: string) => Promise<TransactionProof | undefined>,
  ): Promise<ProofBundle['devices'][string]> {
    const history = await deps.ledger.deviceHistory(deps.readerUser, deviceId);
    const written: { txId: string; record: DeviceRecordView }[] = [];
    for (const h of history) {
      const p = await prove(h.txId);
      const record = p && (await recordInProof<DeviceRecordView>(p, deps.rawLedger.chaincode, 'c2m.device', deviceId));
      if (record) written.push({ txId: h.txId, record });
    }
    written.sort((a, b) => a.record.revision - b.record.revision);
    const latest = written[written.length - 1]?.record;
    const fingerprints = [...new Set(written.map((w) => w.record.certificateFingerprint))];
    const certs = await pool.query(
      'SELECT fingerprint, certificate_pem FROM device_certificates WHERE device_id = $1 AND fingerprint = ANY($2)',
      [deviceId, fingerprints],
    );
    const certificates = Object.fromEntries(
      certs.rows.map((c) => [c.fingerprint as string, c.certificate_pem as string]),
    );
    return {
      certificatePem: (latest && certificates[latest.certificateFingerprint]) ?? '',
      factoryMspId: latest?.ownerMspId ?? '',
      certificateFingerprint: latest?.certificateFingerprint ?? '',
      publicKeyPem: latest?.publicKeyPem ?? '',
      certificates,
      states: written.map(({ record: r }) => ({
        from: r.lastChange.at,
        status: r.status,
        ...(r.validUntil ? { validUntil: r.validUntil } : {}),
        publicKeyPem: r.publicKeyPem,
        certificateFingerprint: r.certificateFingerprint,
      })),
      ledgerTxIds: written.map((w) => w.txId),
    };
  }

  /** Server-side verification: the offline verifier with the consortium's trust pinned, on a worker thread. */
  async function verify(bundle: ProofBundle) {
    return verifyInWorker(bundle, trust());
  }

  return {
    events,
    production,
    buildProofBundle,
    buildEpcisProofBundle,
    verify,
    trust,
    endorsementPolicyText: () => endorsementPolicy(deps.caCertificates()),
  };
}

export type TraceService = ReturnType<typeof createTraceService>;
