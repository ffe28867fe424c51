import type { OrgRecord } from '@c2m/chaincode';
import type { Ledger, LedgerIdentity, OrgKind } from '@c2m/shared';
import { type Committed, evaluateJson, submitCommitted } from './submit.js';

export interface OrgsContract {
  /** PlatformOrg admin only. */
  registerOrg(input: { mspId: string; kind: OrgKind; name: string }): Promise<Committed<OrgRecord>>;
  getOrg(mspId: string): Promise<OrgRecord>;
}

export function orgsContract(ledger: Ledger, identity: LedgerIdentity): OrgsContract {
  return {
    registerOrg: ({ mspId, kind, name }) =>
      submitCommitted(ledger, identity, 'Orgs:RegisterOrg', { arguments: [mspId, kind, name] }),
    getOrg: (mspId) => evaluateJson(ledger, identity, 'Orgs:GetOrg', [mspId]),
  };
}
