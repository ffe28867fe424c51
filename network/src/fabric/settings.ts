import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { AdoptedCaMaterial } from '@c2m/identity';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The connection settings file that points the platform at a real Fabric
 * network (`FABRIC_CONNECTION`). network/fabric/scripts/network.sh writes it;
 * paths inside are relative to the file itself, so the whole folder can move.
 */
const PeerSchema = Type.Object(
  {
    /** host:port of the peer's gRPC endpoint (it also serves the Gateway). */
    endpoint: Type.String({ pattern: '^[^\\s:]+:[0-9]{1,5}$' }),
    /** TLS server name the peer's certificate carries, when it differs from the endpoint host. */
    hostAlias: Type.Optional(Type.String({ minLength: 1 })),
    /** PEM file of the CA that issued the peer's TLS certificate. */
    tlsRootCertPath: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const IdentityFilesSchema = Type.Object(
  {
    /** PEM X.509 certificate (MSP signcerts/…). */
    certPath: Type.String({ minLength: 1 }),
    /** PEM PKCS#8 private key (MSP keystore/…_sk). */
    keyPath: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const CaFilesSchema = Type.Object(
  {
    /** PEM certificate of the org CA: the root the channel's MSP for the org trusts. */
    certPath: Type.String({ minLength: 1 }),
    /** Its PEM private key, or a folder holding it (a Fabric CA server's msp/keystore: the matching key is used). */
    keyPath: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const OrgSchema = Type.Object(
  {
    peers: Type.Array(PeerSchema, { minItems: 1 }),
    /** An identity of the org (an admin or client) used when the platform acts for the org itself. */
    identity: Type.Optional(IdentityFilesSchema),
    /** The org's CA, for the platform's identity store to issue its users, peers and devices from. */
    ca: Type.Optional(CaFilesSchema),
  },
  { additionalProperties: false },
);

const DeadlinesSchema = Type.Object(
  {
    evaluateMs: Type.Optional(Type.Integer({ minimum: 1 })),
    endorseMs: Type.Optional(Type.Integer({ minimum: 1 })),
    submitMs: Type.Optional(Type.Integer({ minimum: 1 })),
    commitStatusMs: Type.Optional(Type.Integer({ minimum: 1 })),
    eventsReconnectMs: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const FabricSettingsSchema = Type.Object(
  {
    channel: Type.String({ pattern: '^[a-z][a-z0-9.-]*$' }),
    chaincode: Type.String({ minLength: 1 }),
    /** MSP id of the org whose identity reads blocks (qscc) and chaincode events; it needs an `identity`. */
    observerMspId: Type.String({ minLength: 1 }),
    organizations: Type.Record(Type.String({ minLength: 1 }), OrgSchema),
    /** Named user identities (Fabric CA enrolments with a `role` attribute), e.g. for the conformance suite. */
    users: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        Type.Object(
          {
            mspId: Type.String({ minLength: 1 }),
            certPath: Type.String({ minLength: 1 }),
            keyPath: Type.String({ minLength: 1 }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    deadlines: Type.Optional(DeadlinesSchema),
  },
  { additionalProperties: false },
);

export type FabricSettingsFile = Static<typeof FabricSettingsSchema>;

export interface FabricPeerSettings {
  readonly mspId: string;
  readonly endpoint: string;
  readonly hostAlias?: string;
  readonly tlsRootCertPem: string;
}

export interface FabricIdentityFiles {
  readonly mspId: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/** An org CA's files (absolute paths); `keyPath` may be a keystore folder. */
export interface FabricCaFiles {
  readonly mspId: string;
  readonly certPath: string;
  readonly keyPath: string;
}

export interface FabricDeadlines {
  readonly evaluateMs: number;
  readonly endorseMs: number;
  readonly submitMs: number;
  readonly commitStatusMs: number;
  /** Wait before re-opening a broken chaincode-event stream. */
  readonly eventsReconnectMs: number;
}

/** Settings with paths resolved and TLS roots read: what `openFabricLedger` takes. */
export interface FabricSettings {
  readonly channel: string;
  readonly chaincode: string;
  readonly observerMspId: string;
  /** Peers per MSP id, in the file's order; the first is the org's gateway peer. */
  readonly peers: Readonly<Record<string, readonly FabricPeerSettings[]>>;
  /** Org identities from the file (absolute paths), for `loadMspIdentity`. */
  readonly identities: Readonly<Record<string, FabricIdentityFiles>>;
  /** Named users from the file (absolute paths). */
  readonly users: Readonly<Record<string, FabricIdentityFiles>>;
  /** Org CAs from the file (absolute paths, checked to exist), for `caMaterialFromSettings`. */
  readonly cas: Readonly<Record<string, FabricCaFiles>>;
  readonly deadlines: FabricDeadlines;
}

/** Defaults as in fabric-samples' gateway clients. */
export const DEFAULT_DEADLINES: FabricDeadlines = {
  evaluateMs: 5_000,
  endorseMs: 15_000,
  submitMs: 5_000,
  commitStatusMs: 60_000,
  eventsReconnectMs: 1_000,
};

export class FabricSettingsError extends Error {
  override readonly name = 'FabricSettingsError';
}

/** Checks the file's shape and cross-references; throws `FabricSettingsError` listing every problem. */
export function validateFabricSettings(data: unknown): FabricSettingsFile {
  if (!Value.Check(FabricSettingsSchema, data)) {
    const problems = [...Value.Errors(FabricSettingsSchema, data)]
      .filter((e) => e.keyword !== 'boolean')
      .map((e) => `${e.instancePath || '/'} ${e.message}`);
    throw new FabricSettingsError(`invalid Fabric connection settings: ${problems.join('; ')}`);
  }
  const problems: string[] = [];
  const observer = data.organizations[data.observerMspId];
  if (!observer) problems.push(`observerMspId ${data.observerMspId} is not one of the organizations`);
  else if (!observer.identity) problems.push(`observer org ${data.observerMspId} has no identity`);
  for (const [name, user] of Object.entries(data.users ?? {})) {
    if (!data.organizations[user.mspId]) problems.push(`user ${name}: ${user.mspId} is not one of the organizations`);
  }
  if (problems.length > 0) throw new FabricSettingsError(`invalid Fabric connection settings: ${problems.join('; ')}`);
  return data;
}

/** Resolves relative paths against `baseDir` and reads the TLS root certificates. */
export async function resolveFabricSettings(file: FabricSettingsFile, baseDir: string): Promise<FabricSettings> {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const peers: Record<string, FabricPeerSettings[]> = {};
  const identities: Record<string, FabricIdentityFiles> = {};
  const cas: Record<string, FabricCaFiles> = {};
  for (const [mspId, org] of Object.entries(file.organizations)) {
    peers[mspId] = await Promise.all(
      org.peers.map(async (p) => {
        const path = abs(p.tlsRootCertPath);
        const pem = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new FabricSettingsError(
            `TLS root certificate of ${mspId} peer ${p.endpoint}: ${err.code ?? err.message} ${path}`,
          );
        });
        if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
          throw new FabricSettingsError(`TLS root certificate of ${mspId} peer ${p.endpoint} is not PEM: ${path}`);
        }
        return { mspId, endpoint: p.endpoint, ...(p.hostAlias ? { hostAlias: p.hostAlias } : {}), tlsRootCertPem: pem };
      }),
    );
    if (org.identity)
      identities[mspId] = { mspId, certPath: abs(org.identity.certPath), keyPath: abs(org.identity.keyPath) };
    if (org.ca) cas[mspId] = await checkCaFiles(mspId, abs(org.ca.certPath), abs(org.ca.keyPath));
  }
  const users: Record<string, FabricIdentityFiles> = {};
  for (const [name, u] of Object.entries(file.users ?? {})) {
    users[name] = { mspId: u.mspId, certPath: abs(u.certPath), keyPath: abs(u.keyPath) };
  }
  return {
    channel: file.channel,
    chaincode: file.chaincode,
    observerMspId: file.observerMspId,
    peers,
    identities,
    users,
    cas,
    deadlines: { ...DEFAULT_DEADLINES, ...file.deadlines },
  };
}

/**
 * A missing or unreadable CA file fails here, naming the org and the path; whether the key matches the
 * certificate and the certificate is a usable CA is the identity store's check (`openIdentityStore`).
 */
async function checkCaFiles(mspId: string, certPath: string, keyPath: string): Promise<FabricCaFiles> {
  const pem = await readFile(certPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new FabricSettingsError(`CA certificate of ${mspId}: ${err.code ?? err.message} ${certPath}`);
  });
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new FabricSettingsError(`CA certificate of ${mspId} is not PEM: ${certPath}`);
  }
  await stat(keyPath).catch((err: NodeJS.ErrnoException) => {
    throw new FabricSettingsError(`CA key of ${mspId}: ${err.code ?? err.message} ${keyPath}`);
  });
  return { mspId, certPath, keyPath };
}

/**
 * The identity store's `caMaterial` for the orgs whose CA the settings name, so the platform's users, peers
 * and device certificates are issued by the CAs the channel's MSPs trust (`openIdentityStore({ caMaterial })`).
 */
export function caMaterialFromSettings(settings: FabricSettings): Record<string, AdoptedCaMaterial> {
  const material: Record<string, AdoptedCaMaterial> = {};
  for (const [mspId, ca] of Object.entries(settings.cas))
    material[mspId] = { certPath: ca.certPath, keyPath: ca.keyPath };
  return material;
}

/**
 * Where a `FABRIC_CONNECTION` value points. A relative path means relative to where the user typed the
 * command: npm runs workspace scripts in the package folder but records the caller's folder in INIT_CWD, so
 * `FABRIC_CONNECTION=network/fabric/build/connection.json npm test -w network` works from the repository root.
 */
export function fabricConnectionPath(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.INIT_CWD ?? process.cwd(), value);
}

/** Reads, validates and resolves the settings file at `path` (the `FABRIC_CONNECTION` variable). */
export async function loadFabricSettings(path: string): Promise<FabricSettings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FabricSettingsError(`cannot read Fabric connection settings ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new FabricSettingsError(`Fabric connection settings ${path} are not JSON: ${(err as Error).message}`);
  }
  return resolveFabricSettings(validateFabricSettings(data), dirname(resolve(path)));
}
