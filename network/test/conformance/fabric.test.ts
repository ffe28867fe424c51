import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { openIdentityStore } from '@c2m/identity';
import type { LedgerIdentity } from '@c2m/shared';
import {
  caMaterialFromSettings,
  type FabricSettings,
  fabricConnectionPath,
  loadFabricSettings,
  loadIdentityFiles,
  openFabricLedger,
} from '../../src/index.js';
import { type ConformanceIdentities, ledgerConformance, registerConsortium } from './ledger-conformance.js';

type Role = keyof ConformanceIdentities;

/** The users network/fabric/scripts enrol with Fabric CA (role attributes) and list in the settings file. */
const ENROLLED: Record<Role, string> = {
  admin: 'platform-admin',
  brand: 'brand-manager',
  factory1: 'f1-manager',
  factory2: 'f2-manager',
  financier: 'financier',
};
/** The identity store's demo users with the same roles, issued from the orgs' CAs when the settings list none. */
const STORE_USERS: Record<Role, string> = {
  admin: 'platform',
  brand: 'brand',
  factory1: 'factory1',
  factory2: 'factory2',
  financier: 'financier',
};

/**
 * The suite's identities: the settings' enrolled users (CRYPTO=ca); otherwise (CRYPTO=cryptogen, whose users
 * carry no role attribute) users the identity store issues from the orgs' own CAs, as the platform does.
 */
async function identitiesFor(settings: FabricSettings, path: string) {
  const roles = Object.keys(ENROLLED) as Role[];
  if (roles.every((r) => settings.users[ENROLLED[r]])) {
    const ids = {} as Record<Role, LedgerIdentity>;
    for (const r of roles) ids[r] = await loadIdentityFiles(settings.users[ENROLLED[r]]!);
    return { ids, cleanup: async () => {} };
  }
  const material = caMaterialFromSettings(settings);
  const missingCa = Object.keys(settings.peers).filter((m) => !material[m]);
  if (missingCa.length > 0) {
    throw new Error(
      `${path} lists neither the users ${Object.values(ENROLLED).join(', ')} nor a "ca" for ${missingCa.join(', ')}: the suite has no identities with role attributes`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'c2m-fabric-conformance-'));
  const store = await openIdentityStore({ dataDir: join(dir, 'identity'), caMaterial: material });
  const ids = {} as Record<Role, LedgerIdentity>;
  for (const r of roles) ids[r] = store.userIdentity(STORE_USERS[r]);
  return { ids, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const raw = process.env.FABRIC_CONNECTION;
let problem: Error | undefined;
let settings: FabricSettings | undefined;
let path = '';
if (raw) {
  path = fabricConnectionPath(raw);
  try {
    // Read before the suite is declared: a missing or unreadable file must fail the run, not cancel its cases.
    settings = await loadFabricSettings(path);
  } catch (err) {
    problem = err as Error;
  }
}

if (problem) {
  it(`reads the Fabric connection settings FABRIC_CONNECTION=${raw}`, () => {
    throw problem;
  });
} else {
  ledgerConformance(
    'fabric',
    async () => {
      const { ids, cleanup } = await identitiesFor(settings!, path);
      const ledger = await openFabricLedger(settings!);
      await registerConsortium(ledger, ids.admin);
      return {
        ledger,
        identities: ids,
        cleanup: async () => {
          await ledger.close();
          await cleanup();
        },
      };
    },
    {
      skip: settings
        ? undefined
        : 'set FABRIC_CONNECTION to a connection settings file to run against a real Fabric network',
      // Blocks are cut on the orderer's BatchTimeout (network/fabric/configtx.yaml).
      eventTimeoutMs: 30_000,
    },
  );
}
