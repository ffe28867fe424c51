/**
 * The offline verifier of proof bundles: one logic for the CLI, the server
 * (in a worker thread) and the browser, on WebCrypto only. It trusts nothing
 * in the bundle; everything is checked against what the verifier pins (org
 * CAs, the endorsement policy, the channel and the orderer orgs):
 *
 * - every block proof: data hash, header hash, the orderer's signature over
 *   header and validation codes;
 * - every transaction: in its block, VALID, creator and endorsement
 *   signatures, certificates chained to the pinned CAs, the endorsement
 *   policy (key-level where an earlier proven transaction set one);
 * - the work order, each anchor and each device's whole record history are
 *   the records those transactions wrote, field by field;
 * - every event: canonical, its leaf hash, a Merkle path to its proven
 *   anchor's root, the device's signature with the key in force at the event's
 *   time, the device certified then, the work order and factory;
 * - every EPCIS event: its leaf, its Merkle path to an anchor of its owner,
 *   its signer's certificate chained to the pinned CA of the signing org and
 *   the signature over the message, its CBV 2.0 event hash recomputed from the
 *   event, and for a device-derived event every source device message proven.
 *
 * VERIFIED (valid) only when every check passes; the checks say what was not proven.
 */
import { canonicalJson } from '../canonical.js';
import { epcisEventHash } from '../epcis/event-hash.js';
import { Orgs } from '../orgs.js';
import type { BundleDeviceState, BundleVerification, ProofBundleV2, ProofCheck } from './bundle.js';
import { concat, fromBase64, fromBase64Url, fromHex, pemToDer, toHex, utf8 } from './bytes.js';
import { type EpcisSignedMessage, parseEpcisMessage } from './epcis-message.js';
import {
  type BlockProof,
  learnKeyPolicies,
  type PinnedTrust,
  ProofError,
  type ProvenTransaction,
  TrustedIdentities,
  verifyBlockProof,
  verifyTransaction,
  writtenRecord,
} from './ledger-proof.js';
import { formatPolicy, type Policy, parsePolicy } from './policy.js';
import { checkAnchor, checkDevice, Keys } from './records.js';
import { sha256Sync } from './sha256.js';
import { parseSpki, verifyDer, verifyRaw } from './x509.js';

export interface VerifyBundleOptions {
  /** Pinned trust; without it nothing can be proven, and the result says so. */
  readonly trust?: Omit<PinnedTrust, 'endorsementPolicy'> & { readonly endorsementPolicy: string | Policy };
  /** Time for certificate validity of device certificates; defaults to now. */
  readonly at?: Date;
  /** The ingest's time rules, checked against each event's proven anchor time (defaults: `DEFAULT_TIME_RULES`). */
  readonly timeRules?: Partial<TimeRules>;
}

/**
 * The ingest accepts an event only if its claimed time lies within a skew of its receipt and the device's
 * ledger state did not change between the claimed time and receipt. Offline, receipt is bounded by the time
 * its batch's anchor was committed (proven): an event cannot claim a time after its anchor (beyond the future
 * skew) or long before it, and if the device's state changed after the claimed time, the anchor must follow that
 * change by no more than the anchoring delay, or the event was received after the change: backdated.
 */
export interface TimeRules {
  readonly maxPastSkewMs: number;
  readonly maxFutureSkewMs: number;
  /** Longest time from receipt to the anchor's commit that the verifier allows. */
  readonly maxAnchorDelayMs: number;
}
export const DEFAULT_TIME_RULES: TimeRules = {
  maxPastSkewMs: 24 * 3600_000,
  maxFutureSkewMs: 120_000,
  maxAnchorDelayMs: 3600_000,
};

