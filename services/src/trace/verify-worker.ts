// Runs in a piscina worker thread: one proof-bundle verification per task, off the event loop.
import { type BundleVerification, type PinnedTrust, type ProofBundleV2, verifyBundle } from '@c2m/shared';

export default function verify(task: { bundle: ProofBundleV2; trust: PinnedTrust }): Promise<BundleVerification> {
  return verifyBundle(task.bundle, { trust: task.trust });
}
