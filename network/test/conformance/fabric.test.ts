import { loadFabricSettings, loadIdentityFiles, openFabricLedger } from '../../src/index.js';
import { type ConformanceIdentities, ledgerConformance, registerConsortium } from './ledger-conformance.js';

const settingsPath = process.env.FABRIC_CONNECTION;

/** The users network/fabric/scripts enrol with Fabric CA (role attributes) and list in the settings file. */
const USERS: Record<keyof ConformanceIdentities, string> = {
  admin: 'platform-admin',
  brand: 'brand-manager',
  factory1: 'f1-manager',
  factory2: 'f2-manager',
  financier: 'financier',
};

ledgerConformance(
  'fabric',
  async () => {
    const settings = await loadFabricSettings(settingsPath!);
    const identities = {} as Record<keyof ConformanceIdentities, Awaited<ReturnType<typeof loadIdentityFiles>>>;
    for (const [role, user] of Object.entries(USERS) as [keyof ConformanceIdentities, string][]) {
      const files = settings.users[user];
      if (!files)
        throw new Error(`${settingsPath} lists no user '${user}' (network/fabric/scripts/network.sh enrols it)`);
      identities[role] = await loadIdentityFiles(files);
    }
    const ledger = await openFabricLedger(settings);
    await registerConsortium(ledger, identities.admin);
    return { ledger, identities, cleanup: () => ledger.close() };
  },
  {
    skip: settingsPath
      ? undefined
      : 'set FABRIC_CONNECTION to a connection settings file to run against a real Fabric network',
    // Blocks are cut on the orderer's BatchTimeout (2 s in network/fabric/configtx.yaml).
    eventTimeoutMs: 30_000,
  },
);
