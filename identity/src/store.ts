import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  CodedError,
  ErrorCodes,
  type LedgerIdentity,
  ORG_KIND_ATTRIBUTE,
  type OrgKind,
  OrgKinds,
  type OrgMspId,
  ROLE_ATTRIBUTE,
  type Role,
  Roles,
} from '@c2m/shared';
import lockfile from 'proper-lockfile';
import {
  type AdoptedCaMaterial,
  type CheckedCa,
  caCertificateProblem,
  checkAdoptedCa,
  keyMatchesCertificate,
} from './adopted-ca.js';
import { certificateFingerprint, parseIdentityCertificate, verifyCertificateChain } from './certificates.js';
import { demoConsortium, demoUsers, type OrgDescription, type UserSeed } from './consortium.js';
import { sharedCryptoPool } from './crypto-pool.js';
import { assertDeviceId } from './devices.js';
import { PUBLIC_MODE, readIfExists, SECRET_MODE, writeFileAtomic } from './files.js';
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.js';
import { createSigner } from './signer.js';
import {
  createCaCertificate,
  issueCertificate,
  type OrganizationalUnit,
  OrganizationalUnits,
  spkiDer,
  x509,
} from './x509.js';

export interface OpenIdentityStoreOptions {
  /** Where CAs, MSP folders, users and secrets live, e.g. `.data/identity`. Created if missing. */
  readonly dataDir: string;
  /** Defaults to `demoConsortium`. */
  readonly consortium?: readonly OrgDescription[];
  /** Users to enrol if not enrolled yet. Defaults to `demoUsers` when `consortium` is omitted, else none. */
  readonly users?: readonly UserSeed[];
  /**
   * Existing org CAs to issue from instead of making new ones, per MSP id of the consortium (e.g. the Fabric
   * CAs whose certificates are the orgs' roots in the channel's MSPs). Checked before anything is written;
   * the key is copied into `ca/<mspId>/`. An org whose data dir already holds a different CA is refused with
   * `CONFLICT`: users issued by two roots would be silently split between them.
   */
  readonly caMaterial?: Readonly<Record<string, AdoptedCaMaterial>>;
}

export interface OrgRecord {
  readonly mspId: OrgMspId;
  readonly kind: OrgKind;
  readonly names: { readonly en: string; readonly zh: string };
  readonly caCertificatePem: string;
}

/** What may be shown about a user: never the password hash. */
export interface UserRecord {
  readonly username: string;
  readonly mspId: OrgMspId;
  readonly orgKind: OrgKind;
  readonly role: Role;
  readonly displayName: string;
}

export interface DeviceCertificateOptions {
  /** Must equal the CSR's CN. */
  readonly deviceId: string;
  /** 1..3650, default 365. */
  readonly validityDays?: number;
}

export interface TlsCertificateOptions {
  readonly commonName: string;
  /** `server` for the broker's listener, `client` for a service (e.g. the ingest) connecting to it. */
  readonly usage: 'server' | 'client';
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** 1..3650, default 365. */
  readonly validityDays?: number;
}

export interface TlsCredentials {
  readonly certificatePem: string;
  /** PKCS#8 PEM of a fresh P-256 key made for this certificate. */
  readonly privateKeyPem: string;
}

