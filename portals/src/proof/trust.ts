import type { ApiClient, ProofTrust } from '../api';

const KEY = 'c2m.proofTrust.v1';

/**
 * The trust the browser verifier pins: the consortium's CA certificates, endorsement policy, channel and
 * orderer orgs. Fetched from the platform on first use (GET /api/proofs/trust) and kept in localStorage, so a
 * later change on the platform's side cannot quietly re-pin it: bundles are then checked against the first
 * copy, and `changed` says the platform now serves another. A financier who wants independence from the
 * platform compares the pinned copy with the one the consortium published (the CLI's --ca-dir holds the same).
 */
export async function pinnedTrust(
  api: Pick<ApiClient, 'proofTrust'>,
): Promise<{ trust: ProofTrust; changed: boolean }> {
  const served = await api.proofTrust();
  const stored = localStorage.getItem(KEY);
  if (!stored) {
    localStorage.setItem(KEY, JSON.stringify(served));
    return { trust: served, changed: false };
  }
  const trust = JSON.parse(stored) as ProofTrust;
  return { trust, changed: JSON.stringify(trust) !== JSON.stringify(served) };
}
