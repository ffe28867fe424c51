import {
  type BundleVerification,
  defaultPolicy,
  Orgs,
  type PinnedTrust,
  type ProofBundleV2,
  parsePolicy,
  verifyBundle,
} from '@c2m/shared';

export interface VerifyOptions {
  /** CA certificates the verifier trusts, by MSP id, obtained out of band. Without them nothing is proven. */
  readonly trustedCaCertificates?: Readonly<Record<string, string>>;
  /** The channel's endorsement policy (Fabric syntax); defaults to the consortium default over the pinned CAs. */
  readonly endorsementPolicy?: string;
  readonly channel?: string;
  readonly chaincode?: string;
  /** Orgs whose orderer (or peer) identities may sign blocks; default PlatformOrg. */
  readonly ordererMspIds?: readonly string[];
  /** Verification time for certificate validity; defaults to now. */
  readonly at?: Date;
}

/** The pinned trust from what a verifier holds: CAs, the policy (or the consortium default), channel names. */
export function pinnedTrust(options: VerifyOptions): PinnedTrust | undefined {
  const cas = options.trustedCaCertificates;
  if (!cas) return undefined;
  return {
    caCertificates: cas,
    endorsementPolicy: parsePolicy(options.endorsementPolicy ?? defaultPolicy(Orgs.platform, Object.keys(cas))),
    channel: options.channel ?? 'c2m',
    chaincode: options.chaincode ?? 'c2m',
    ordererMspIds: options.ordererMspIds ?? [Orgs.platform],
  };
}

/**
 * Verifies a proof bundle stand-alone, with no server: `@c2m/shared`'s verifyBundle (the same code the
 * portal runs in the browser and the API runs on a worker thread) with the verifier's pinned trust.
 */
export function verifyProofBundle(bundle: ProofBundleV2, options: VerifyOptions = {}): Promise<BundleVerification> {
  const trust = pinnedTrust(options);
  return verifyBundle(bundle, { ...(trust ? { trust } : {}), ...(options.at ? { at: options.at } : {}) });
}
