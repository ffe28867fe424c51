import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contracts } from '@c2m/chaincode';
import { type Ledger, type LedgerIdentity, Orgs, Roles } from '@c2m/shared';
import { type EmbeddedLedgerOptions, openEmbeddedLedger, orgsContract } from '../../src/index.js';
import { createTestConsortium, type TestOrg } from './pki.js';

export const ALL_ORGS = [Orgs.platform, Orgs.brand, Orgs.factory1, Orgs.factory2, Orgs.finance] as const;

export interface TestNetwork {
  readonly dir: string;
  readonly orgs: Record<string, TestOrg>;
  readonly ledger: Ledger;
  readonly admin: LedgerIdentity;
  readonly certifier: LedgerIdentity;
  readonly brand: LedgerIdentity;
  readonly factory1: LedgerIdentity;
  readonly factory2: LedgerIdentity;
  readonly financier: LedgerIdentity;
  options(overrides?: Partial<EmbeddedLedgerOptions>): EmbeddedLedgerOptions;
  reopen(overrides?: Partial<EmbeddedLedgerOptions>): Promise<Ledger>;
  cleanup(): Promise<void>;
}

let shared: Promise<{ orgs: Record<string, TestOrg>; users: Record<string, LedgerIdentity> }> | undefined;

/** Key generation is the slow part; one consortium serves every test in a process, each with its own ledger dir. */
function consortium() {
  shared ??= (async () => {
    const orgs = await createTestConsortium(ALL_ORGS);
    const users = {
      admin: await orgs[Orgs.platform]!.user('platform-admin', Roles.admin),
      certifier: await orgs[Orgs.platform]!.user('certifier-1', Roles.certifier),
      brand: await orgs[Orgs.brand]!.user('brand-manager', Roles.brandManager),
      factory1: await orgs[Orgs.factory1]!.user('f1-manager', Roles.factoryManager),
      factory2: await orgs[Orgs.factory2]!.user('f2-manager', Roles.factoryManager),
      financier: await orgs[Orgs.finance]!.user('financier', Roles.financier),
    };
    return { orgs, users };
  })();
  return shared;
}

export async function startNetwork(
  overrides: Partial<EmbeddedLedgerOptions> = {},
  { registerOrgs = true } = {},
): Promise<TestNetwork> {
  const { orgs, users } = await consortium();
  const dir = await mkdtemp(join(tmpdir(), 'c2m-ledger-'));
  const options = (o: Partial<EmbeddedLedgerOptions> = {}): EmbeddedLedgerOptions => ({
    dataDir: dir,
    contracts,
    peers: Object.fromEntries(ALL_ORGS.map((m) => [m, orgs[m]!.peer])),
    caCertificates: Object.fromEntries(ALL_ORGS.map((m) => [m, orgs[m]!.caPem])),
    blockTimeoutMs: 5,
    ...overrides,
    ...o,
  });
  let ledger = await openEmbeddedLedger(options());
  if (registerOrgs) {
    const reg = orgsContract(ledger, users.admin!);
    await Promise.all([
      reg.registerOrg({ mspId: Orgs.brand, kind: 'brand', name: 'Brand Co' }),
      reg.registerOrg({ mspId: Orgs.factory1, kind: 'factory', name: 'Factory One' }),
      reg.registerOrg({ mspId: Orgs.factory2, kind: 'factory', name: 'Factory Two' }),
      reg.registerOrg({ mspId: Orgs.finance, kind: 'finance', name: 'Finance Co' }),
    ]);
  }
  const net: TestNetwork = {
    dir,
    orgs,
    get ledger() {
      return ledger;
    },
    admin: users.admin!,
    certifier: users.certifier!,
    brand: users.brand!,
    factory1: users.factory1!,
    factory2: users.factory2!,
    financier: users.financier!,
    options,
    reopen: async (o) => {
      await ledger.close();
      ledger = await openEmbeddedLedger(options(o));
      return ledger;
    },
    cleanup: async () => {
      await ledger.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return net;
}