export interface IdentityStore {
  readonly dataDir: string;
  orgs(): readonly OrgRecord[];
  org(mspId: string): OrgRecord | undefined;
  /** The org's `peer0` identity (OU=peer, role `peer`), which endorses on the embedded ledger. Throws NOT_FOUND. */
  peerIdentity(mspId: string): LedgerIdentity;
  /** A user's ledger identity (OU=client, or OU=admin for role admin). Throws NOT_FOUND. */
  userIdentity(username: string): LedgerIdentity;
  user(username: string): UserRecord | undefined;
  users(): readonly UserRecord[];
  /** The user when the password matches, else undefined (also for unknown users, after the same work). */
  authenticate(username: string, password: string): Promise<UserRecord | undefined>;
  /**
   * Enrols a user at run time (certificate from the org's CA, entry in `users.json`), without a password: the
   * services' account records hold logins. Idempotent for the same org and role; `CONFLICT` when the name is
   * enrolled with another org or role (both are in the certificate); `VALIDATION_FAILED` for a bad name or role.
   */
  enrolUser(seed: Omit<UserSeed, 'password'>): Promise<UserRecord>;
  /**
   * Verifies the CSR (signature = proof of possession, P-256 key, CN = deviceId, O = mspId if present) and
   * issues a device certificate (PEM) from the org's CA. Throws VALIDATION_FAILED or NOT_FOUND.
   */
  issueDeviceCertificate(mspId: string, csrPem: string, options: DeviceCertificateOptions): Promise<string>;
  /**
   * A TLS certificate (OU=tls, not an MSP class) and its new key from the org's CA, for the device broker's
   * listener or a service connecting to it. Nothing is stored: the caller deploys the files. Throws
   * VALIDATION_FAILED or NOT_FOUND.
   */
  issueTlsCertificate(mspId: string, options: TlsCertificateOptions): Promise<TlsCredentials>;
  /** 32 random bytes created once per data dir, for signing API tokens. A copy; mutate freely. */
  apiTokenSecret(): Uint8Array;
  /** CA certificate (PEM) per MSP id. */
  caCertificates(): Record<string, string>;
}

const CA_VALIDITY_DAYS = 3650;
const IDENTITY_VALIDITY_DAYS = 730;
const DEVICE_VALIDITY_DAYS = 365;
const PEER_NAME = 'peer0';
const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const USERS_FILE_VERSION = 1;
const ROLE_VALUES = new Set<string>(Object.values(Roles));
const ORG_KIND_VALUES = new Set<string>(Object.values(OrgKinds));

/** Fabric MSP config: NodeOUs classify identities by the OU their org CA put in the certificate. */
const MSP_CONFIG_YAML = `NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: ${OrganizationalUnits.client}
  PeerOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: ${OrganizationalUnits.peer}
  AdminOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: ${OrganizationalUnits.admin}
  OrdererOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: ${OrganizationalUnits.orderer}
`;

interface StoredUser {
  readonly mspId: string;
  readonly role: Role;
  readonly displayName: string;
  readonly passwordHash: string;
}

interface UsersFile {
  readonly version: number;
  readonly users: Record<string, StoredUser>;
}

interface LoadedOrg {
  readonly record: OrgRecord;
  readonly caPrivateKey: KeyObject;
  readonly peer: LedgerIdentity;
}

interface LoadedUser {
  readonly record: UserRecord;
  readonly passwordHash: string;
  readonly identity: LedgerIdentity;
}

/**
 * Opens (creating on first use) the identity material under `dataDir`. Idempotent: later opens load the
 * same CAs, keys and certificates and re-verify each certificate against its CA. Concurrent first opens,
 * also from several processes, serialise on a lock file; every file is written via temp file + rename.
 */
export async function openIdentityStore(options: OpenIdentityStoreOptions): Promise<IdentityStore> {
  const dataDir = resolve(options.dataDir);
  const consortium = options.consortium ?? demoConsortium;
  const seeds = options.users ?? (options.consortium ? [] : demoUsers);
  validateConsortium(consortium);
  validateSeeds(seeds, new Set(consortium.map((o) => o.mspId)));
  // Read and checked before the data dir is touched, so bad material changes nothing.
  const adopted = await checkCaMaterial(options.caMaterial ?? {}, consortium);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });

  let compromised: Error | undefined;
  const release = await lockfile.lock(dataDir, {
    lockfilePath: join(dataDir, '.lock'),
    stale: 15_000,
    update: 3_000,
    retries: { retries: 120, factor: 1.2, minTimeout: 50, maxTimeout: 500 },
    onCompromised: (err) => {
      compromised = err;
    },
  });
  try {
    const layout = new Layout(dataDir);
    await assertSameCas(layout, adopted);
    const orgs = new Map<string, LoadedOrg>();
    for (const description of consortium) {
      orgs.set(description.mspId, await ensureOrg(layout, description, adopted.get(description.mspId)));
    }
    const users = await ensureUsers(layout, orgs, seeds);
    const secret = await ensureSecret(layout.apiTokenSecret);
    if (compromised) throw compromised;
    return new FileIdentityStore(layout, orgs, users, secret);
  } finally {
    await release().catch(() => undefined);
  }
}