/** What is wrong with an event's time against its anchor's commit time and the device's states, or undefined. */
export function timeProblem(
  states: readonly BundleDeviceState[],
  t: number,
  anchoredAtMs: number,
  rules: TimeRules,
): string | undefined {
  if (t > anchoredAtMs + rules.maxFutureSkewMs) return 'claims a time after its anchor';
  if (t < anchoredAtMs - rules.maxPastSkewMs - rules.maxAnchorDelayMs) return 'claims a time long before its anchor';
  const next = states.find((s) => Date.parse(s.from) > t);
  if (next && anchoredAtMs > Date.parse(next.from) + rules.maxAnchorDelayMs) {
    return `device became ${next.status} at ${next.from}, before the event could have been received`;
  }
  return undefined;
}

const MAX_NAMED = 5;

class Tally {
  ok = 0;
  readonly failing: string[] = [];
  fail(label: string) {
    this.failing.push(label);
  }
  check(name: string, total: number): ProofCheck {
    const more = this.failing.length > MAX_NAMED ? ` and ${this.failing.length - MAX_NAMED} more` : '';
    return {
      name,
      ok: this.failing.length === 0 && this.ok === total,
      detail: `${this.ok}/${total}${this.failing.length ? `; failing: ${this.failing.slice(0, MAX_NAMED).join(', ')}${more}` : ''}`,
    };
  }
}

