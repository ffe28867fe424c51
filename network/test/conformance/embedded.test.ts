import { startNetwork } from '../helpers/network.js';
import { ledgerConformance } from './ledger-conformance.js';

ledgerConformance('embedded', async () => {
  // A block timeout long enough that two concurrent proposals usually share a block, as on a real orderer.
  const net = await startNetwork({ blockTimeoutMs: 30 });
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