class Layout {
  constructor(readonly dataDir: string) {}
  get usersFile(): string {
    return join(this.dataDir, 'users.json');
  }
  get apiTokenSecret(): string {
    return join(this.dataDir, 'api-token.secret');
  }
  /** The CA's own key stays outside the MSP folders, which are meant to be copied to peers and clients. */
  caDir(mspId: string): string {
    return join(this.dataDir, 'ca', mspId);
  }
  /** Present when the org's CA was adopted (`caMaterial`), not made here: where from, and its fingerprint. */
  adoptionRecord(mspId: string): string {
    return join(this.caDir(mspId), 'adopted.json');
  }
  mspDir(mspId: string): string {
    return join(this.dataDir, 'msp', mspId);
  }
  identityMspDir(mspId: string, name: string): string {
    return join(this.mspDir(mspId), 'users', `${name}@${mspId}`, 'msp');
  }
}

function validateConsortium(consortium: readonly OrgDescription[]): void {
  const seen = new Set<string>();
  for (const org of consortium) {
    if (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(org.mspId)) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, `invalid MSP id ${JSON.stringify(org.mspId)}`);
    }
    if (seen.has(org.mspId)) throw new CodedError(ErrorCodes.VALIDATION_FAILED, `duplicate MSP id ${org.mspId}`);
    if (!ORG_KIND_VALUES.has(org.kind)) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, `org ${org.mspId}: unknown kind ${JSON.stringify(org.kind)}`);
    }
    seen.add(org.mspId);
  }
}

async function checkCaMaterial(
  material: Readonly<Record<string, AdoptedCaMaterial>>,
  consortium: readonly OrgDescription[],
): Promise<Map<string, CheckedCa>> {
  const mspIds = new Set(consortium.map((o) => o.mspId));
  const checked = new Map<string, CheckedCa>();
  const byFingerprint = new Map<string, string>();
  for (const [mspId, m] of Object.entries(material)) {
    if (!mspIds.has(mspId)) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, `caMaterial names ${mspId}, which is not in the consortium`);
    }
    const ca = await checkAdoptedCa(mspId, m);
    // One root for two MSPs would make every member of one a member of the other.
    const other = byFingerprint.get(ca.fingerprint);
    if (other) throw new CodedError(ErrorCodes.VALIDATION_FAILED, `${other} and ${mspId} are given the same CA`);
    byFingerprint.set(ca.fingerprint, mspId);
    checked.set(mspId, ca);
  }
  return checked;
}

/**
 * Every adopted CA must be the one the data dir already issues from, if it has one: identities of an org
 * must chain to one root. Checked for all orgs before anything is written.
 */
async function assertSameCas(layout: Layout, adopted: ReadonlyMap<string, CheckedCa>): Promise<void> {
  const clashes: string[] = [];
  for (const [mspId, ca] of adopted) {
    const certPath = join(layout.caDir(mspId), 'ca-cert.pem');
    const existing = await readIfExists(certPath);
    if (existing === undefined) continue;
    let fingerprint: string;
    try {
      fingerprint = certificateFingerprint(existing);
    } catch {
      throw corrupt(certPath, 'unreadable CA certificate');
    }
    const how = (await readIfExists(layout.adoptionRecord(mspId))) === undefined ? 'its own' : 'another adopted';
    if (fingerprint !== ca.fingerprint) {
      clashes.push(
        `${mspId} (data dir has ${how} CA ${fingerprint.slice(0, 16)}…, adopted CA is ${ca.fingerprint.slice(0, 16)}…)`,
      );
    }
  }
  if (clashes.length > 0) {
    throw new CodedError(
      ErrorCodes.CONFLICT,
      `identity data dir ${layout.dataDir} already issues from other CAs than the adopted ones: ${clashes.join('; ')}. ` +
        "Use a new data dir (or remove ca/<MspId> and msp/<MspId> there, which re-issues that org's identities)",
      409,
    );
  }
}

