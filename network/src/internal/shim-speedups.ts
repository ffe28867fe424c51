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

interface ParameterMetadata {
  readonly schema: { readonly type?: unknown; readonly $ref?: unknown };
}
interface DataMarshallInstance {
  readonly ajv: { compile(schema: unknown): AjvValidator };
  readonly components: unknown;
  fromWireBuffer(supplied: unknown, schema: unknown, loggerPrefix: string): { value: unknown; validateData: unknown };
}
interface AjvValidator {
  (data: unknown): boolean;
  errors?: readonly { message?: string }[] | null;
}
interface DataMarshallClass {
  prototype: {
    handleParameters(
      this: DataMarshallInstance,
      fn: { parameters?: readonly ParameterMetadata[] },
      parameters: readonly Buffer[],
      loggerPrefix: string,
    ): unknown[];
  };
}

let marshallPatched = false;

/**
 * fabric-shim's DataMarshall.handleParameters builds and compiles a JSON schema for every argument of every
 * call (ajv then finds it in its cache only after serialising it) and formats debug lines whether or not they
 * are logged: two thirds of a simple transaction's chaincode time here. This keeps its checks and messages,
 * and compiles each parameter's schema once per marshall. Installed only while Fabric's logs are silenced,
 * since the debug lines are what it leaves out.
 */
export function cacheShimParameterValidation(): void {
  if (marshallPatched) return;
  marshallPatched = true;
  const DataMarshall = require('fabric-shim/lib/contract-spi/datamarshall.js') as DataMarshallClass;
  const validators = new WeakMap<
    DataMarshallInstance,
    WeakMap<ParameterMetadata, { schema: unknown; validate: AjvValidator }>
  >();
  DataMarshall.prototype.handleParameters = function handleParameters(fn, parameters, loggerPrefix) {
    const expectedParams = fn.parameters;
    if (!expectedParams) return parameters.map((p) => p.toString());
    if (expectedParams.length !== parameters.length) {
      throw new Error(`Expected ${expectedParams.length} parameters, but ${parameters.length} have been supplied`);
    }
    let mine = validators.get(this);
    if (!mine) {
      mine = new WeakMap();
      validators.set(this, mine);
    }
    return expectedParams.map((expected, i) => {
      let compiled = mine.get(expected);
      if (!compiled) {
        if (!expected.schema.type && !expected.schema.$ref) {
          throw new Error(`Incorrect type information ${JSON.stringify(expected.schema)}`);
        }
        const schema = { properties: { prop: expected.schema }, components: { schemas: this.components } };
        compiled = { schema, validate: this.ajv.compile(schema) };
        mine.set(expected, compiled);
      }
      const { value, validateData } = this.fromWireBuffer(parameters[i], compiled.schema, loggerPrefix);
      if (!compiled.validate({ prop: validateData })) {
        const errors = JSON.stringify((compiled.validate.errors ?? []).map((err) => err.message));
        throw new Error(`Unable to validate parameter due to ${errors}`);
      }
      return value;
    });
  };
}
