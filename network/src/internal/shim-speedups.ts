import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);

interface CertificateClass {
  fromPEM(pem: string | Buffer): unknown;
}

const MAX_ENTRIES = 1024;
let installed = false;

/**
 * fabric-shim's ClientIdentity parses the creator's certificate with @fidm/x509 on every invocation, on every
 * endorsing peer: a third of the chaincode's cost here. A parsed certificate is a pure function of its PEM and
 * ClientIdentity only reads it, so the parse is memoised (bounded, by PEM text) for the shim's copy of the library.
 */
export function cacheShimCertificateParsing(): void {
  if (installed) return;
  installed = true;
  const shimDir = dirname(require.resolve('fabric-shim/lib/chaincode.js'));
  const { Certificate } = require(require.resolve('@fidm/x509', { paths: [shimDir] })) as {
    Certificate: CertificateClass;
  };
  const parse = Certificate.fromPEM.bind(Certificate);
  const cache = new Map<string, unknown>();
  Certificate.fromPEM = (pem: string | Buffer) => {
    const key = typeof pem === 'string' ? pem : pem.toString('latin1');
    let cert = cache.get(key);
    if (cert === undefined) {
      cert = parse(pem);
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
      cache.set(key, cert);
    }
    return cert;
  };
}