interface AdoptionRecord {
  readonly version: 1;
  readonly fingerprint: string;
  readonly certificate: string;
  readonly key: string;
  readonly adoptedAt: string;
}

async function readAdoptionRecord(path: string): Promise<AdoptionRecord | undefined> {
  const text = await readIfExists(path);
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as AdoptionRecord;
    if (record.version === 1 && typeof record.fingerprint === 'string') return record;
  } catch {
    // reported below
  }
  throw corrupt(path, 'unreadable adoption record');
}

async function writeAdoptionRecord(path: string, ca: CheckedCa): Promise<void> {
  const record: AdoptionRecord = {
    version: 1,
    fingerprint: ca.fingerprint,
    certificate: ca.source.certificate,
    key: ca.source.key,
    adoptedAt: new Date().toISOString(),
  };
  await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`, PUBLIC_MODE);
}

async function ensureOrg(layout: Layout, description: OrgDescription, adopted?: CheckedCa): Promise<LoadedOrg> {
  const { mspId } = description;
  const caDir = layout.caDir(mspId);
  const certPath = join(caDir, 'ca-cert.pem');
  const keyPath = join(caDir, 'ca-key.pem');
  const recordPath = layout.adoptionRecord(mspId);
  let caCertificatePem = await readIfExists(certPath);
  let caPrivateKey: KeyObject;
  if (caCertificatePem === undefined && adopted) {
    // Copied rather than read in place: the data dir stays complete on its own (later opens need no
    // caMaterial, survive the Fabric build folder moving or being cleaned), and reloads go through the
    // same checks as a CA made here. The certificate is written last, as below.
    caPrivateKey = adopted.privateKey;
    await writeFileAtomic(keyPath, pkcs8Pem(caPrivateKey), SECRET_MODE);
    await writeAdoptionRecord(recordPath, adopted);
    caCertificatePem = adopted.certificatePem;
    await writeFileAtomic(certPath, caCertificatePem, PUBLIC_MODE);
  } else if (caCertificatePem === undefined) {
    // No certificate means nothing was ever issued by this CA (the certificate is written last), so a key left
    // by an interrupted first start can be replaced, and so can the record of an interrupted adoption.
    await rm(recordPath, { force: true });
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    caPrivateKey = keys.privateKey;
    await writeFileAtomic(keyPath, pkcs8Pem(caPrivateKey), SECRET_MODE);
    caCertificatePem = await createCaCertificate({
      commonName: `ca.${mspId.toLowerCase()}.c2m.local`,
      mspId,
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
      validityDays: CA_VALIDITY_DAYS,
    });
    await writeFileAtomic(certPath, caCertificatePem, PUBLIC_MODE);
  } else {
    caPrivateKey = await loadPrivateKey(keyPath);
    const record = await readAdoptionRecord(recordPath);
    // The same certificate as before (assertSameCas), now adopted explicitly: record it, so later opens know.
    if (adopted && !record) await writeAdoptionRecord(recordPath, adopted);
    const adoptedFingerprint = record?.fingerprint ?? adopted?.fingerprint;
    if (adoptedFingerprint !== undefined) {
      // Adopted CAs are checked as CAs, explicitly without the two rules below for CAs made here: Fabric CA
      // and cryptogen subjects carry O=<org domain> (or Hyperledger), not the MSP id, and an adopted CA may
      // be an intermediate.
      if (!safeFingerprintIs(caCertificatePem, adoptedFingerprint)) {
        throw corrupt(certPath, `CA certificate is not the adopted one (${adoptedFingerprint.slice(0, 16)}…)`);
      }
      const problem = caCertificateProblem(caCertificatePem);
      if (problem) throw corrupt(certPath, `adopted CA certificate: ${problem}`);
      if (!keyMatchesCertificate(caPrivateKey, caCertificatePem))
        throw corrupt(keyPath, 'key does not match the CA certificate');
    } else {
      if (
        !verifyCertificateChain(caCertificatePem, caCertificatePem) ||
        !keyMatchesCertificate(caPrivateKey, caCertificatePem)
      ) {
        throw corrupt(certPath, 'CA certificate is not a valid self-signed CA for its key');
      }
      if (parseIdentityCertificate(caCertificatePem).mspId !== mspId) {
        throw corrupt(certPath, `CA certificate is not for ${mspId}`);
      }
    }
  }
  await writeIfChanged(join(layout.mspDir(mspId), 'cacerts', 'ca.pem'), caCertificatePem);
  await writeIfChanged(join(layout.mspDir(mspId), 'config.yaml'), MSP_CONFIG_YAML);

  const record: OrgRecord = Object.freeze({
    mspId,
    kind: description.kind,
    names: Object.freeze({ ...description.names }),
    caCertificatePem,
  });
  const peer = await ensureIdentity(layout, record, caPrivateKey, PEER_NAME, OrganizationalUnits.peer, Roles.peer);
  return { record, caPrivateKey, peer };
}

async function ensureUsers(
  layout: Layout,
  orgs: ReadonlyMap<string, LoadedOrg>,
  seeds: readonly UserSeed[],
): Promise<Map<string, LoadedUser>> {
  const text = await readIfExists(layout.usersFile);
  const file: UsersFile = text ? (JSON.parse(text) as UsersFile) : { version: USERS_FILE_VERSION, users: {} };
  if (file.version !== USERS_FILE_VERSION) throw corrupt(layout.usersFile, `unknown version ${file.version}`);
  const stored: Record<string, StoredUser> = { ...file.users };
  let changed = false;
  for (const seed of seeds) {
    const existing = stored[seed.username];
    if (existing) {
      // Role and org are baked into the user's certificate; changing them needs a re-enrolment, not a restart.
      if (existing.mspId !== seed.mspId || existing.role !== seed.role) {
        throw new CodedError(
          ErrorCodes.CONFLICT,
          `user ${seed.username} is enrolled as ${existing.role}@${existing.mspId}, seed says ${seed.role}@${seed.mspId}`,
          409,
        );
      }
      continue;
    }
    stored[seed.username] = {
      mspId: seed.mspId,
      role: seed.role,
      displayName: seed.displayName,
      passwordHash: seed.password === undefined ? '' : await hashPassword(seed.password),
    };
    changed = true;
  }

  const users = new Map<string, LoadedUser>();
  for (const [username, user] of Object.entries(stored)) {
    const org = orgs.get(user.mspId);
    if (!org) continue; // an org left out of this consortium: its users are not served
    const ou = user.role === Roles.admin ? OrganizationalUnits.admin : OrganizationalUnits.client;
    const identity = await ensureIdentity(layout, org.record, org.caPrivateKey, username, ou, user.role);
    const record: UserRecord = Object.freeze({
      username,
      mspId: user.mspId,
      orgKind: org.record.kind,
      role: user.role,
      displayName: user.displayName,
    });
    users.set(username, { record, passwordHash: user.passwordHash, identity });
  }
  // Written after the identities, so a user listed in the file always has its certificate on disk.
  if (changed) {
    const next: UsersFile = { version: USERS_FILE_VERSION, users: stored };
    await writeFileAtomic(layout.usersFile, `${JSON.stringify(next, null, 2)}\n`, SECRET_MODE);
  }
  return users;
}

/** Checked before anything is written, so a bad seed leaves the data dir as it was. */
function validateSeeds(seeds: readonly UserSeed[], mspIds: ReadonlySet<string>): void {
  const seen = new Set<string>();
  for (const seed of seeds) {
    const fail = (why: string) =>
      new CodedError(ErrorCodes.VALIDATION_FAILED, `user ${JSON.stringify(seed.username)}: ${why}`);
    if (!USERNAME_PATTERN.test(seed.username)) throw fail(`username must match ${USERNAME_PATTERN.source}`);
    if (/^peer\d+$/.test(seed.username)) throw fail('peer names are reserved for peer identities');
    if (seen.has(seed.username)) throw fail('listed twice');
    seen.add(seed.username);
    if (!mspIds.has(seed.mspId)) throw fail(`unknown org ${seed.mspId}`);
    if (!ROLE_VALUES.has(seed.role) || seed.role === Roles.peer || seed.role === Roles.device) {
      throw fail(`role ${seed.role} cannot be given to a user`);
    }
    if (seed.password !== undefined && seed.password.length === 0) throw fail('empty password');
  }
}

async function ensureIdentity(
  layout: Layout,
  org: OrgRecord,
  caPrivateKey: KeyObject,
  name: string,
  ou: OrganizationalUnit,
  role: Role,
): Promise<LedgerIdentity> {
  const dir = layout.identityMspDir(org.mspId, name);
  const certPath = join(dir, 'signcerts', 'cert.pem');
  const keyPath = join(dir, 'keystore', 'key.pem');
  let certificatePem = await readIfExists(certPath);
  let privateKey: KeyObject;
  if (certificatePem === undefined) {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    privateKey = keys.privateKey;
    await writeFileAtomic(keyPath, pkcs8Pem(privateKey), SECRET_MODE);
    certificatePem = await issueCertificate({
      caCertificatePem: org.caCertificatePem,
      caPrivateKey,
      publicKey: spkiDer(keys.publicKey),
      commonName: name,
      ou,
      mspId: org.mspId,
      attrs: { 'hf.EnrollmentID': name, 'hf.Type': ou, [ROLE_ATTRIBUTE]: role, [ORG_KIND_ATTRIBUTE]: org.kind },
      validityDays: IDENTITY_VALIDITY_DAYS,
    });
    await writeFileAtomic(certPath, certificatePem, PUBLIC_MODE);
  } else {
    privateKey = await loadPrivateKey(keyPath);
    if (!verifyCertificateChain(certificatePem, org.caCertificatePem)) {
      throw corrupt(certPath, `certificate does not chain to the ${org.mspId} CA or is outside its validity`);
    }
    if (!keyMatchesCertificate(privateKey, certificatePem))
      throw corrupt(keyPath, 'key does not match the certificate');
    const info = parseIdentityCertificate(certificatePem);
    if (info.commonName !== name || !info.ous.includes(ou) || info.attrs[ROLE_ATTRIBUTE] !== role) {
      throw corrupt(certPath, `certificate is not ${name} (${ou}, role ${role})`);
    }
  }
  // A complete per-identity MSP folder, as Fabric's CLI tools expect it.
  await writeIfChanged(join(dir, 'cacerts', 'ca.pem'), org.caCertificatePem);
  await writeIfChanged(join(dir, 'config.yaml'), MSP_CONFIG_YAML);
  // signMessage lets the ledger sign whole messages with node:crypto (OpenSSL), several times faster than
  // signing a precomputed digest; both give the same low-S signature over SHA-256(message). It signs on the
  // process's crypto thread, in batches, so the ledger's JavaScript thread does not (see crypto-pool.ts).
  return Object.freeze({
    mspId: org.mspId,
    certificatePem,
    sign: createSigner(privateKey),
    signMessage: sharedCryptoPool().signer(privateKey),
  });
}

async function ensureSecret(path: string): Promise<Buffer> {
  const existing = await readIfExists(path);
  if (existing !== undefined) {
    const secret = Buffer.from(existing.trim(), 'base64url');
    if (secret.length !== 32) throw corrupt(path, 'expected 32 bytes, base64url');
    return secret;
  }
  const secret = randomBytes(32);
  await writeFileAtomic(path, `${secret.toString('base64url')}\n`, SECRET_MODE);
  return secret;
}

async function loadPrivateKey(path: string): Promise<KeyObject> {
  const pem = await readIfExists(path);
  if (pem === undefined) throw corrupt(path, 'private key missing while its certificate exists');
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw corrupt(path, `unreadable private key (${(err as Error).message})`);
  }
}

async function writeIfChanged(path: string, content: string): Promise<void> {
  if ((await readIfExists(path)) !== content) await writeFileAtomic(path, content, PUBLIC_MODE);
}

function pkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function safeFingerprintIs(pem: string, fingerprint: string): boolean {
  try {
    return certificateFingerprint(pem) === fingerprint;
  } catch {
    return false;
  }
}

function corrupt(path: string, why: string): CodedError {
  // Never regenerate over damaged material: that would silently change identities the ledger knows.
  return new CodedError(ErrorCodes.INTERNAL, `identity material at ${path}: ${why}`, 500);
}

class FileIdentityStore implements IdentityStore {
  readonly dataDir: string;
  readonly #layout: Layout;
  readonly #orgs: ReadonlyMap<string, LoadedOrg>;
  readonly #users: Map<string, LoadedUser>;
  readonly #secret: Buffer;

  constructor(layout: Layout, orgs: ReadonlyMap<string, LoadedOrg>, users: Map<string, LoadedUser>, secret: Buffer) {
    this.dataDir = layout.dataDir;
    this.#layout = layout;
    this.#orgs = orgs;
    this.#users = users;
    this.#secret = secret;
  }

  async enrolUser(seed: Omit<UserSeed, 'password'>): Promise<UserRecord> {
    validateSeeds([seed as UserSeed], new Set(this.#orgs.keys()));
    const existing = this.#users.get(seed.username);
    if (existing && existing.record.mspId === seed.mspId && existing.record.role === seed.role) return existing.record;
    // Under the data dir's lock, re-reading users.json: another process may have enrolled since this one opened.
    const release = await lockfile.lock(this.dataDir, {
      lockfilePath: join(this.dataDir, '.lock'),
      stale: 15_000,
      update: 3_000,
      retries: { retries: 120, factor: 1.2, minTimeout: 50, maxTimeout: 500 },
    });
    try {
      const loaded = await ensureUsers(this.#layout, this.#orgs, [seed as UserSeed]);
      const user = loaded.get(seed.username);
      if (!user) throw new CodedError(ErrorCodes.NOT_FOUND, `no org ${seed.mspId}`, 404);
      this.#users.set(seed.username, user);
      return user.record;
    } finally {
      await release().catch(() => undefined);
    }
  }

  orgs(): readonly OrgRecord[] {
    return [...this.#orgs.values()].map((o) => o.record);
  }

  org(mspId: string): OrgRecord | undefined {
    return this.#orgs.get(mspId)?.record;
  }

  peerIdentity(mspId: string): LedgerIdentity {
    const org = this.#orgs.get(mspId);
    if (!org) throw new CodedError(ErrorCodes.NOT_FOUND, `no org ${mspId}`, 404);
    return org.peer;
  }

  userIdentity(username: string): LedgerIdentity {
    const user = this.#users.get(username);
    if (!user) throw new CodedError(ErrorCodes.NOT_FOUND, `no user ${username}`, 404);
    return user.identity;
  }

  user(username: string): UserRecord | undefined {
    return this.#users.get(username)?.record;
  }

  users(): readonly UserRecord[] {
    return [...this.#users.values()].map((u) => u.record);
  }

  async authenticate(username: string, password: string): Promise<UserRecord | undefined> {
    const user = this.#users.get(username);
    if (!user?.passwordHash) {
      await burnPasswordCheck(password, [...this.#users.values()].find((u) => u.passwordHash)?.passwordHash);
      return undefined;
    }
    return (await verifyPassword(password, user.passwordHash)) ? user.record : undefined;
  }

  async issueDeviceCertificate(mspId: string, csrPem: string, options: DeviceCertificateOptions): Promise<string> {
    const org = this.#orgs.get(mspId);
    if (!org) throw new CodedError(ErrorCodes.NOT_FOUND, `no org ${mspId}`, 404);
    assertDeviceId(options.deviceId);
    const validityDays = options.validityDays ?? DEVICE_VALIDITY_DAYS;
    if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > CA_VALIDITY_DAYS) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, `validityDays must be an integer in 1..${CA_VALIDITY_DAYS}`);
    }
    const csr = await verifiedCsr(csrPem);
    const cn = csr.subjectName.getField('CN');
    if (cn.length !== 1 || cn[0] !== options.deviceId) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, `CSR subject CN must be ${options.deviceId}`);
    }
    const o = csr.subjectName.getField('O');
    if (o.length > 1 || (o.length === 1 && o[0] !== mspId)) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, `CSR subject O must be ${mspId}`);
    }
    return issueCertificate({
      caCertificatePem: org.record.caCertificatePem,
      caPrivateKey: org.caPrivateKey,
      publicKey: new Uint8Array(csr.publicKey.rawData),
      commonName: options.deviceId,
      ou: OrganizationalUnits.device,
      mspId,
      attrs: {
        'hf.EnrollmentID': options.deviceId,
        'hf.Type': OrganizationalUnits.device,
        [ROLE_ATTRIBUTE]: Roles.device,
        [ORG_KIND_ATTRIBUTE]: org.record.kind,
      },
      validityDays,
      // Devices may later authenticate to the MQTT broker with this certificate (mutual TLS).
      clientAuth: true,
    });
  }

  async issueTlsCertificate(mspId: string, options: TlsCertificateOptions): Promise<TlsCredentials> {
    const org = this.#orgs.get(mspId);
    if (!org) throw new CodedError(ErrorCodes.NOT_FOUND, `no org ${mspId}`, 404);
    const validityDays = options.validityDays ?? DEVICE_VALIDITY_DAYS;
    if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > CA_VALIDITY_DAYS) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, `validityDays must be an integer in 1..${CA_VALIDITY_DAYS}`);
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(options.commonName)) {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'commonName must be 1-64 of A-Za-z0-9._-');
    }
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const certificatePem = await issueCertificate({
      caCertificatePem: org.record.caCertificatePem,
      caPrivateKey: org.caPrivateKey,
      publicKey: new Uint8Array(keys.publicKey.export({ type: 'spki', format: 'der' })),
      commonName: options.commonName,
      ou: OrganizationalUnits.tls,
      mspId,
      attrs: { 'hf.EnrollmentID': options.commonName, 'hf.Type': OrganizationalUnits.tls },
      validityDays,
      clientAuth: options.usage === 'client',
      serverAuth: options.usage === 'server',
      dnsNames: options.dnsNames,
      ipAddresses: options.ipAddresses,
    });
    return { certificatePem, privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }

  apiTokenSecret(): Uint8Array {
    return new Uint8Array(this.#secret);
  }

  caCertificates(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [mspId, org] of this.#orgs) out[mspId] = org.record.caCertificatePem;
    return out;
  }
}

async function verifiedCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'CSR is not a PEM PKCS#10 request');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'CSR public key is unreadable');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'CSR key must be ECDSA P-256');
  }
  // The signature proves the requester holds the private key for the public key it asks us to certify.
  const valid = await csr.verify().catch(() => false);
  if (!valid) throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'CSR signature does not verify');
  return csr;
}
