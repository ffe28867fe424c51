import { type ProofBundleV2, verifyBundle } from '@c2m/shared';
import type { ProofTrust, VerifyResult } from '../api';

/**
 * Verifies a proof bundle in the browser with the same code the CLI and the platform run (`@c2m/shared`'s
 * verifyBundle, WebCrypto only), against the trust this browser pinned: every anchor, the work order and each
 * device's history proven from committed transactions, block headers and orderer signatures; every event's
 * signature, Merkle path and certification. Trusts neither the platform's verifier nor its database.
 */
export async function verifyProofBundleInBrowser(
  bundle: ProofBundleV2,
  pinned: { trust: ProofTrust; changed: boolean },
): Promise<VerifyResult> {
  const r = await verifyBundle(bundle, { trust: pinned.trust });
  const checks = [...r.checks];
  if (pinned.changed) {
    checks.push({
      name: 'pinned trust',
      ok: false,
      detail: 'the platform now serves other CA certificates or policy than this browser pinned on first use',
    });
  }
  return { valid: r.valid && !pinned.changed, checks, totals: r.totals };
}
