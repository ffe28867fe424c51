/**
 * Chaincode as a service: the contracts behind a gRPC server that Fabric
 * peers dial (the `ccaas` external builder reads the address from the
 * package's connection.json). Equivalent to `fabric-chaincode-node server`,
 * but configured from the environment the way container platforms pass it:
 *
 *   CHAINCODE_SERVER_ADDRESS  host:port to listen on (e.g. 0.0.0.0:9999)
 *   CHAINCODE_ID              the package id from `peer lifecycle chaincode queryinstalled` (label:sha256)
 *   CHAINCODE_TLS_KEY_FILE, CHAINCODE_TLS_CERT_FILE   optional server TLS (PEM)
 *   CHAINCODE_TLS_CLIENT_CA_FILE                      optional: require peers' client certificates from this CA
 */
import { readFileSync } from 'node:fs';
import { JSONSerializer } from 'fabric-contract-api';
import { type ChaincodeServerOpts, Shim } from 'fabric-shim';
import { contracts } from './index.js';

// The contract runtime's own adapter, as `fabric-chaincode-node` builds it; it is not part of the typed API.
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract.js') as new (
  contracts: unknown[],
  serializers: unknown,
  metadata: unknown,
  title: string,
  version: string,
) => { Init(stub: unknown): Promise<unknown>; Invoke(stub: unknown): Promise<unknown> };

export interface ChaincodeServerOptions {
  readonly address: string;
  readonly chaincodeId: string;
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer; readonly clientCACerts?: Buffer };
}

export interface RunningChaincodeServer {
  close(): Promise<void>;
}

/** Options from the environment; throws naming the missing variable. */
export function serverOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ChaincodeServerOptions {
  const address = env.CHAINCODE_SERVER_ADDRESS;
  const chaincodeId = env.CHAINCODE_ID;
  if (!address || !/^[^\s:]+:\d{1,5}$/.test(address)) {
    throw new Error(`CHAINCODE_SERVER_ADDRESS must be host:port, got ${JSON.stringify(address)}`);
  }
  if (!chaincodeId) throw new Error('CHAINCODE_ID must be the installed package id (label:hash)');
  const keyFile = env.CHAINCODE_TLS_KEY_FILE;
  const certFile = env.CHAINCODE_TLS_CERT_FILE;
  if (Boolean(keyFile) !== Boolean(certFile)) {
    throw new Error('CHAINCODE_TLS_KEY_FILE and CHAINCODE_TLS_CERT_FILE go together');
  }
  const tls =
    keyFile && certFile
      ? {
          key: readFileSync(keyFile),
          cert: readFileSync(certFile),
          ...(env.CHAINCODE_TLS_CLIENT_CA_FILE
            ? { clientCACerts: readFileSync(env.CHAINCODE_TLS_CLIENT_CA_FILE) }
            : {}),
        }
      : undefined;
  return { address, chaincodeId, ...(tls ? { tls } : {}) };
}

/** Starts listening; peers connect and the server registers the contracts under `chaincodeId`. */
export async function startChaincodeServer(options: ChaincodeServerOptions): Promise<RunningChaincodeServer> {
  const chaincode = new ChaincodeFromContract(
    [...contracts],
    { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } },
    {},
    'c2m',
    '0.1.0',
  );
  // Without tlsProps the shim serves plaintext (the peer's connection.json then says tls_required: false).
  const opts = {
    ccid: options.chaincodeId,
    address: options.address,
    ...(options.tls ? { tlsProps: options.tls } : {}),
  } as ChaincodeServerOpts;
  const server = Shim.server(chaincode as never, opts);
  await server.start();
  // fabric-shim offers no stop(); its grpc-js server is the one thing to shut down.
  const grpcServer = (server as unknown as { _server: { tryShutdown(cb: (err?: Error) => void): void } })._server;
  return {
    close: () =>
      new Promise<void>((resolve, reject) => grpcServer.tryShutdown((err) => (err ? reject(err) : resolve()))),
  };
}

if (require.main === module) {
  startChaincodeServer(serverOptionsFromEnv())
    .then((running) => {
      process.stdout.write(
        `c2m chaincode listening on ${process.env.CHAINCODE_SERVER_ADDRESS} as ${process.env.CHAINCODE_ID}\n`,
      );
      const stop = () => void running.close().finally(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    })
    .catch((err: unknown) => {
      process.stderr.write(`c2m chaincode server failed: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
