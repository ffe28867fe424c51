import { startNetwork } from '../helpers/network.js';
import { ledgerConformance } from './ledger-conformance.js';

ledgerConformance('embedded', async () => {
  // As a real orderer cuts (count or timeout, no group commit), with a timeout long enough that two concurrent
  // proposals usually share a block: the case where Fabric's same-block rules apply.
  const net = await startNetwork({ blockTimeoutMs: 30, cutWhenIdle: false });
  return {
    ledger: net.ledger,
    identities: {
      admin: net.admin,
      brand: net.brand,
      factory1: net.factory1,
      factory2: net.factory2,
      financier: net.financier,
    },
    cleanup: () => net.cleanup(),
  };
});
