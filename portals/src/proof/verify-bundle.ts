import type { ProofBundle, ProofCheck, ProofEvent, VerifyResult } from '../api';
import { fromHex, type MerkleRule, sameHex, sha256CanonicalRule, toHex } from './merkle-rule';

/** Recomputes the root an event's Merkle path leads to, starting from its leaf hash. */
export async function rootFromPath(leaf: Uint8Array, event: ProofEvent, rule: MerkleRule): Promise<Uint8Array> {
  let acc = leaf;
  for (const step of event.proof) {
    const sibling = fromHex(step.hash);
    // `position` says where the sibling sits relative to the running hash.
    acc = step.position === 'left' ? await rule.node(sibling, acc) : await rule.node(acc, sibling);
  }
  return acc;
}

function eventLabel(e: ProofEvent, index: number): string {
  const m = e.message as { deviceId?: unknown; seq?: unknown } | null;
  if (m && typeof m === 'object' && typeof m.deviceId === 'string') {
    return `${m.deviceId}#${typeof m.seq === 'number' || typeof m.seq === 'string' ? m.seq : index}`;
  }
  return `event ${index}`;
}

/**
 * Verifies a proof bundle in the browser, without trusting the platform's verifier:
 * every event's leaf hash must recompute from its message, and its Merkle path must
 * lead to the root anchored on the ledger for its batch. Checks are grouped per
 * batch so a bundle of thousands of events still gives a readable list; the first
 * failures are named individually.
 *
 * What it does not check (the platform verifier does): device signatures and
 * certificates against the CA, and the anchor transaction inside the ledger block.
 */
export async function verifyProofBundleInBrowser(
  bundle: ProofBundle,
  rule: MerkleRule = sha256CanonicalRule,
): Promise<VerifyResult> {
  const checks: ProofCheck[] = [];
  checks.push({
    name: 'bundle format',
    ok: bundle.version === 1 && Array.isArray(bundle.events),
    detail: `version ${String(bundle.version)}`,
  });
  const events = Array.isArray(bundle.events) ? bundle.events : [];
  checks.push({ name: 'bundle has events', ok: events.length > 0, detail: `${events.length} events` });

  const byBatch = new Map<string, { index: number; event: ProofEvent }[]>();
  events.forEach((event, index) => {
    const list = byBatch.get(event.batchId) ?? [];
    list.push({ index, event });
    byBatch.set(event.batchId, list);
  });

  const MAX_NAMED_FAILURES = 5;
  let namedFailures = 0;
  for (const [batchId, list] of byBatch) {
    const anchor = bundle.anchors?.[batchId];
    checks.push({
      name: `batch ${batchId}: anchored on the ledger`,
      ok: Boolean(anchor?.merkleRoot && anchor.txId),
      detail: anchor
        ? `root ${anchor.merkleRoot} in tx ${anchor.txId}, block ${anchor.blockNumber}`
        : 'no anchor in bundle',
    });
    let leafOk = 0;
    let pathOk = 0;
    for (const { index, event } of list) {
      const label = eventLabel(event, index);
      let leaf: Uint8Array;
      try {
        leaf = await rule.leaf(event.message);
      } catch (e) {
        if (namedFailures++ < MAX_NAMED_FAILURES) {
          checks.push({ name: `leaf ${label}`, ok: false, detail: `cannot hash message: ${String(e)}` });
        }
        continue;
      }
      const leafHex = toHex(leaf);
      if (sameHex(leafHex, event.leafHash)) leafOk++;
      else if (namedFailures++ < MAX_NAMED_FAILURES) {
        checks.push({ name: `leaf ${label}`, ok: false, detail: `computed ${leafHex}, bundle says ${event.leafHash}` });
      }
      if (!anchor) continue;
      try {
        // The path starts from the hash we computed, so a tampered message cannot ride on a valid path.
        const root = toHex(await rootFromPath(leaf, event, rule));
        if (sameHex(root, anchor.merkleRoot)) pathOk++;
        else if (namedFailures++ < MAX_NAMED_FAILURES) {
          checks.push({ name: `path ${label}`, ok: false, detail: `leads to ${root}, anchored ${anchor.merkleRoot}` });
        }
      } catch (e) {
        if (namedFailures++ < MAX_NAMED_FAILURES) checks.push({ name: `path ${label}`, ok: false, detail: String(e) });
      }
    }
    checks.push({
      name: `batch ${batchId}: leaf hashes recompute from the messages`,
      ok: leafOk === list.length,
      detail: `${leafOk}/${list.length}`,
    });
    checks.push({
      name: `batch ${batchId}: Merkle paths reach the anchored root`,
      ok: pathOk === list.length,
      detail: `${pathOk}/${list.length}`,
    });
  }
  return { valid: checks.every((c) => c.ok), checks };
}
