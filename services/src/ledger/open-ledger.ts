import path from 'node:path';
import type { IdentityStore } from '@c2m/identity';
import { loadFabricSettings, openEmbeddedLedger, openFabricLedger, quietFabricLogs } from '@c2m/network';
import type { Ledger } from '@c2m/shared';
import type { Logger } from 'pino';
import type { Config } from '../config.js';

/**
 * Opens the ledger the configuration names. `embedded` runs the compiled
 * chaincode in this process with Fabric's transaction flow, each org's peer
 * identity endorsing; `fabric` is a real network through the Fabric Gateway,
 * described by the connection settings file in FABRIC_CONNECTION.
 */
export async function openLedger(config: Config, identity: IdentityStore, logger: Logger): Promise<Ledger> {
  if (config.ledger === 'fabric') {
    const file = process.env.FABRIC_CONNECTION;
    if (!file) {
      throw new Error(
        'LEDGER=fabric needs FABRIC_CONNECTION: the connection settings file network/fabric/scripts/network.sh writes (network/fabric/build/connection.json)',
      );
    }
    // Users still sign with the identity store's keys: the peers accept them only when the store's org CAs
    // are the channel's (see network/README.md, "Identities on a real network").
    const settings = await loadFabricSettings(file);
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
