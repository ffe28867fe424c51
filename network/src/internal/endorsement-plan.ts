import { evaluatePolicy, type Policy, type PolicyIdentity, policyOrgs } from '../policy.js';
import type { CollectionConfig } from './simulator.js';

/**
 * How the Fabric Gateway (2.5, internal/pkg/gateway/endorse.go) picks endorsers when the client names none,
 * as a pure function so the embedded engine refuses exactly the plans the Gateway refuses.
 *
 * The Gateway simulates on a peer of its own org first, then asks discovery for a layout that satisfies every
 * policy the read/write set needs, preferring that org. With transient data it is cautious: every collection
 * the simulation touched (read or written) must be held by every endorser chosen, because an endorser sees the
 * transient map in clear. A plan that needs a non-member is refused with FAILED_PRECONDITION, even where Fabric's
 * validation would accept its endorsement: the client must name trusted endorsers itself.
 */
export type PlanResult =
  | { readonly ok: true; readonly orgs: readonly string[] }
  | { readonly ok: false; readonly message: string };

/** The Gateway's own text, so callers and logs read the same on both ledgers. */
export const NO_LOCAL_ENDORSER =
  "no endorsers found in the gateway's organization; retry specifying endorsing organization(s) to protect transient data";

export function nonMemberMessage(collections: readonly string[]): string {
  return `requires endorsement from organisation(s) that are not in the distribution policy of the private data collection(s): [${collections.join(' ')}]; retry specifying trusted endorsing organizations to protect transient data`;
}

/** The first org, then the policies' orgs in order, added greedily until every policy is satisfiable. */
export function greedyOrgs(firstMspId: string, policies: readonly Policy[], eligible: (mspId: string) => boolean) {
  const candidates = [firstMspId, ...policies.flatMap(policyOrgs)].filter(
    (m, i, all) => eligible(m) && all.indexOf(m) === i,
  );
  const chosen: string[] = [];
  for (const org of candidates) {
    chosen.push(org);
    const ids: PolicyIdentity[] = chosen.map((m) => ({ mspId: m, roles: new Set(['peer']) }));
    if (policies.every((p) => evaluatePolicy(p, ids))) return { satisfied: true, orgs: chosen };
  }
  return { satisfied: false, orgs: chosen };
}

export interface PlanInput {
  /** The org whose peer simulated first (the gateway's org). */
  readonly firstMspId: string;
  /** Every policy the read/write set must satisfy. */
  readonly policies: readonly Policy[];
  /** Orgs with a peer on the channel. */
  readonly hasPeer: (mspId: string) => boolean;
  /** Whether the proposal carried a non-empty transient map. */
  readonly hasTransientData: boolean;
  /** Names of the collections the simulation read or wrote. */
  readonly collectionsTouched: readonly string[];
  readonly collections: Readonly<Record<string, CollectionConfig>>;
}

export function endorsementPlan(input: PlanInput): PlanResult {
  const everyone = greedyOrgs(input.firstMspId, input.policies, input.hasPeer);
  const protectedCollections = input.hasTransientData ? [...new Set(input.collectionsTouched)] : [];
  if (protectedCollections.length === 0) return { ok: true, orgs: everyone.orgs };
  const isMember = (m: string) => protectedCollections.every((c) => input.collections[c]?.members.includes(m) ?? false);
  const members = greedyOrgs(input.firstMspId, input.policies, (m) => input.hasPeer(m) && isMember(m));
  if (members.satisfied) return { ok: true, orgs: members.orgs };
  // As the Gateway: only when the plan would have worked without the caution is it the collections' fault.
  if (everyone.satisfied) return { ok: false, message: nonMemberMessage(protectedCollections) };
  return { ok: true, orgs: everyone.orgs };
}
