import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  type BlockProof,
  type BlockSummary,
  blockSignedBytes,
  type ChaincodeEvent,
  canonicalJson,
  ErrorCodes,
  type Ledger,
  type LedgerCheckpoint,
  type LedgerIdentity,
  type OrdererSignature,
  Orgs,
  type ProposalOptions,
  type SubmittedTransaction,
  type TransactionInfo,
  type TransactionProof,
  TX_PROOF_FORMAT,
  type TxValidationCode,
  TxValidationCodes,
} from '@c2m/shared';
import type { peer } from '@hyperledger/fabric-protos';
import { CommitError, EndorseError, type EndorsementDetail, LedgerCorruptError, SubmitError } from '../errors.js';
import {
  defaultPolicy,
  evaluatePolicy,
  type Policy,
  type PolicyIdentity,
  parsePolicy,
  policyFromSignaturePolicyEnvelope,
} from '../policy.js';
import { endorsementPlan, greedyOrgs, NO_LOCAL_ENDORSER } from './endorsement-plan.js';
import { IdentityError, MspRegistry } from './msp.js';
import {
  buildEnvelope,
  buildProposal,
  buildResponsePayload,
  buildTransactionPayload,
  computeTxId,
  type DecodedEnvelope,
  type DecodedProposal,
  decodeEnvelope,
  decodeProposal,
  decodeResponsePayload,
  type EndorsementPb,
  parseIdentity,
  proposalHash,
  serializeIdentity,
  sha256,
  signedProposal,
} from './protos.js';
import { quietFabricLogs } from './quiet-logs.js';
import { RecordFile } from './record-file.js';
import { decodeRwSet, encodeRwSet, type PrivateWrite, type ReadWriteSet, sameVersion } from './rwset.js';
import { cacheShimCertificateParsing, cacheShimParameterValidation } from './shim-speedups.js';
import { type CollectionConfig, Simulator } from './simulator.js';
import { keyHash, type Version, WorldState } from './world-state.js';

const require = createRequire(import.meta.url);

interface ChaincodeStubCtor {
  new (
    handler: unknown,
    channel: string,
    txId: string,
    input: peer.ChaincodeInput,
    signedProposal: peer.SignedProposal,
  ): { chaincodeEvent?: peer.ChaincodeEvent };
}
interface ShimResponse {
  status: number;
  message?: string;
  payload?: Uint8Array;
}
interface ShimChaincode {
  Invoke(stub: unknown): Promise<ShimResponse>;
}
const ChaincodeStub = require('fabric-shim/lib/stub.js') as ChaincodeStubCtor;
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract.js') as new (
  contracts: unknown[],
  serializers: unknown,
  metadata: unknown,
  title: string,
  version: string,
) => ShimChaincode;
const { JSONSerializer } = require('fabric-contract-api') as { JSONSerializer: unknown };

export interface EmbeddedLedgerOptions {
  readonly dataDir: string;
  readonly channel?: string;
  readonly chaincode?: string;
  /** fabric-contract-api Contract classes, e.g. `contracts` from @c2m/chaincode. */
  readonly contracts: readonly (new () => unknown)[];
  /** One peer identity (certificate with OU=peer) per org; it signs that org's endorsements. */
  readonly peers: Readonly<Record<string, LedgerIdentity>>;
  /**
   * The ordering service's identity, which signs every block (header and validation codes): a PlatformOrg
   * identity with OU=orderer, or OU=peer as in the Fabric deployment where the orderer is a spec of the peer org.
   * Defaults to PlatformOrg's peer.
   */
  readonly orderer?: LedgerIdentity;
  /** The channel's MSPs: each org's CA certificate (PEM). */
  readonly caCertificates: Readonly<Record<string, string>>;
  /** Fabric signature-policy syntax; defaults to `AND('PlatformOrg.peer', OutOf(1, <every other org>.peer))`. */
  readonly endorsementPolicy?: string;
  /** Private data collections; defaults to `brandFactoryTerms` held by every org except PlatformOrg and FinanceOrg. */
  readonly collections?: Readonly<Record<string, CollectionConfig>>;
  /**
   * Transactions per block (default 50). Smaller than the number of clients a busy platform has in flight, so
   * one block fills while the previous one is validated and written: at 100 concurrent clients, 50 gave more
   * committed tx/s than 100 (bench/README.md).
   */
  readonly blockSize?: number;
  /** Cut a partial block after this long (default 50 ms). */
  readonly blockTimeoutMs?: number;
  /**
   * Group commit (default true): when no block is being validated or written, cut what is pending at once
   * instead of waiting out the timeout, and cut again as soon as the committer is free. A lone transaction
   * then waits for its own commit only; under load the committer is always busy and blocks fill as before.
   * `false` keeps Fabric's orderer rule (count or timeout only), for tests that need transactions sent
   * together to share a block.
   */
  readonly cutWhenIdle?: boolean;
}

/** The channel configuration, fixed in the genesis block so that a reopened ledger validates its history by the rules it was written under. */
interface ChannelConfig {
  readonly channel: string;
  readonly chaincode: string;
  readonly endorsementPolicy: string;
  readonly collections: Readonly<Record<string, CollectionConfig>>;
  readonly caCertificates: Readonly<Record<string, string>>;
}

interface BlockRecord {
  readonly header: { readonly number: number; readonly previousHash: string; readonly dataHash: string };
  readonly config?: ChannelConfig;
  readonly data: readonly string[];
  readonly metadata: {
    readonly validationCodes: readonly TxValidationCode[];
    /**
     * The orderer's signature over blockSignedBytes(channel, header, validationCodes) (@c2m/shared): unlike
     * Fabric's TRANSACTIONS_FILTER, the validation codes are covered. Absent on the genesis block and on blocks
     * of ledgers written before blocks were signed.
     */
    readonly ordererSignature?: OrdererSignature;
  };
}

