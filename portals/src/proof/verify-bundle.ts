import { canonicalJson, DeviceStatuses } from '@c2m/shared';
import type { BundleDeviceState, ProofBundle, ProofCheck, ProofEvent, VerifyResult } from '../api';
import { importDeviceKey, verifyEs256 } from './device-signature';
import { c2mMerkleRule, fromHex, type MerkleRule, sameHex, toHex } from './merkle-rule';

/** Recomputes the root an event's Merkle path leads to, from a leaf hash. */
export async function rootFromPath(
  leaf: Uint8Array,
  proof: ProofEvent['proof'],
  rule: MerkleRule = c2mMerkleRule,
): Promise<Uint8Array> {
  let acc = leaf;
  for (const step of proof) {
    const sibling = fromHex(step.hash);
    acc = step.position === 'left' ? await rule.node(sibling, acc) : await rule.node(acc, sibling);
  }
  return acc;
}

interface MessageBody {
  deviceId: string;
  seq: number;
  time: string;
  data: Record<string, unknown>;
}

function parseBody(message: string): MessageBody {
  const b = JSON.parse(message) as Partial<MessageBody> | null;
  if (!b || typeof b.deviceId !== 'string' || typeof b.seq !== 'number' || typeof b.time !== 'string') {
    throw new Error('not a device message body');
  }
  // One event has one byte form; a non-canonical body would be a second leaf for the same event.
  if (canonicalJson(b) !== message) throw new Error('body is not canonical JSON');
  return { deviceId: b.deviceId, seq: b.seq, time: b.time, data: (b.data ?? {}) as Record<string, unknown> };
}

/** Same rule as the services' `certifiedAt`: the last state in force at `t` is CERTIFIED and not expired. */
export function certifiedAt(states: readonly BundleDeviceState[], t: number): boolean {
  let current: BundleDeviceState | undefined;
  for (const s of [...states].sort((a, b) => Date.parse(a.from) - Date.parse(b.from))) {
    if (Date.parse(s.from) <= t) current = s;
    else break;
  }
  return (
    current !== undefined &&
    current.status === DeviceStatuses.certified &&
    (current.validUntil === undefined || t < Date.parse(current.validUntil))
  );
}

const MAX_NAMED = 5;

class Tally {
  ok = 0;
  readonly failing: string[] = [];
  pass() {
    this.ok++;
  }
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

/**
 * Verifies a proof bundle in the browser, trusting neither the platform's
 * verifier nor its database: for every event, the leaf hash recomputes from the
 * signed message, the Merkle path leads from that leaf to the root anchored on
 * the ledger for its batch, the device's ES256 signature verifies with the key
 * the ledger holds for it, the device was certified at the event's time, and the
 * event is about this work order from this work order's factory.
 *
 * Not checked here (the platform verifier does): X.509 chains of device
 * certificates to the factory CAs, and the anchor transactions inside ledger blocks.
 */
export async function verifyProofBundleInBrowser(
  bundle: ProofBundle,
  rule: MerkleRule = c2mMerkleRule,
): Promise<VerifyResult> {
  const checks: ProofCheck[] = [];
  const events = Array.isArray(bundle.events) ? bundle.events : [];
  checks.push({ name: 'bundle format', ok: bundle.version === 1, detail: `version ${String(bundle.version)}` });
  checks.push({ name: 'bundle has events', ok: events.length > 0, detail: `${events.length} events` });

  // The key in force at the event's time: after a key rotation, older events were signed with the older key.
  const keys = new Map<string, Promise<CryptoKey | null>>();
  const keyFor = (deviceId: string, t: number) => {
    const device = bundle.devices?.[deviceId];
    let pem = device?.publicKeyPem;
    for (const s of [...(device?.states ?? [])].sort((a, b) => Date.parse(a.from) - Date.parse(b.from))) {
      if (Date.parse(s.from) <= t) pem = s.publicKeyPem ?? pem;
    }
    if (!pem) return Promise.resolve(null);
    let k = keys.get(pem);
    if (!k) {
      k = importDeviceKey(pem).catch(() => null);
      keys.set(pem, k);
    }
    return k;
  };

  const leaves = new Tally();
  const paths = new Tally();
  const signatures = new Tally();
  const certified = new Tally();
  const belongs = new Tally();

  for (const [i, e] of events.entries()) {
    let label = `event ${i}`;
    let body: MessageBody | undefined;
    try {
      body = parseBody(e.message);
      label = `${body.deviceId}#${body.seq}`;
    } catch (err) {
      label = `${label} (${(err as Error).message})`;
    }

    const leaf = await rule.leaf(e.message);
    if (sameHex(toHex(leaf), e.leafHash)) leaves.pass();
    else leaves.fail(label);

    // Walk from the hash we computed, so a tampered message cannot ride on someone else's valid path.
    const anchor = bundle.anchors?.[e.batchId];
    try {
      const root = toHex(await rootFromPath(leaf, e.proof, rule));
      if (anchor && sameHex(root, anchor.merkleRoot)) paths.pass();
      else paths.fail(anchor ? label : `${label} (batch not anchored)`);
    } catch (err) {
      paths.fail(`${label} (${(err as Error).message})`);
    }

    if (!body) {
      signatures.fail(label);
      certified.fail(label);
      belongs.fail(label);
      continue;
    }
    const device = bundle.devices?.[body.deviceId];
    const key = await keyFor(body.deviceId, Date.parse(body.time));
    if (key && (await verifyEs256(key, e.message, e.sig).catch(() => false))) signatures.pass();
    else signatures.fail(key ? label : `${label} (no device key)`);

    if (device?.states && certifiedAt(device.states, Date.parse(body.time))) certified.pass();
    else certified.fail(label);

    if (body.data.workOrderId === bundle.workOrder?.id && device?.factoryMspId === bundle.workOrder?.factoryMspId) {
      belongs.pass();
    } else belongs.fail(label);
  }

  const n = events.length;
  checks.push(leaves.check('leaf hashes recompute from the signed messages', n));
  checks.push(paths.check('Merkle paths reach the anchored roots', n));
  checks.push(signatures.check('device signatures (ES256, ledger keys)', n));
  checks.push(certified.check('device certified at event time', n));
  checks.push(belongs.check('events belong to this work order and factory', n));

  // Anchors are few per work order but can still be dozens; one line, naming the failing ones.
  const anchors = new Tally();
  const anchorList = Object.entries(bundle.anchors ?? {});
  for (const [batchId, anchor] of anchorList) {
    if (!anchor.txId || typeof anchor.blockNumber !== 'number') anchors.fail(`${batchId} (not committed)`);
    else if (anchor.factoryMspId !== undefined && anchor.factoryMspId !== bundle.workOrder?.factoryMspId) {
      anchors.fail(`${batchId} (another factory)`);
    } else anchors.pass();
  }
  checks.push(anchors.check('anchors committed on the ledger for this factory', anchorList.length));
  return { valid: checks.every((c) => c.ok), checks };
}