interface WorkOrderRecordView {
  workOrderId: string;
  orderId: string;
  brandMspId: string;
  factoryMspId: string;
  termsHash: string;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Same rule as the services: the last state in force at `t` is CERTIFIED and not expired. */
export function certifiedAt(states: readonly BundleDeviceState[], t: number): boolean {
  let current: BundleDeviceState | undefined;
  for (const s of states) {
    if (Date.parse(s.from) <= t) current = s;
    else break;
  }
  return (
    current !== undefined &&
    current.status === 'CERTIFIED' &&
    current.validUntil !== undefined &&
    t < Date.parse(current.validUntil)
  );
}

function keyInForce(states: readonly BundleDeviceState[], t: number): string | undefined {
  let key: string | undefined;
  for (const s of states) if (Date.parse(s.from) <= t) key = s.publicKeyPem ?? key;
  return key;
}

export async function merkleRoot(leaf: Uint8Array, proof: BundleEventProof): Promise<string> {
  let node = leaf;
  for (const step of proof) {
    const sibling = fromHex(step.hash);
    if (sibling.length !== 32) throw new Error('Merkle sibling is not 32 bytes');
    if (step.position === 'left') node = sha256Sync(concat(sibling, node));
    else if (step.position === 'right') node = sha256Sync(concat(node, sibling));
    else throw new Error('Merkle step position is neither left nor right');
  }
  return toHex(node);
}
type BundleEventProof = ProofBundleV2['events'][number]['proof'];

export async function leafHash(message: string): Promise<Uint8Array> {
  return sha256Sync(concat(new Uint8Array([0]), utf8(message)));
}

interface Body {
  deviceId: string;
  seq: number;
  time: string;
  data: Record<string, unknown>;
}

function parseBody(message: string): Body {
  const b = JSON.parse(message) as Partial<Body> | null;
  if (
    !b ||
    typeof b !== 'object' ||
    typeof b.deviceId !== 'string' ||
    !Number.isSafeInteger(b.seq) ||
    typeof b.time !== 'string' ||
    Number.isNaN(Date.parse(b.time)) ||
    !b.data ||
    typeof b.data !== 'object'
  ) {
    throw new Error('not a device message body');
  }
  // One event has one byte form; a non-canonical body would be a second leaf for the same event.
  if (canonicalJson(b) !== message) throw new Error('body is not canonical JSON');
  return b as Body;
}

/** A policy's text with every OutOf's rules in sorted order: equal for policies that differ only in rule order. */
function samePolicyText(p: Policy): string {
  if (p.kind === 'principal') return formatPolicy(p);
  return `OutOf(${p.n}, ${p.rules.map(samePolicyText).sort().join(', ')})`;
}

function sameTrust(bundle: ProofBundleV2, trust: PinnedTrust): string | undefined {
  if (canonicalJson(bundle.caCertificates) !== canonicalJson(trust.caCertificates)) {
    return "the bundle's CA certificates differ from the pinned ones";
  }
  try {
    if (samePolicyText(parsePolicy(bundle.endorsementPolicy)) !== samePolicyText(trust.endorsementPolicy)) {
      return "the bundle's endorsement policy differs from the pinned one";
    }
    if (bundle.endorsementPolicy !== bundle.endorsementPolicy.trim()) return 'endorsement policy has stray spaces';
  } catch (err) {
    return `the bundle's endorsement policy does not parse: ${errText(err)}`;
  }
  return undefined;
}

export async function verifyBundle(
  bundle: ProofBundleV2,
  options: VerifyBundleOptions = {},
): Promise<BundleVerification> {
  const checks: ProofCheck[] = [];
  const timeRules: TimeRules = { ...DEFAULT_TIME_RULES, ...options.timeRules };
  const totals = { events: 0, units: 0, qcPass: 0, qcFail: 0, batches: 0, batchesWithoutTotals: 0 };
  const done = (): BundleVerification => ({ valid: checks.length > 0 && checks.every((c) => c.ok), checks, totals });
  if (!options.trust) {
    checks.push({
      name: 'trust-anchors',
      ok: false,
      detail:
        "no pinned CA certificates and endorsement policy: the bundle's own prove nothing, so nothing was checked",
    });
    return done();
  }
  const trust: PinnedTrust = {
    ...options.trust,
    endorsementPolicy:
      typeof options.trust.endorsementPolicy === 'string'
        ? parsePolicy(options.trust.endorsementPolicy)
        : options.trust.endorsementPolicy,
  };
  checks.push({
    name: 'trust-anchors',
    ok: true,
    detail: `pinned by the verifier: CAs of ${Object.keys(trust.caCertificates).sort().join(', ')}; policy ${formatPolicy(trust.endorsementPolicy)}; orderer org ${trust.ordererMspIds.join(', ')}`,
  });
  if (!bundle || typeof bundle !== 'object' || bundle.version !== 2) {
    checks.push({ name: 'format', ok: false, detail: `unknown bundle version ${String(bundle?.version)}` });
    return done();
  }
  const isRecord = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const missing: string[] = (['anchors', 'devices', 'transactions', 'blocks', 'caCertificates'] as const).filter(
    (k) => !isRecord(bundle[k]),
  );
  if (bundle.workOrder !== null && !isRecord(bundle.workOrder)) missing.push('workOrder');
  if (!Array.isArray(bundle.events)) missing.push('events');
  if (bundle.epcisEvents !== undefined && !Array.isArray(bundle.epcisEvents)) missing.push('epcisEvents');
  if (missing.length > 0) {
    checks.push({ name: 'format', ok: false, detail: `missing or malformed: ${missing.join(', ')}` });
    return done();
  }
  const mismatch = sameTrust(bundle, trust);
  checks.push({ name: 'format', ok: !mismatch, detail: mismatch ?? 'version 2; CAs and policy as pinned' });
  const ids = new TrustedIdentities(trust);

  // EPCIS messages are read first: their owners are the orgs whose anchors the bundle may rely on.
  const epcisList = Array.isArray(bundle.epcisEvents) ? bundle.epcisEvents : [];
  const epcisParsed: (EpcisSignedMessage | Error)[] = epcisList.map((e) => {
    try {
      return parseEpcisMessage(String(e?.message));
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  });
  const owners = new Set<string>();
  if (bundle.workOrder) owners.add(bundle.workOrder.factoryMspId);
  /** Device leaf → the owner of the EPCIS event that names it as a source. */
  const sourceOwner = new Map<string, string>();
  for (const m of epcisParsed) {
    if (m instanceof Error) continue;
    owners.add(m.ownerMspId);
    for (const leaf of m.sourceLeaves ?? []) sourceOwner.set(leaf, m.ownerMspId);
  }

  // Blocks.
  const blockHashes = new Map<number, string>();
  const blocks = Object.entries(bundle.blocks ?? {});
  const blockTally = new Tally();
  for (const [key, block] of blocks) {
    try {
      if (key !== String(block.header.number)) throw new ProofError(`listed as block ${key}`);
      blockHashes.set(block.header.number, await verifyBlockProof(block, ids));
      blockTally.ok++;
    } catch (err) {
      blockTally.fail(`block ${key} (${errText(err)})`);
    }
  }
  checks.push(blockTally.check('blocks signed by the orderer', blocks.length));

  // Transactions, in ledger order, so key-level policies set by earlier ones apply to later ones.
  const proven = new Map<string, ProvenTransaction>();
  const keyPolicies = new Map<string, Policy>();
  const txs = Object.entries(bundle.transactions ?? {}).sort(
    ([, a], [, b]) => a.blockNumber - b.blockNumber || a.txIndex - b.txIndex,
  );
  const txTally = new Tally();
  for (const [txId, t] of txs) {
    try {
      const block = bundle.blocks?.[String(t.blockNumber)] as BlockProof | undefined;
      const hash = blockHashes.get(t.blockNumber);
      if (!block || !hash) throw new ProofError(`block ${t.blockNumber} is not proven`);
      const p = await verifyTransaction(t.envelope, t.txIndex, block, hash, ids, keyPolicies);
      if (p.txId !== txId)
        throw new ProofError(`listed as ${txId.slice(0, 12)}…, the envelope is ${p.txId.slice(0, 12)}…`);
      learnKeyPolicies(p, keyPolicies);
      proven.set(txId, p);
      txTally.ok++;
    } catch (err) {
      txTally.fail(`${txId.slice(0, 12)}… (${errText(err)})`);
    }
  }
  checks.push(txTally.check('transactions committed VALID and endorsed per the pinned policy', txs.length));

  // The work order.
  const wo = bundle.workOrder;
  if (!wo) {
    checks.push(
      epcisList.length > 0
        ? { name: 'work order on the ledger', ok: true, detail: 'none named: the bundle proves EPCIS events only' }
        : {
            name: 'work order on the ledger',
            ok: false,
            detail: 'the bundle names no work order and holds no EPCIS events',
          },
    );
  } else {
    let detail = '';
    try {
      if (!wo?.ledger) throw new ProofError('the work order is not on the ledger');
      // Its record from revision 1 (the commit, which sets brand and factory as the record's owners) to the
      // transaction the bundle names (the acceptance, endorsed under that key-level policy).
      const ids = Array.isArray(wo.ledgerTxIds) ? wo.ledgerTxIds : [];
      let r: (WorkOrderRecordView & { revision: number }) | undefined;
      for (const [i, txId] of ids.entries()) {
        const tx = proven.get(txId);
        if (!tx) throw new ProofError(`transaction ${txId.slice(0, 12)}… is not proven`);
        r = writtenRecord<WorkOrderRecordView & { revision: number }>(tx, Keys.workOrder, wo.id);
        if (!r || r.revision !== i + 1)
          throw new ProofError('history is not the complete sequence of record revisions');
      }
      const tx = proven.get(wo.ledger.txId);
      if (!r || !tx || ids[ids.length - 1] !== wo.ledger.txId || tx.blockNumber !== wo.ledger.blockNumber) {
        throw new ProofError('its transactions are not proven');
      }
      for (const f of ['orderId', 'brandMspId', 'factoryMspId', 'termsHash'] as const) {
        if (r[f] !== wo[f]) throw new ProofError(`${f} differs from the ledger record`);
      }
      if (r.workOrderId !== wo.id) throw new ProofError('id differs from the ledger record');
      detail = `committed in block ${tx.blockNumber} by ${wo.brandMspId} for ${wo.factoryMspId} (quantity is in the private terms, bound by termsHash, not checked)`;
      checks.push({ name: 'work order on the ledger', ok: true, detail });
    } catch (err) {
      checks.push({ name: 'work order on the ledger', ok: false, detail: errText(err) });
    }
  }

  // Anchors.
  const provenAnchors = new Set<string>();
  const anchorTimes = new Map<string, number>();
  const anchors = Object.entries(bundle.anchors ?? {});
  const anchorTally = new Tally();
  for (const [batchId, a] of anchors) {
    try {
      checkAnchor(batchId, a, proven, blockHashes, owners);
      provenAnchors.add(batchId);
      const anchorTx = proven.get(a.txId);
      if (anchorTx) anchorTimes.set(batchId, anchorTx.timestampMs);
      anchorTally.ok++;
      totals.batches++;
      const t = wo ? a.totals?.[wo.id] : undefined;
      if (!a.totals) totals.batchesWithoutTotals++;
      else if (t) {
        totals.events += t.events;
        totals.units += t.units;
        totals.qcPass += t.qcPass;
        totals.qcFail += t.qcFail;
      }
    } catch (err) {
      anchorTally.fail(`${batchId} (${errText(err)})`);
    }
  }
  checks.push(anchorTally.check('anchors proven on the ledger (offline)', anchors.length));
  if (anchors.length === 0) checks.push({ name: 'anchors', ok: false, detail: 'the bundle holds no anchors' });

  // Devices: their whole record history from proven transactions.
  const deviceStates = new Map<string, readonly BundleDeviceState[]>();
  const devices = Object.entries(bundle.devices ?? {});
  const deviceTally = new Tally();
  for (const [deviceId, d] of devices) {
    try {
      deviceStates.set(deviceId, await checkDevice(deviceId, d, proven, ids, options.at ?? new Date()));
      deviceTally.ok++;
    } catch (err) {
      deviceTally.fail(`${deviceId} (${errText(err)})`);
    }
  }
  checks.push(deviceTally.check('device certificates and histories bound to ledger records', devices.length));

  // Events.
  const events = Array.isArray(bundle.events) ? bundle.events : [];
  const leaves = new Tally();
  const paths = new Tally();
  const signatures = new Tally();
  const certified = new Tally();
  const belongs = new Tally();
  const seen = new Set<string>();
  const spkis = new Map<string, ReturnType<typeof parseSpki>>();
  /** Device leaves whose every check passed: what a device-derived EPCIS event may name as its sources. */
  const provenLeaves = new Set<string>();
  for (const [i, e] of events.entries()) {
    let good = true;
    let label = `event ${i}`;
    let body: Body | undefined;
    try {
      body = parseBody(e.message);
      label = `${body.deviceId}#${body.seq}`;
      if (seen.has(label)) throw new Error('duplicate event');
      seen.add(label);
    } catch (err) {
      label = `${label} (${errText(err)})`;
    }
    const leaf = await leafHash(String(e.message));
    if (toHex(leaf) === e.leafHash) leaves.ok++;
    else {
      leaves.fail(label);
      good = false;
    }
    try {
      const anchor = bundle.anchors?.[e.batchId];
      if (!anchor || !provenAnchors.has(e.batchId)) throw new Error('batch not proven');
      if ((await merkleRoot(leaf, e.proof)) === anchor.merkleRoot) paths.ok++;
      else {
        paths.fail(label);
        good = false;
      }
    } catch (err) {
      paths.fail(`${label} (${errText(err)})`);
      good = false;
    }
    const states = body ? deviceStates.get(body.deviceId) : undefined;
    if (!body || !states) {
      for (const t of [signatures, certified, belongs]) t.fail(body ? `${label} (device not proven)` : label);
      continue;
    }
    const t = Date.parse(body.time);
    try {
      const pem = keyInForce(states, t);
      if (!pem) throw new Error('no key in force');
      let key = spkis.get(pem);
      if (!key) {
        key = parseSpki(pemToDer(pem));
        spkis.set(pem, key);
      }
      if (await verifyRaw(key, utf8(e.message), fromBase64Url(e.sig))) signatures.ok++;
      else {
        signatures.fail(label);
        good = false;
      }
    } catch (err) {
      signatures.fail(`${label} (${errText(err)})`);
      good = false;
    }
    const anchoredAt = anchorTimes.get(e.batchId);
    const late = anchoredAt === undefined ? 'anchor time not proven' : timeProblem(states, t, anchoredAt, timeRules);
    if (certifiedAt(states, t) && late === undefined) certified.ok++;
    else {
      certified.fail(late ? `${label} (${late})` : label);
      good = false;
    }
    const device = bundle.devices?.[body.deviceId];
    const factory = device?.factoryMspId;
    // The batch a device message is proven in is its own factory's, whatever other anchors the bundle holds.
    const inOwnBatch = factory !== undefined && bundle.anchors?.[e.batchId]?.factoryMspId === factory;
    const mine = wo
      ? body.data.workOrderId === wo.id && factory === wo.factoryMspId
      : factory !== undefined && sourceOwner.get(e.leafHash) === factory;
    if (mine && inOwnBatch) belongs.ok++;
    else belongs.fail(label);
    if (good) provenLeaves.add(e.leafHash);
  }
  const n = events.length;
  if (n > 0) {
    checks.push(leaves.check('leaf hashes recompute from the signed messages', n));
    checks.push(paths.check('Merkle paths reach proven anchored roots', n));
    checks.push(signatures.check('device signatures with the ledger key in force', n));
    checks.push(certified.check('device certified at event time, and the time consistent with its anchor', n));
    checks.push(
      belongs.check(
        wo
          ? 'events belong to this work order and factory'
          : "events are sources of this bundle's EPCIS events, from their owner's devices",
        n,
      ),
    );
  }
  if (epcisList.length > 0) {
    for (const c of await checkEpcisEvents(bundle, epcisParsed, ids, provenAnchors, provenLeaves)) checks.push(c);
  }
  if (wo) {
    checks.push({
      name: 'totals',
      ok: true,
      detail: `${totals.units} units, ${totals.events} events, QC ${totals.qcPass} passed / ${totals.qcFail} failed in ${totals.batches - totals.batchesWithoutTotals} batches with committed totals${totals.batchesWithoutTotals ? `; ${totals.batchesWithoutTotals} older batches carry no totals (their events are counted only if the bundle holds them)` : ''}; ${n} full events checked`,
    });
  }
  checks.push(
    bundle.publicCheckpoint === undefined
      ? { name: 'public-checkpoint', ok: true, detail: 'not present (the bundle claims none)' }
      : {
          name: 'public-checkpoint',
          ok: false,
          detail: 'the bundle claims a public checkpoint, which this verifier cannot check yet',
        },
  );
  return done();
}

/**
 * The EPCIS events of a bundle, each check on its own line: leaf, Merkle path to an anchor of the event's owner,
 * the signer's certificate chained to the pinned CA of the signing org (the owner itself, or the platform for an
 * event it derived from device messages), the signature over the message, the CBV 2.0 event hash recomputed from
 * the event, and every source device message of a device-derived event proven in the bundle's `events`.
 */
async function checkEpcisEvents(
  bundle: ProofBundleV2,
  parsed: readonly (EpcisSignedMessage | Error)[],
  ids: TrustedIdentities,
  provenAnchors: ReadonlySet<string>,
  provenLeaves: ReadonlySet<string>,
): Promise<ProofCheck[]> {
  const list = bundle.epcisEvents ?? [];
  const leaves = new Tally();
  const paths = new Tally();
  const certs = new Tally();
  const sigs = new Tally();
  const hashes = new Tally();
  const sources = new Tally();
  let derived = 0;
  const seen = new Set<string>();
  for (const [i, e] of list.entries()) {
    const m = parsed[i];
    let label = `EPCIS event ${i}`;
    if (m instanceof Error || m === undefined) label = `${label} (${m?.message ?? 'missing'})`;
    else {
      label = m.eventID;
      if (seen.has(`${m.eventID} ${m.event.errorDeclaration === undefined ? 'E' : 'D'}`)) label += ' (duplicate)';
      seen.add(`${m.eventID} ${m.event.errorDeclaration === undefined ? 'E' : 'D'}`);
    }
    const message = String(e?.message);
    const leaf = await leafHash(message);
    if (toHex(leaf) === e?.leafHash) leaves.ok++;
    else leaves.fail(label);
    try {
      const anchor = bundle.anchors?.[e.batchId];
      if (!anchor || !provenAnchors.has(e.batchId)) throw new Error('batch not proven');
      if (!(m instanceof Error) && m && anchor.factoryMspId !== m.ownerMspId) {
        throw new Error(`anchored by ${anchor.factoryMspId}, not by its owner ${m.ownerMspId}`);
      }
      if ((await merkleRoot(leaf, e.proof)) === anchor.merkleRoot) paths.ok++;
      else paths.fail(label);
    } catch (err) {
      paths.fail(`${label} (${errText(err)})`);
    }
    if (m instanceof Error || m === undefined) {
      for (const t of [certs, sigs, hashes]) t.fail(label);
      continue;
    }
    const sourceLeaves = m.sourceLeaves ?? [];
    try {
      // Who may sign: the owner's own users, or the platform for an event it derived from device messages.
      const signerMay =
        m.signer.mspId === m.ownerMspId || (m.signer.mspId === Orgs.platform && sourceLeaves.length > 0);
      if (!signerMay) throw new Error(`${m.signer.mspId} may not sign ${m.ownerMspId}'s events`);
      const at = Date.parse(m.recordTime);
      if (Number.isNaN(at)) throw new Error('recordTime is not a time');
      const cert = await ids.certificate(m.signer.mspId, String(e.signerCertificate), at);
      certs.ok++;
      try {
        if (await verifyDer(cert.publicKey, utf8(message), fromBase64(String(e.signature)))) sigs.ok++;
        else sigs.fail(label);
      } catch (err) {
        sigs.fail(`${label} (${errText(err)})`);
      }
    } catch (err) {
      certs.fail(`${label} (${errText(err)})`);
      sigs.fail(`${label} (certificate not trusted)`);
    }
    try {
      const recomputed = epcisEventHash(m.event as Record<string, unknown>, m.context);
      if (recomputed !== m.eventHash) throw new Error(`hash recomputes to ${recomputed}`);
      if (m.eventIdFrom === 'hash' && m.eventID !== m.eventHash) throw new Error('eventID is not its hash');
      hashes.ok++;
    } catch (err) {
      hashes.fail(`${label} (${errText(err)})`);
    }
    if (sourceLeaves.length > 0) {
      derived++;
      const unproven = sourceLeaves.filter((l) => !provenLeaves.has(l));
      if (unproven.length === 0) sources.ok++;
      else sources.fail(`${label} (${unproven.length} of ${sourceLeaves.length} source messages not proven)`);
    }
  }
  const n = list.length;
  return [
    leaves.check('EPCIS leaf hashes recompute from the signed messages', n),
    paths.check("EPCIS Merkle paths reach proven anchored roots of the events' owners", n),
    certs.check('EPCIS signer certificates chain to the pinned CA of the signing org', n),
    sigs.check('EPCIS signatures over the messages verify', n),
    hashes.check('EPCIS event hashes recompute from the events (CBV 2.0) and match their eventIDs', n),
    derived > 0
      ? sources.check(
          'device-derived EPCIS events: every source device message proven, certified at event time',
          derived,
        )
      : {
          name: 'device-derived EPCIS events: every source device message proven, certified at event time',
          ok: true,
          detail: 'none of the EPCIS events is device-derived',
        },
  ];
}