/** Orgs whose members may sign blocks (the Fabric deployment's BlockValidation: any PlatformOrg orderer or peer). */
const ORDERER_MSP_IDS: readonly string[] = [Orgs.platform];

interface Checked {
  readonly code: TxValidationCode;
  readonly txId: string;
  readonly creatorMspId: string;
  readonly fn: string;
  readonly timestampMs: number;
  readonly rwset?: ReadWriteSet;
  readonly event?: { readonly name: string; readonly payload: Uint8Array };
}

/** A transaction decoded, with its signatures checked; `env` is undefined when it does not decode. */
interface VerifiedEndorser {
  readonly mspId: string;
  readonly certificatePem: string;
  readonly roles: ReadonlySet<string>;
}
type PreparedTx =
  | { readonly env: undefined }
  | {
      readonly env: DecodedEnvelope;
      readonly creatorMspId: string;
      readonly creatorOk: boolean;
      /** Per endorsement: the verified endorser, or null. */
      readonly endorsers: readonly (VerifiedEndorser | null)[];
    };

interface Pending {
  readonly txId: string;
  readonly envelope: Uint8Array;
  /** Its signatures' check, started when the orderer received it (see #order). */
  readonly prepared: Promise<PreparedTx>;
  readonly privateWrites: readonly PrivateWrite[];
  readonly resolve: (r: { blockNumber: number; txIndex: number; code: TxValidationCode }) => void;
  readonly reject: (e: unknown) => void;
}

interface Endorsed {
  readonly detail: EndorsementDetail;
  readonly responsePayload?: Uint8Array;
  /**
   * The peer's signature over the response, asked for only when a transaction needs it (an evaluation does
   * not), so that the endorsers of one transaction sign together rather than one after the other.
   */
  readonly endorse?: () => Promise<EndorsementPb>;
  readonly privateWrites?: readonly PrivateWrite[];
  readonly payload?: Uint8Array;
  readonly rwset?: ReadWriteSet;
}

const ZERO_HASH = '0'.repeat(64);
/** fabric-shim's metadata key for a key-level endorsement policy. */
const VALIDATION_PARAMETER = 'VALIDATION_PARAMETER';
/** Stands in for a key-level policy that does not parse: no set of signatures satisfies OutOf(1) of nothing. */
const UNSATISFIABLE: Policy = { kind: 'outOf', n: 1, rules: [] };
const DEFAULT_COLLECTION = 'brandFactoryTerms';

function blockHash(header: BlockRecord['header']): string {
  return sha256(Buffer.from(canonicalJson(header))).toString('hex');
}

function dataHash(record: Omit<BlockRecord, 'header' | 'metadata'>): string {
  if (record.config) return sha256(Buffer.from(canonicalJson(record.config))).toString('hex');
  return sha256(...record.data.map((d) => sha256(Buffer.from(d, 'base64')))).toString('hex');
}

/** Fabric signs SHA-256 of the message; identities holding their key in process can sign the message directly, faster. */
function signMessage(identity: LedgerIdentity, message: Uint8Array): Promise<Uint8Array> {
  return identity.signMessage ? identity.signMessage(message) : identity.sign(sha256(message));
}

export async function openEmbeddedLedger(options: EmbeddedLedgerOptions): Promise<Ledger> {
  return EmbeddedLedger.open(options);
}

class EmbeddedLedger implements Ledger {
  readonly kind = 'embedded' as const;
  readonly channel: string;
  readonly chaincode: string;
  readonly #config: ChannelConfig;
  readonly #policy: Policy;
  readonly #msp: MspRegistry;
  readonly #cc: ShimChaincode;
  readonly #peers = new Map<string, { identity: LedgerIdentity; serialized: Uint8Array }>();
  readonly #state = new WorldState();
  readonly #blocks: BlockSummary[] = [];
  readonly #events: { txIndex: number; event: ChaincodeEvent }[][] = [];
  readonly #txs = new Map<string, TransactionInfo>();
  readonly #blockFile: RecordFile;
  readonly #pvtFile: RecordFile;
  readonly #blockSize: number;
  readonly #blockTimeoutMs: number;
  readonly #cutWhenIdle: boolean;
  /** Blocks cut and not yet committed. */
  #inFlight = 0;
  #idleCut: NodeJS.Immediate | undefined;
  readonly #listeners = new Set<() => void>();
  readonly #verifiedProposals = new WeakMap<peer.SignedProposal, Promise<boolean>>();
  readonly #keyPolicies = new Map<string, Policy>();
  readonly #orderer: LedgerIdentity | undefined;
  /** Byte offset of each block in blocks.bin, for transaction proofs. */
  readonly #blockOffsets: number[] = [];
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #commitChain: Promise<void> = Promise.resolve();
  #lastHash = ZERO_HASH;
  #closed = false;

