/**
 * The ledger records a bundle's claims must equal: each anchor and each device's whole history, read from
 * transactions the verifier has already proven (verify-bundle.ts), field by field.
 */
import { canonicalJson } from '../canonical.js';
import type { BatchTotals, BundleAnchor, BundleDevice, BundleDeviceState } from './bundle.js';
import { pemToDer, toHex } from './bytes.js';
import { ProofError, type ProvenTransaction, type TrustedIdentities, writtenRecord } from './ledger-proof.js';
import { certificateFingerprint, parseCertificatePem } from './x509.js';

/** Ledger key prefixes of the chaincode's records (chaincode/src/lib/keys.ts). */
export const Keys = { device: 'c2m.device', workOrder: 'c2m.workOrder', anchor: 'c2m.anchor' } as const;

interface DeviceRecordView {
  deviceId: string;
  ownerMspId: string;
  certificateFingerprint: string;
  publicKeyPem: string;
  status: string;
  validUntil: string | null;
  revision: number;
  lastChange: { at: string };
}

interface AnchorRecordView {
  batchId: string;
  factoryMspId: string;
  merkleRootHex: string;
  eventCount: number;
  txId: string;
  totals?: Record<string, BatchTotals>;
}

export function checkAnchor(
  batchId: string,
  a: BundleAnchor,
  proven: ReadonlyMap<string, ProvenTransaction>,
  blockHashes: ReadonlyMap<number, string>,
  /** The orgs whose batches this bundle may rely on: the work order's factory, the owners of its EPCIS events. */
  owners: ReadonlySet<string>,
): void {
  const tx = proven.get(a.txId);
  if (!tx) throw new ProofError('anchor transaction not proven');
  if (tx.blockNumber !== a.blockNumber || blockHashes.get(a.blockNumber) !== a.blockHash) {
    throw new ProofError('block number or hash differs from the proof');
  }
  const r = writtenRecord<AnchorRecordView>(tx, Keys.anchor, batchId);
  if (!r) throw new ProofError('the transaction did not write this anchor');
  if (
    r.batchId !== a.batchId ||
    r.factoryMspId !== a.factoryMspId ||
    r.merkleRootHex !== a.merkleRoot ||
    r.eventCount !== a.eventCount ||
    r.txId !== a.txId ||
    canonicalJson(r.totals ?? null) !== canonicalJson(a.totals ?? null)
  ) {
    throw new ProofError('differs from the anchor record the ledger holds');
  }
  if (!owners.has(a.factoryMspId)) throw new ProofError('anchored for another org');
}

export async function checkDevice(
  deviceId: string,
  d: BundleDevice,
  proven: ReadonlyMap<string, ProvenTransaction>,
  ids: TrustedIdentities,
  now: Date,
): Promise<BundleDeviceState[]> {
  if (!Array.isArray(d.ledgerTxIds) || d.ledgerTxIds.length === 0) throw new ProofError('no ledger history');
  const records: DeviceRecordView[] = [];
  for (const txId of d.ledgerTxIds) {
    const tx = proven.get(txId);
    if (!tx) throw new ProofError(`history transaction ${txId.slice(0, 12)}… not proven`);
    const r = writtenRecord<DeviceRecordView>(tx, Keys.device, deviceId);
    if (!r) throw new ProofError(`transaction ${txId.slice(0, 12)}… did not write this device`);
    // Revisions 1, 2, … with none left out: a suspension cannot be dropped from the middle of the history.
    if (r.revision !== records.length + 1 || r.deviceId !== deviceId) {
      throw new ProofError('history is not the complete sequence of record revisions');
    }
    records.push(r);
  }
  const latest = records[records.length - 1]!;
  const states: BundleDeviceState[] = records.map((r) => ({
    from: r.lastChange.at,
    status: r.status,
    ...(r.validUntil ? { validUntil: r.validUntil } : {}),
    publicKeyPem: r.publicKeyPem,
    certificateFingerprint: r.certificateFingerprint,
  }));
  if (canonicalJson(states) !== canonicalJson(d.states)) throw new ProofError('states differ from the ledger history');
  if (
    d.factoryMspId !== latest.ownerMspId ||
    d.certificateFingerprint !== latest.certificateFingerprint ||
    d.publicKeyPem !== latest.publicKeyPem
  ) {
    throw new ProofError('differs from the latest ledger record');
  }
  // Every certificate the device held: issued by its factory's CA, the fingerprint and key the ledger recorded.
  const held = new Map(records.map((r) => [r.certificateFingerprint, r.publicKeyPem]));
  const certs = d.certificates ?? {};
  if (canonicalJson(Object.keys(certs).sort()) !== canonicalJson([...held.keys()].sort())) {
    throw new ProofError('certificates are not exactly those the ledger records');
  }
  if (certs[latest.certificateFingerprint] !== d.certificatePem)
    throw new ProofError('certificatePem is not the current one');
  for (const [fp, keyPem] of held) {
    const pem = certs[fp]!;
    const cert = await ids
      .certificate(d.factoryMspId, pem, Date.parse(records[0]!.lastChange.at))
      .catch(() => ids.certificate(d.factoryMspId, pem, now.getTime()));
    if ((await certificateFingerprint(cert)) !== fp)
      throw new ProofError('certificate fingerprint differs from the ledger');
    if (toHex(cert.publicKey.spki) !== toHex(pemToDer(keyPem))) {
      throw new ProofError('certificate key differs from the ledger key');
    }
    parseCertificatePem(pem);
  }
  return states;
}
