import { Orgs } from '@c2m/shared';
import { defaultPolicy } from '../policy.js';

/** The consortium's orgs in channel order (network/fabric/configtx.yaml lists them the same way). */
export const CONSORTIUM_ORGS = [Orgs.platform, Orgs.brand, Orgs.factory1, Orgs.factory2, Orgs.finance] as const;

/**
 * The chaincode endorsement policy on both ledgers: the embedded engine's
 * default for this consortium, and the `--signature-policy` the Fabric scripts
 * approve and commit (network/fabric/endorsement-policy.txt holds the same
 * string; a test keeps them equal).
 */
export const C2M_ENDORSEMENT_POLICY = defaultPolicy(Orgs.platform, CONSORTIUM_ORGS);

/** Private data collections as the embedded engine defaults them; network/fabric/collections_config.json matches. */
export const C2M_COLLECTIONS = {
  brandFactoryTerms: { members: CONSORTIUM_ORGS.filter((m) => m !== Orgs.platform && m !== Orgs.finance) },
} as const;
