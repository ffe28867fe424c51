import path from 'node:path';
import { demoUsers, type IdentityStore, openIdentityStore, type UserSeed } from '@c2m/identity';
import {
  caMaterialFromSettings,
  type FabricSettings,
  loadFabricSettings,
  openEmbeddedLedger,
  openFabricLedger,
  quietFabricLogs,
} from '@c2m/network';
import type { Ledger } from '@c2m/shared';
import type { Logger } from 'pino';
import type { Config } from '../config.js';

/**
 * With LEDGER=fabric, the connection settings file FABRIC_CONNECTION names (network/fabric/scripts/network.sh
 * writes it); undefined for the embedded ledger. Read once: the identity store and the ledger both need it.
 */
export async function loadFabricConnection(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FabricSettings | undefined> {
  if (config.ledger !== 'fabric') return undefined;
  const file = env.FABRIC_CONNECTION;
  if (!file) {
    throw new Error(
      'LEDGER=fabric needs FABRIC_CONNECTION: the connection settings file network/fabric/scripts/network.sh writes (network/fabric/build/connection.json)',
    );
  }
  return loadFabricSettings(file);
}

// The same name as PLATFORM_USER in platform.ts, which imports this file.
const PLATFORM_SERVICE_USER = 'platform';

/**
 * Ledger identities to enrol: the platform's service user always (it anchors batches), the demo users only in
 * demo mode. None carries a password: logins are the services' accounts (`src/auth/`).
 */
function identitySeeds(demo: boolean): UserSeed[] {
  const seeds = demo ? demoUsers : demoUsers.filter((u) => u.username === PLATFORM_SERVICE_USER);
  return seeds.map(({ password: _password, ...seed }) => seed);
}

/**
 * The platform's identity store (`<DATA_DIR>/identity`). On a Fabric network it issues from the org CAs the
 * settings name (`organizations.<mspId>.ca`), so logins, device certificates and the platform's own
 * submissions carry certificates that chain to the channel MSPs' roots; a data dir that already issues from
 * other CAs is refused (`CONFLICT`) rather than mixing roots.
 */
export async function openPlatformIdentity(
  config: Config,
  fabric: FabricSettings | undefined,
  logger: Logger,
): Promise<IdentityStore> {
  const dataDir = path.join(config.dataDir, 'identity');
  const users = identitySeeds(config.demo);
  if (!fabric) return openIdentityStore({ dataDir, users });
  const caMaterial = caMaterialFromSettings(fabric);
  const store = await openIdentityStore({ dataDir, caMaterial, users });
  const adopted = Object.keys(caMaterial);
  const without = store
    .orgs()
    .map((o) => o.mspId)
    .filter((mspId) => !adopted.includes(mspId));
  logger.info({ orgs: adopted }, 'identity store issues from the Fabric network’s CAs');
  if (without.length > 0) {
    logger.warn(
      { orgs: without },
      'the Fabric settings name no CA for these orgs: their users have certificates from the store’s own CAs, which the channel refuses',
    );
  }
  return store;
}

/**
 * Opens the ledger the configuration names. `embedded` runs the compiled
 * chaincode in this process with Fabric's transaction flow, each org's peer
 * identity endorsing; `fabric` is a real network through the Fabric Gateway,
 * described by the connection settings (`loadFabricConnection`).
 */
export async function openLedger(
  config: Config,
  identity: IdentityStore,
  logger: Logger,
  fabric?: FabricSettings,
): Promise<Ledger> {
  if (config.ledger === 'fabric') {
    const settings = fabric ?? (await loadFabricConnection(config))!;
    const ledger = await openFabricLedger(settings);
    logger.info(
      {
        channel: ledger.channel,
        chaincode: ledger.chaincode,
        height: await ledger.height(),
        orgs: Object.keys(settings.peers),
      },
      'fabric ledger open',
    );
    return ledger;
  }
  // Before the chaincode loads: fabric-contract-api logs every decorator at info when it does (network's
  // quietFabricLogs holds Fabric's loggers at CRITICAL unless CORE_CHAINCODE_LOGGING_LEVEL asks for more).
  quietFabricLogs();
  const { contracts } = await import('@c2m/chaincode');
  const peers = Object.fromEntries(identity.orgs().map((o) => [o.mspId, identity.peerIdentity(o.mspId)]));
  const ledger = await openEmbeddedLedger({
    dataDir: path.join(config.dataDir, 'ledger'),
    contracts,
    peers,
    caCertificates: identity.caCertificates(),
  });
  logger.info({ height: await ledger.height() }, 'embedded ledger open');
  return ledger;
}
