import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface WinstonLogger {
  readonly levels: Record<string, number>;
  isLevelEnabled(level: string): boolean;
  [method: string]: unknown;
}
interface FabricLogging {
  getLogger(name: string): WinstonLogger;
  setLevel(level: string): void;
}

/** The module-level loggers fabric-shim and fabric-contract-api create; these run on every transaction. */
const LOGGERS: Readonly<Record<string, readonly string[]>> = {
  'fabric-shim/lib/logger.js': [
    'lib/stub.js',
    'lib/chaincode.js',
    'lib/handler.js',
    'lib/iterators.js',
    'contracts-spi/chaincodefromcontract.js',
    'contracts-spi/datamarshall.js',
  ],
  'fabric-contract-api/lib/logger.js': [
    './lib/jsontransactionserializer.js',
    './lib/contract.js',
    './lib/annotations/transaction.js',
    './lib/annotations/object.js',
    './lib/annotations/info.js',
    './lib/annotations/default.js',
  ],
};

/**
 * Silences Fabric's chaincode-side logging (and says so) unless CORE_CHAINCODE_LOGGING_LEVEL asks for more than CRITICAL.
 *
 * Chaincode failures are answered to the client with their code, so the shim's own error lines only duplicate
 * them. Setting the level is not enough for speed: winston's single-argument level methods push every call
 * through its stream before filtering (~30 µs each, a dozen per invocation), so disabled levels are replaced
 * with no-ops on those loggers. A later `setLevel` to a verbose level does not undo that; set the variable
 * before opening the ledger to see chaincode logs.
 */
export function quietFabricLogs(): boolean {
  const wanted = process.env.CORE_CHAINCODE_LOGGING_LEVEL;
  if (wanted && wanted.toUpperCase() !== 'CRITICAL') return false;
  for (const [module, names] of Object.entries(LOGGERS)) {
    const logging = require(module) as FabricLogging;
    logging.setLevel('CRITICAL');
    // setLevel stores winston's name ('fatal'), which getLogger maps back to 'info'; keep Fabric's.
    process.env.CORE_CHAINCODE_LOGGING_LEVEL = 'CRITICAL';
    for (const name of names) {
      const logger = logging.getLogger(name);
      for (const level of Object.keys(logger.levels)) {
        if (!logger.isLevelEnabled(level)) logger[level] = () => logger;
      }
    }
  }
  return true;
}
