/**
 * Endorsement policies: parsing, evaluation (Fabric's cauthdsl) and key-level policy envelopes. The code lives
 * in `@c2m/shared` (shared/src/proof/policy.ts) so that the engine and the offline proof verifier, in Node and
 * in the browser, apply one rule; this module keeps the network's import path.
 */
export {
  defaultPolicy,
  evaluatePolicy,
  formatPolicy,
  type Policy,
  type PolicyIdentity,
  PolicyParseError,
  type PrincipalRole,
  parsePolicy,
  policyFromSignaturePolicyEnvelope,
  policyOrgs,
} from '@c2m/shared';