  private constructor(
    options: EmbeddedLedgerOptions,
    config: ChannelConfig,
    blockFile: RecordFile,
    pvtFile: RecordFile,
  ) {
    this.channel = config.channel;
    this.chaincode = config.chaincode;
    this.#config = config;
    this.#policy = parsePolicy(config.endorsementPolicy);
    this.#msp = new MspRegistry(config.caCertificates);
    this.#blockFile = blockFile;
    this.#pvtFile = pvtFile;
    this.#blockSize = options.blockSize ?? 50;
    this.#blockTimeoutMs = options.blockTimeoutMs ?? 50;
    this.#cutWhenIdle = options.cutWhenIdle ?? true;
    if (quietFabricLogs()) cacheShimParameterValidation();
    cacheShimCertificateParsing();
    // ChaincodeFromContract appends its system contract to the array it is given.
    this.#cc = new ChaincodeFromContract(
      [...options.contracts],
      { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } },
      {},
      config.chaincode,
      '0.1.0',
    );
    for (const [mspId, identity] of Object.entries(options.peers)) {
      const validated = this.#msp.validate(mspId, identity.certificatePem, Date.now());
      if (!validated.roles.has('peer')) throw new IdentityError(`peer identity of ${mspId} lacks OU=peer`);
      this.#peers.set(mspId, { identity, serialized: serializeIdentity(mspId, identity.certificatePem) });
    }
    this.#orderer = options.orderer ?? options.peers[Orgs.platform];
    if (this.#orderer) {
      if (!ORDERER_MSP_IDS.includes(this.#orderer.mspId)) throw new IdentityError('the orderer must be of PlatformOrg');
      const roles = this.#msp.validate(this.#orderer.mspId, this.#orderer.certificatePem, Date.now()).roles;
      if (!roles.has('orderer') && !roles.has('peer')) throw new IdentityError('the orderer identity lacks OU=orderer');
    }
  }

  static async open(options: EmbeddedLedgerOptions): Promise<EmbeddedLedger> {
    await mkdir(options.dataDir, { recursive: true });
    const blocks = await RecordFile.open(join(options.dataDir, 'blocks.bin'));
    let pvt: Awaited<ReturnType<typeof RecordFile.open>>;
    try {
      pvt = await RecordFile.open(join(options.dataDir, 'pvtdata.bin'));
    } catch (err) {
      await blocks.file.close();
      throw err;
    }
    const requested: ChannelConfig = {
      channel: options.channel ?? 'c2m',
      chaincode: options.chaincode ?? 'c2m',
      endorsementPolicy:
        options.endorsementPolicy ??
        defaultPolicy(
          Orgs.platform,
          Object.keys(options.caCertificates).filter((m) => m !== Orgs.platform),
        ),
      collections: options.collections ?? {
        [DEFAULT_COLLECTION]: {
          members: Object.keys(options.caCertificates).filter((m) => m !== Orgs.platform && m !== Orgs.finance),
        },
      },
      caCertificates: options.caCertificates,
    };
    let config = requested;
    let genesis: BlockRecord | undefined;
    if (blocks.records.length > 0) {
      genesis = JSON.parse(blocks.records[0]!.toString('utf8')) as BlockRecord;
      if (!genesis.config) throw new LedgerCorruptError('block 0 is not a configuration block');
      config = genesis.config;
      if (canonicalJson(config) !== canonicalJson(requested)) {
        await blocks.file.close();
        await pvt.file.close();
        throw new Error(
          'channel configuration (CAs, policy, collections) differs from the genesis block; config updates are not supported',
        );
      }
    }
    const ledger = new EmbeddedLedger(options, config, blocks.file, pvt.file);
    try {
      ledger.#blockOffsets.push(...blocks.offsets);
      if (genesis) await ledger.#replay(blocks.records, pvt.records);
      else await ledger.#writeGenesis(config);
    } catch (err) {
      await ledger.close();
      throw err;
    }
    return ledger;
  }

  // --- Ledger interface ---

  async submit(
    identity: LedgerIdentity,
    transaction: string,
    options: ProposalOptions = {},
  ): Promise<SubmittedTransaction> {
    this.#assertOpen();
    const { txId, signed, decoded, timestamp, headerBytes } = await this.#propose(identity, transaction, options);
    let results: Endorsed[];
    if (options.endorsingOrganizations) {
      results = await Promise.all(options.endorsingOrganizations.map((org) => this.#endorse(org, signed, decoded)));
    } else {
      // As the Fabric Gateway does: simulate on one peer, then let the written keys' endorsement policies
      // (key-level where set, else the chaincode's) pick the other endorsers.
      // With transient data the Gateway also refuses endorsers outside the touched collections
      // (endorsement-plan.ts); the client must then name trusted endorsers itself.
      const hasTransientData = Object.keys(options.transientData ?? {}).length > 0;
      if (hasTransientData && !this.#peers.has(identity.mspId)) {
        throw new EndorseError(NO_LOCAL_ENDORSER, { txId, code: ErrorCodes.ENDORSEMENT_PLAN_REFUSED });
      }
      const firstOrg = this.#peers.has(identity.mspId)
        ? identity.mspId
        : this.#discover(identity.mspId, [this.#policy])[0]!;
      const first = await this.#endorse(firstOrg, signed, decoded);
      let orgs: readonly string[] = [firstOrg];
      if (first.rwset) {
        const plan = endorsementPlan({
          firstMspId: firstOrg,
          policies: this.#policiesFor(first.rwset),
          hasPeer: (m) => this.#peers.has(m),
          hasTransientData,
          collectionsTouched: first.rwset.collections.map((c) => c.collection),
          collections: this.#config.collections,
        });
        if (!plan.ok) {
          throw new EndorseError(plan.message, {
            txId,
            code: ErrorCodes.ENDORSEMENT_PLAN_REFUSED,
            details: [first.detail],
          });
        }
        orgs = plan.orgs;
      }
      // A first org left out of the plan (not a collection member) does not count, as in the Gateway.
      const rest = await Promise.all(
        orgs.filter((o) => o !== firstOrg).map((org) => this.#endorse(org, signed, decoded)),
      );
      results = orgs.includes(firstOrg) ? [first, ...rest] : rest;
    }
    const failed = results.find((r) => r.detail.status >= 400 || !r.responsePayload);
    if (failed) {
      throw new EndorseError(failed.detail.message, { txId, details: results.map((r) => r.detail) });
    }
    const first = results[0]!;
    for (const r of results) {
      if (!Buffer.from(r.responsePayload!).equals(Buffer.from(first.responsePayload!))) {
        throw new EndorseError('endorsing peers returned different results (non-deterministic chaincode?)', {
          txId,
          details: results.map((x) => x.detail),
        });
      }
    }
    const endorsements = await Promise.all(results.map((r) => r.endorse!()));
    const payload = buildTransactionPayload(headerBytes, decoded.payloadForTx, first.responsePayload!, endorsements);
    const envelope = buildEnvelope(payload, await signMessage(identity, payload));
    let outcome: { blockNumber: number; txIndex: number; code: TxValidationCode };
    try {
      outcome = await this.#order({ txId, envelope, privateWrites: first.privateWrites ?? [] });
    } catch (err) {
      throw new SubmitError(`transaction ${txId} was not committed: ${(err as Error).message}`, { txId, cause: err });
    }
    if (outcome.code !== TxValidationCodes.VALID) throw new CommitError(outcome.code, outcome.blockNumber, { txId });
    return {
      txId,
      blockNumber: outcome.blockNumber,
      txIndex: outcome.txIndex,
      result: first.payload ?? new Uint8Array(),
      timestamp,
    };
  }

  async evaluate(identity: LedgerIdentity, transaction: string, options: ProposalOptions = {}): Promise<Uint8Array> {
    this.#assertOpen();
    const { txId, signed, decoded } = await this.#propose(identity, transaction, options);
    // As the Gateway's evaluate: transient data goes only to the gateway's own org unless the caller names one.
    if (!options.endorsingOrganizations && !this.#peers.has(identity.mspId)) {
      if (Object.keys(options.transientData ?? {}).length > 0) {
        throw new EndorseError(NO_LOCAL_ENDORSER, { txId, code: ErrorCodes.ENDORSEMENT_PLAN_REFUSED });
      }
    }
    const org =
      options.endorsingOrganizations?.[0] ??
      (this.#peers.has(identity.mspId) ? identity.mspId : this.#discover(identity.mspId, [this.#policy])[0]!);
    const r = await this.#endorse(org, signed, decoded);
    if (r.detail.status >= 400) throw new EndorseError(r.detail.message, { txId, details: [r.detail] });
    return r.payload ?? new Uint8Array();
  }

  async height(): Promise<number> {
    return this.#blocks.length;
  }

  async block(blockNumber: number): Promise<BlockSummary> {
    const b = this.#blocks[blockNumber];
    if (!b) throw new RangeError(`block ${blockNumber} does not exist (height ${this.#blocks.length})`);
    return b;
  }

  async transaction(txId: string): Promise<TransactionInfo | undefined> {
    return this.#txs.get(txId);
  }

  /** The committed envelope with its block's header, transaction hashes, validation codes and orderer signature. */
  async transactionProof(txId: string): Promise<TransactionProof | undefined> {
    const info = this.#txs.get(txId);
    if (!info) return undefined;
    const offset = this.#blockOffsets[info.blockNumber];
    if (offset === undefined) return undefined;
    const record = JSON.parse((await this.#blockFile.read(offset)).toString('utf8')) as BlockRecord;
    if (!record.metadata.ordererSignature) return undefined;
    const block: BlockProof = {
      header: record.header,
      txHashes: record.data.map((d) => sha256(Buffer.from(d, 'base64')).toString('hex')),
      validationCodes: [...record.metadata.validationCodes],
      ordererSignature: record.metadata.ordererSignature,
    };
    return {
      format: TX_PROOF_FORMAT,
      txId,
      blockNumber: info.blockNumber,
      txIndex: info.txIndex,
      envelope: record.data[info.txIndex]!,
      block,
    };
  }

  async listen(
    checkpoint: LedgerCheckpoint,
    onEvent: (event: ChaincodeEvent) => Promise<void> | void,
  ): Promise<{ close(): void }> {
    let next = checkpoint.blockNumber;
    let skipThrough = checkpoint.transactionId;
    let closed = false;
    let running = false;
    const pump = async (): Promise<void> => {
      if (running || closed) return;
      running = true;
      try {
        while (!closed && next < this.#blocks.length) {
          const block = this.#blocks[next]!;
          const skipIdx = skipThrough ? block.transactions.findIndex((t) => t.txId === skipThrough) : -1;
          for (const { txIndex, event } of this.#events[next] ?? []) {
            if (closed) return;
            if (txIndex <= skipIdx) continue;
            await onEvent(event);
          }
          next++;
          skipThrough = undefined;
        }
      } catch (err) {
        // A failing handler stops its listener; the consumer resumes from its own checkpoint.
        closed = true;
        this.#listeners.delete(wake);
        process.emitWarning(`ledger listener stopped at block ${next}: ${(err as Error).message}`);
      } finally {
        running = false;
      }
      if (!closed && next < this.#blocks.length) void pump();
    };
    const wake = () => void pump();
    this.#listeners.add(wake);
    void pump();
    return {
      close: () => {
        closed = true;
        this.#listeners.delete(wake);
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#idleCut) clearImmediate(this.#idleCut);
    this.#idleCut = undefined;
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length > 0) {
      const prepared = Promise.all(pending.map((p) => p.prepared));
      this.#commitChain = this.#commitChain.then(() => this.#commitBlock(pending, prepared));
    }
    await this.#commitChain;
    this.#listeners.clear();
    await this.#blockFile.close();
    await this.#pvtFile.close();
  }

  // --- client side ---

  async #propose(identity: LedgerIdentity, transaction: string, options: ProposalOptions) {
    const creator = serializeIdentity(identity.mspId, identity.certificatePem);
    const transient = new Map<string, Uint8Array>();
    for (const [k, v] of Object.entries(options.transientData ?? {})) {
      transient.set(k, typeof v === 'string' ? Buffer.from(v, 'utf8') : v);
    }
    const args = [transaction, ...(options.arguments ?? [])].map((a) =>
      typeof a === 'string' ? Buffer.from(a, 'utf8') : a,
    );
    const built = buildProposal({
      channel: this.channel,
      chaincode: this.chaincode,
      creator,
      args,
      transient,
      timestampMs: Date.now(),
    });
    const signature = await signMessage(identity, built.proposalBytes);
    const signed = signedProposal(built.proposalBytes, signature);
    return {
      txId: built.txId,
      signed,
      decoded: decodeProposal(built.proposalBytes),
      timestamp: built.timestamp,
      headerBytes: built.headerBytes,
    };
  }

  /** Like the gateway's use of discovery: the first org, then the policies' orgs in order, until every policy is satisfiable. */
  #discover(firstMspId: string, policies: readonly Policy[]): string[] {
    return greedyOrgs(firstMspId, policies, (m) => this.#peers.has(m)).orgs;
  }

  /**
   * The endorsement policies a read/write set must satisfy, as Fabric's key-level validator applies them: each
   * written key's own policy (its committed VALIDATION_PARAMETER) where it has one, the chaincode policy for
   * every other write (private data included), and the chaincode policy when nothing at all is written.
   */
  #policiesFor(rwset: ReadWriteSet): Policy[] {
    const policies = new Map<string, Policy>();
    let needsChaincodePolicy = rwset.collections.some((c) => c.writes.length > 0);
    const keys = new Set([...rwset.writes.map((w) => w.key), ...(rwset.metadataWrites ?? []).map((w) => w.key)]);
    for (const key of keys) {
      const vp = this.#state.getMetadata(key)?.get(VALIDATION_PARAMETER);
      if (vp) policies.set(vp.toString('base64'), this.#keyPolicy(vp));
      else needsChaincodePolicy = true;
    }
    if (needsChaincodePolicy || policies.size === 0) return [this.#policy, ...policies.values()];
    return [...policies.values()];
  }

  /** Key-level policies are parsed once per distinct envelope; one that cannot be parsed can never be satisfied. */
  #keyPolicy(envelope: Buffer): Policy {
    const id = envelope.toString('base64');
    let policy = this.#keyPolicies.get(id);
    if (!policy) {
      try {
        policy = policyFromSignaturePolicyEnvelope(envelope);
      } catch {
        policy = UNSATISFIABLE;
      }
      this.#keyPolicies.set(id, policy);
    }
    return policy;
  }

  // --- peer side ---

  async #endorse(org: string, signed: peer.SignedProposal, decoded: DecodedProposal): Promise<Endorsed> {
    const peerEntry = this.#peers.get(org);
    const txId = decoded.header.txId;
    if (!peerEntry) return { detail: { mspId: org, status: 500, message: `no peer for organization ${org}` } };
    try {
      await this.#checkProposal(signed, decoded);
    } catch (err) {
      return { detail: { mspId: org, status: 403, message: (err as Error).message } };
    }
    const sim = new Simulator(this.#state, org, this.chaincode, this.#config.collections);
    let response: ShimResponse;
    let stub: InstanceType<ChaincodeStubCtor>;
    try {
      stub = new ChaincodeStub(sim, this.channel, txId, decoded.input, signed);
      response = await this.#cc.Invoke(stub);
    } catch (err) {
      return { detail: { mspId: org, status: 500, message: (err as Error).message } };
    }
    const message = response.message ?? '';
    if (response.status >= 400) return { detail: { mspId: org, status: response.status, message } };
    let results: ReturnType<Simulator['results']>;
    try {
      results = sim.results();
    } catch (err) {
      return { detail: { mspId: org, status: 500, message: (err as Error).message } };
    }
    const ev = stub.chaincodeEvent;
    const payload = response.payload ? Buffer.from(response.payload) : Buffer.alloc(0);
    const responsePayload = buildResponsePayload({
      proposalHash: proposalHash(decoded),
      chaincode: this.chaincode,
      results: encodeRwSet(results.rwset),
      event: ev ? { name: ev.getEventName(), payload: ev.getPayload_asU8(), txId } : undefined,
      status: response.status,
      message,
      payload,
    });
    const endorse = async (): Promise<EndorsementPb> => ({
      endorser: peerEntry.serialized,
      signature: await signMessage(peerEntry.identity, Buffer.concat([responsePayload, peerEntry.serialized])),
    });
    return {
      detail: { mspId: org, status: response.status, message },
      responsePayload,
      endorse,
      privateWrites: results.privateWrites,
      rwset: results.rwset,
      payload,
    };
  }

  /** What every endorsing peer checks before running chaincode. */
  async #checkProposal(signed: peer.SignedProposal, decoded: DecodedProposal): Promise<void> {
    const h = decoded.header;
    if (h.channel !== this.channel) throw new Error(`proposal is for channel ${h.channel}, not ${this.channel}`);
    if (h.chaincode !== this.chaincode) throw new Error(`proposal is for chaincode ${h.chaincode}`);
    if (computeTxId(h.nonce, h.creator) !== h.txId) throw new Error('transaction id does not match nonce and creator');
    if (this.#txs.has(h.txId)) throw new Error(`duplicate transaction id ${h.txId}`);
    const { mspId, certificatePem } = parseIdentity(h.creator);
    const creator = this.#msp.validate(mspId, certificatePem, h.timestampMs);
    // Every endorsing peer verifies the proposal; here they share one process, so they share the (pure) answer.
    let verifying = this.#verifiedProposals.get(signed);
    if (!verifying) {
      verifying = creator.verifier(signed.getProposalBytes_asU8(), signed.getSignature_asU8());
      this.#verifiedProposals.set(signed, verifying);
    }
    const verified = await verifying;
    if (!verified) {
      throw new Error(`UNAUTHENTICATED: proposal signature does not verify for ${mspId}`);
    }
  }

  // --- orderer ---

  #order(
    p: Omit<Pending, 'resolve' | 'reject' | 'prepared'>,
  ): Promise<{ blockNumber: number; txIndex: number; code: TxValidationCode }> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new Error('ledger is closed'));
        return;
      }
      // A transaction's signatures do not depend on the block it lands in, so their check starts as soon as it
      // arrives: the crypto thread gets a steady stream instead of a whole block's worth at each cut, and the
      // block's ordered checks (policy, MVCC) find the answers waiting.
      this.#pending.push({ ...p, prepared: this.#prepareTx(p.envelope), resolve, reject });
      if (this.#pending.length >= this.#blockSize) this.#cut();
      else {
        if (!this.#timer) this.#timer = setTimeout(() => this.#cut(), this.#blockTimeoutMs);
        // After this turn of the event loop, so transactions that arrive together still share the block.
        if (this.#cutWhenIdle && this.#inFlight === 0) this.#idleCut ??= setImmediate(() => this.#cutIfIdle());
      }
    });
  }

  #cutIfIdle(): void {
    this.#idleCut = undefined;
    if (this.#inFlight === 0 && this.#pending.length > 0 && !this.#closed) this.#cut();
  }

  #cut(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0, this.#blockSize);
    if (this.#pending.length > 0) this.#timer = setTimeout(() => this.#cut(), this.#blockTimeoutMs);
    if (batch.length === 0) return;
    const prepared = Promise.all(batch.map((p) => p.prepared));
    this.#inFlight++;
    this.#commitChain = this.#commitChain
      .then(() => this.#commitBlock(batch, prepared))
      .then(() => {
        this.#inFlight--;
        // What arrived while this block committed goes now rather than at its timeout.
        if (this.#cutWhenIdle) this.#cutIfIdle();
      });
  }

  // --- committer ---

  async #writeGenesis(config: ChannelConfig): Promise<void> {
    const header = { number: 0, previousHash: ZERO_HASH, dataHash: dataHash({ config, data: [] }) };
    const record: BlockRecord = { header, config, data: [], metadata: { validationCodes: [] } };
    this.#blockOffsets.push(...(await this.#blockFile.append([Buffer.from(canonicalJson(record))])));
    this.#applyBlock(record, []);
  }

  async #commitBlock(batch: Pending[], prepared: Promise<PreparedTx[]>): Promise<void> {
    try {
      const number = this.#blocks.length;
      const checked = await this.#validateBlock(
        batch.map((p) => p.envelope),
        prepared,
      );
      const pvtRecords: Buffer[] = [];
      const privateByTx = new Map<string, readonly PrivateWrite[]>();
      checked.forEach((c, i) => {
        const writes = batch[i]!.privateWrites;
        if (c.code === TxValidationCodes.VALID && writes.length > 0) {
          privateByTx.set(c.txId, writes);
          pvtRecords.push(Buffer.from(canonicalJson({ block: number, txId: c.txId, writes })));
        }
      });
      const data = batch.map((p) => Buffer.from(p.envelope).toString('base64'));
      const header = { number, previousHash: this.#lastHash, dataHash: dataHash({ data }) };
      const validationCodes = checked.map((c) => c.code);
      const record: BlockRecord = {
        header,
        data,
        metadata: { validationCodes, ordererSignature: await this.#signBlock(header, validationCodes) },
      };
      // Private data first: a block on disk must never reference private writes that were lost.
      await this.#pvtFile.append(pvtRecords);
      this.#blockOffsets.push(...(await this.#blockFile.append([Buffer.from(canonicalJson(record))])));
      this.#applyBlock(record, checked, privateByTx);
      batch.forEach((p, i) => {
        p.resolve({ blockNumber: number, txIndex: i, code: checked[i]!.code });
      });
      for (const wake of this.#listeners) wake();
    } catch (err) {
      for (const p of batch) p.reject(err);
      // The file may now hold a block this process has not applied; refuse further writes until reopened.
      this.#closed = true;
    }
  }

  /** The orderer signs what it cut: header (which hashes the envelopes) and the validation codes. */
  async #signBlock(
    header: BlockRecord['header'],
    validationCodes: readonly TxValidationCode[],
  ): Promise<OrdererSignature | undefined> {
    if (!this.#orderer) return undefined;
    const signature = await signMessage(this.#orderer, blockSignedBytes(this.channel, header, validationCodes));
    return {
      mspId: this.#orderer.mspId,
      certificatePem: this.#orderer.certificatePem,
      signature: Buffer.from(signature).toString('base64'),
    };
  }

  /** Re-verifies a block's orderer signature on open; `atMs` is the block's latest transaction time. */
  async #checkBlockSignature(record: BlockRecord, atMs: number): Promise<void> {
    const sig = record.metadata.ordererSignature!;
    const n = record.header.number;
    if (!ORDERER_MSP_IDS.includes(sig.mspId)) throw new LedgerCorruptError(`block ${n} is signed by ${sig.mspId}`);
    let ok = false;
    try {
      const id = this.#msp.validate(sig.mspId, sig.certificatePem, atMs);
      ok =
        (id.roles.has('orderer') || id.roles.has('peer')) &&
        (await id.verifier(
          blockSignedBytes(this.channel, record.header, record.metadata.validationCodes),
          Buffer.from(sig.signature, 'base64'),
        ));
    } catch {
      ok = false;
    }
    if (!ok) throw new LedgerCorruptError(`block ${n}: the orderer's signature does not verify`);
  }

  /**
   * Fabric's validation and MVCC check for one block, against committed state plus earlier transactions in the
   * block. Signatures do not depend on order, so they are checked first: on the crypto threads, as a peer
   * validates a block's transactions in parallel, and for new blocks already as each transaction arrived (see
   * #order); the policy and MVCC checks then run in order.
   */
  async #validateBlock(envelopes: readonly Uint8Array[], preparing?: Promise<PreparedTx[]>): Promise<Checked[]> {
    const prepared = await (preparing ?? this.#prepareBlock(envelopes));
    const seen = new Set<string>();
    const touched = new Set<string>();
    const touchedPrivate = new Set<string>();
    const touchedMetadata = new Set<string>();
    const out: Checked[] = [];
    for (const pre of prepared) {
      const c = this.#validateTx(pre, seen, touched, touchedPrivate, touchedMetadata);
      if (c.code === TxValidationCodes.VALID && c.rwset) {
        for (const w of c.rwset.writes) touched.add(w.key);
        for (const w of c.rwset.metadataWrites ?? []) {
          touched.add(w.key);
          touchedMetadata.add(w.key);
        }
        for (const col of c.rwset.collections)
          for (const w of col.writes) touchedPrivate.add(`${col.collection}\u0000${w.keyHash}`);
      }
      if (c.txId) seen.add(c.txId);
      out.push(c);
    }
    return out;
  }

  #prepareBlock(envelopes: readonly Uint8Array[]): Promise<PreparedTx[]> {
    return Promise.all(envelopes.map((e) => this.#prepareTx(e)));
  }

  /** Decodes a transaction and checks every signature in it: the creator's, and each endorser's (null when the endorser is not a valid identity of the channel). */
  async #prepareTx(envBytes: Uint8Array): Promise<PreparedTx> {
    let env: DecodedEnvelope;
    try {
      env = decodeEnvelope(envBytes);
    } catch {
      return { env: undefined };
    }
    const h = env.header;
    let creatorMspId = '';
    let creatorOk = false;
    try {
      const { mspId, certificatePem } = parseIdentity(h.creator);
      creatorMspId = mspId;
      const creator = this.#msp.validate(mspId, certificatePem, h.timestampMs);
      creatorOk = await creator.verifier(env.payloadBytes, env.signature);
    } catch {
      creatorOk = false;
    }
    const endorsers = await Promise.all(
      env.endorsements.map(async (e): Promise<VerifiedEndorser | null> => {
        try {
          const { mspId, certificatePem } = parseIdentity(e.endorser);
          const id = this.#msp.validate(mspId, certificatePem, h.timestampMs);
          const ok = await id.verifier(Buffer.concat([env.responsePayload, e.endorser]), e.signature);
          return ok ? { mspId, certificatePem, roles: id.roles } : null;
        } catch {
          return null;
        }
      }),
    );
    return { env, creatorMspId, creatorOk, endorsers };
  }

  #validateTx(
    pre: PreparedTx,
    seen: ReadonlySet<string>,
    touched: ReadonlySet<string>,
    touchedPrivate: ReadonlySet<string>,
    touchedMetadata: ReadonlySet<string>,
  ): Checked {
    if (pre.env === undefined) {
      return {
        code: TxValidationCodes.INVALID_ENDORSER_TRANSACTION,
        txId: '',
        creatorMspId: '',
        fn: '',
        timestampMs: 0,
      };
    }
    const env = pre.env;
    const h = env.header;
    const base = {
      txId: h.txId,
      fn: env.args[0] ? Buffer.from(env.args[0]).toString('utf8') : '',
      timestampMs: h.timestampMs,
      creatorMspId: pre.creatorMspId,
    };
    if (!pre.creatorOk) return { ...base, code: TxValidationCodes.BAD_CREATOR_SIGNATURE };
    if (h.channel !== this.channel || h.chaincode !== this.chaincode || computeTxId(h.nonce, h.creator) !== h.txId) {
      return { ...base, code: TxValidationCodes.INVALID_ENDORSER_TRANSACTION };
    }
    if (this.#txs.has(h.txId) || seen.has(h.txId)) return { ...base, code: TxValidationCodes.DUPLICATE_TXID };

    let prp: ReturnType<typeof decodeResponsePayload>;
    let rwset: ReadWriteSet;
    try {
      prp = decodeResponsePayload(env.responsePayload);
      rwset = decodeRwSet(prp.results);
    } catch {
      return { ...base, code: TxValidationCodes.INVALID_ENDORSER_TRANSACTION };
    }
    if (prp.chaincode !== this.chaincode) return { ...base, code: TxValidationCodes.INVALID_ENDORSER_TRANSACTION };

    // Endorsements: a bad signature or foreign certificate does not count; duplicates of one identity count once.
    const signers: PolicyIdentity[] = [];
    const signerCerts = new Set<string>();
    for (const e of pre.endorsers) {
      if (!e || signerCerts.has(e.certificatePem)) continue;
      signerCerts.add(e.certificatePem);
      signers.push({ mspId: e.mspId, roles: e.roles });
    }
    if (!this.#policiesFor(rwset).every((p) => evaluatePolicy(p, signers))) {
      return { ...base, code: TxValidationCodes.ENDORSEMENT_POLICY_FAILURE };
    }

    // A key whose endorsement policy an earlier transaction of this block changed cannot be judged by either
    // version of it: Fabric's key-level validator invalidates such a transaction (ValidationParameterUpdatedError
    // → ENDORSEMENT_POLICY_FAILURE). Validation runs before the MVCC check on a peer, so this wins over a read
    // conflict: two commits of one new work order in a block leave the loser with this code, not MVCC.
    for (const key of [...rwset.writes.map((w) => w.key), ...(rwset.metadataWrites ?? []).map((w) => w.key)]) {
      if (touchedMetadata.has(key)) return { ...base, code: TxValidationCodes.ENDORSEMENT_POLICY_FAILURE };
    }

    // MVCC: every read must still be at the version it was read at, and not rewritten earlier in this block.
    for (const r of rwset.reads) {
      if (touched.has(r.key) || !sameVersion(this.#state.get(r.key)?.version ?? null, r.version)) {
        return { ...base, code: TxValidationCodes.MVCC_READ_CONFLICT };
      }
    }
    for (const col of rwset.collections) {
      for (const r of col.reads) {
        const current = this.#state.getPrivateHash(col.collection, r.keyHash)?.version ?? null;
        if (touchedPrivate.has(`${col.collection}\u0000${r.keyHash}`) || !sameVersion(current, r.version)) {
          return { ...base, code: TxValidationCodes.MVCC_READ_CONFLICT };
        }
      }
    }
    // Phantoms: re-run each range query; a key added, removed or changed in the range invalidates the transaction.
    for (const q of rwset.ranges) {
      const now = this.#state.range(q.start, q.end);
      const changed =
        now.length !== q.reads.length ||
        now.some(
          ([k, e], i) => k !== q.reads[i]!.key || !sameVersion(e.version, q.reads[i]!.version) || touched.has(k),
        );
      const added = [...touched].some((k) => k >= q.start && (q.end === '' || k < q.end));
      if (changed || added) return { ...base, code: TxValidationCodes.PHANTOM_READ_CONFLICT };
    }
    return { ...base, code: TxValidationCodes.VALID, rwset, event: prp.event };
  }

  #applyBlock(
    record: BlockRecord,
    checked: readonly Checked[],
    privateByTx = new Map<string, readonly PrivateWrite[]>(),
  ): void {
    const number = record.header.number;
    const hash = blockHash(record.header);
    const events: { txIndex: number; event: ChaincodeEvent }[] = [];
    const summaries: BlockSummary['transactions'][number][] = [];
    checked.forEach((c, txIndex) => {
      const version: Version = { block: number, tx: txIndex };
      const timestamp = new Date(c.timestampMs).toISOString();
      summaries.push({ txId: c.txId, validationCode: c.code, creatorMspId: c.creatorMspId, function: c.fn, timestamp });
      if (c.txId && !this.#txs.has(c.txId)) {
        this.#txs.set(c.txId, {
          txId: c.txId,
          blockNumber: number,
          txIndex,
          validationCode: c.code,
          blockHash: hash,
          creatorMspId: c.creatorMspId,
          timestamp,
        });
      }
      if (c.code !== TxValidationCodes.VALID || !c.rwset) return;
      for (const w of c.rwset.writes) {
        this.#state.put(
          w.key,
          w.value === null ? null : Buffer.from(w.value, 'base64'),
          version,
          c.txId,
          c.timestampMs,
        );
      }
      for (const w of c.rwset.metadataWrites ?? []) {
        this.#state.putMetadata(w.key, w.name, w.value === null ? null : Buffer.from(w.value, 'base64'), version);
      }
      for (const col of c.rwset.collections) {
        for (const w of col.writes) {
          this.#state.putPrivateHash(
            col.collection,
            w.keyHash,
            w.valueHash === null ? null : Buffer.from(w.valueHash, 'hex'),
            version,
          );
        }
      }
      for (const w of privateByTx.get(c.txId) ?? []) {
        const value = w.value === null ? null : Buffer.from(w.value, 'base64');
        // Only cleartext matching the hash the endorsers signed is stored.
        const expected = c.rwset.collections
          .find((col) => col.collection === w.collection)
          ?.writes.find((x) => x.keyHash === keyHash(w.key));
        const actual = value === null ? null : sha256(value).toString('hex');
        if (expected && expected.valueHash === actual) this.#state.putPrivate(w.collection, w.key, value, version);
      }
      if (c.event) {
        events.push({
          txIndex,
          event: {
            blockNumber: number,
            txId: c.txId,
            chaincodeName: this.chaincode,
            eventName: c.event.name,
            payload: c.event.payload,
          },
        });
      }
    });
    this.#blocks.push({
      number,
      hash,
      previousHash: record.header.previousHash,
      dataHash: record.header.dataHash,
      transactions: summaries,
    });
    this.#events.push(events);
    this.#lastHash = hash;
  }

  /** Rebuilds state from the block file, re-verifying the hash chain, data hashes and every transaction's validation. */
  async #replay(blockRecords: readonly Buffer[], pvtRecords: readonly Buffer[]): Promise<void> {
    const privateByTx = new Map<string, readonly PrivateWrite[]>();
    for (const r of pvtRecords) {
      const { txId, writes } = JSON.parse(r.toString('utf8')) as { txId: string; writes: PrivateWrite[] };
      privateByTx.set(txId, writes);
    }
    let previous = ZERO_HASH;
    let signing = false;
    for (const [i, bytes] of blockRecords.entries()) {
      let record: BlockRecord;
      try {
        record = JSON.parse(bytes.toString('utf8')) as BlockRecord;
      } catch {
        throw new LedgerCorruptError(`block ${i} is not readable`);
      }
      if (record.header.number !== i) throw new LedgerCorruptError(`block ${i} claims number ${record.header.number}`);
      if (record.header.previousHash !== previous)
        throw new LedgerCorruptError(`block ${i} does not link to block ${i - 1}`);
      if (record.header.dataHash !== dataHash(record))
        throw new LedgerCorruptError(`block ${i} data does not match its data hash`);
      if (i > 0 && record.config) throw new LedgerCorruptError(`block ${i}: configuration updates are not supported`);
      const checked = i === 0 ? [] : await this.#validateBlock(record.data.map((d) => Buffer.from(d, 'base64')));
      // Ledgers written before blocks were signed have an unsigned prefix; after the first signed block, every one is.
      if (record.metadata.ordererSignature) {
        signing = true;
        const latest = Math.max(0, ...checked.map((c) => c.timestampMs));
        await this.#checkBlockSignature(record, latest > 0 ? latest : Date.now());
      } else if (signing) throw new LedgerCorruptError(`block ${i} is not signed by the orderer`);
      checked.forEach((c, t) => {
        if (c.code !== record.metadata.validationCodes[t]) {
          throw new LedgerCorruptError(
            `block ${i} tx ${t}: recorded as ${record.metadata.validationCodes[t]} but validates as ${c.code}`,
          );
        }
      });
      this.#applyBlock(record, checked, privateByTx);
      previous = this.#lastHash;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new SubmitError('ledger is closed', { txId: '' });
  }
}
