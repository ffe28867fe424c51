/**
 * The `Ledger` interface on a real Hyperledger Fabric network through the
 * Fabric Gateway (peers 2.4+). One gRPC connection per peer endpoint, one
 * Gateway per signing identity over its org's gateway peer; blocks and
 * transactions are read through qscc, chaincode events through the gateway's
 * checkpointed event stream.
 */

import type {
  BlockSummary,
  ChaincodeEvent,
  Ledger,
  LedgerCheckpoint,
  LedgerIdentity,
  ProposalOptions,
  SubmittedTransaction,
  TransactionInfo,
} from '@c2m/shared';
import * as grpc from '@grpc/grpc-js';
import {
  checkpointers,
  connect,
  type Gateway,
  type ChaincodeEvent as GatewayChaincodeEvent,
  hash,
  type Status,
} from '@hyperledger/fabric-gateway';
import { common, gateway, peer } from '@hyperledger/fabric-protos';
import { CommitError, SubmitError } from '../errors.js';
import { decodeEnvelope, summarizeBlock } from './blocks.js';
import { toLedgerError, validationCodeName } from './gateway-errors.js';
import { loadIdentityFiles } from './msp-identity.js';
import type { FabricPeerSettings, FabricSettings } from './settings.js';

export interface FabricLedgerOptions {
  /** Reads blocks, transactions and events; defaults to the settings' observer org identity. */
  readonly observer?: LedgerIdentity;
}

const QSCC = 'qscc';
/** Blocks whose transaction ids are kept to answer `txIndex` without re-reading the block per submit. */
const BLOCK_INDEX_CACHE = 16;
/** Transactions this client committed, remembered so a lookup right after commit waits for a lagging peer. */
const RECENT_COMMITS = 4096;
const CATCH_UP_POLL_MS = 100;

export async function openFabricLedger(settings: FabricSettings, options: FabricLedgerOptions = {}): Promise<Ledger> {
  let observer = options.observer;
  if (!observer) {
    const files = settings.identities[settings.observerMspId];
    if (!files) throw new Error(`observer org ${settings.observerMspId} has no identity in the settings`);
    observer = await loadIdentityFiles(files);
  }
  const ledger = new FabricLedger(settings, observer);
  try {
    // Fail at open, not at the first request, when the network is unreachable or the channel unknown.
    await ledger.height();
  } catch (err) {
    await ledger.close();
    throw err;
  }
  return ledger;
}

class FabricLedger implements Ledger {
  readonly kind = 'fabric' as const;
  readonly channel: string;
  readonly chaincode: string;
  readonly #settings: FabricSettings;
  readonly #observer: LedgerIdentity;
  readonly #clients = new Map<string, grpc.Client>();
  readonly #gateways = new Map<string, Gateway>();
  readonly #blockTxIds = new Map<number, Promise<string[]>>();
  readonly #listeners = new Set<() => void>();
  readonly #recent = new Map<string, number>();
  /** One past the highest block a commit status of this client named: the height every read must reach. */
  #committedHeight = 0;
  #closed = false;

  constructor(settings: FabricSettings, observer: LedgerIdentity) {
    this.channel = settings.channel;
    this.chaincode = settings.chaincode;
    this.#settings = settings;
    this.#observer = observer;
  }

  async submit(
    identity: LedgerIdentity,
    transaction: string,
    options: ProposalOptions = {},
  ): Promise<SubmittedTransaction> {
    const proposal = this.#contract(identity, this.chaincode).newProposal(transaction, proposalOptions(options));
    const txId = proposal.getTransactionId();
    const timestamp = proposalTimestamp(proposal.getBytes());
    let status: Status;
    let result: Uint8Array;
    try {
      const endorsed = await proposal.endorse();
      result = endorsed.getResult();
      const submitted = await endorsed.submit();
      status = await submitted.getStatus();
    } catch (err) {
      throw toLedgerError(err, txId);
    }
    const blockNumber = Number(status.blockNumber);
    if (!status.successful) throw new CommitError(validationCodeName(status.code), blockNumber, { txId });
    this.#remember(txId, blockNumber);
    let txIndex: number;
    try {
      // Read from the submitter's own gateway peer, the one whose commit status we have: another org's peer may
      // not have the block yet.
      txIndex = (await this.#txIdsOf(blockNumber, identity)).indexOf(txId);
    } catch (err) {
      // Committed: the index is informational, so a failed lookup must not turn success into an error.
      process.emitWarning(`transaction ${txId} committed in block ${blockNumber}; index lookup failed: ${String(err)}`);
      txIndex = -1;
    }
    return { txId, blockNumber, txIndex, result, timestamp };
  }

  async evaluate(identity: LedgerIdentity, transaction: string, options: ProposalOptions = {}): Promise<Uint8Array> {
    const proposal = this.#contract(identity, this.chaincode).newProposal(transaction, proposalOptions(options));
    try {
      return await proposal.evaluate();
    } catch (err) {
      throw toLedgerError(err, proposal.getTransactionId());
    }
  }

  async height(): Promise<number> {
    const info = common.BlockchainInfo.deserializeBinary(await this.#qscc('GetChainInfo'));
    return Number(info.getHeight());
  }

  async block(blockNumber: number): Promise<BlockSummary> {
    if (!Number.isSafeInteger(blockNumber) || blockNumber < 0) throw new RangeError(`bad block number ${blockNumber}`);
    if (blockNumber < this.#committedHeight) await this.#observerReaches(blockNumber);
    let bytes: Uint8Array;
    try {
      bytes = await this.#qscc('GetBlockByNumber', String(blockNumber));
    } catch (err) {
      const height = await this.height();
      if (blockNumber >= height) throw new RangeError(`block ${blockNumber} does not exist (height ${height})`);
      throw err;
    }
    return summarizeBlock(common.Block.deserializeBinary(bytes));
  }

  async transaction(txId: string): Promise<TransactionInfo | undefined> {
    // Read your own writes: the observer's peer may lag the peer that reported the commit.
    const committedIn = this.#recent.get(txId);
    if (committedIn !== undefined) await this.#observerReaches(committedIn);
    let bytes: Uint8Array;
    try {
      bytes = await this.#qscc('GetBlockByTxID', txId);
    } catch (err) {
      // qscc answers an unknown id with an error ("... entry not found in index"): that is "no such transaction".
      if (/not found|no such/i.test(errorText(err))) return undefined;
      throw err;
    }
    const summary = summarizeBlock(common.Block.deserializeBinary(bytes));
    const txIndex = summary.transactions.findIndex((t) => t.txId === txId);
    const tx = summary.transactions[txIndex];
    if (!tx) return undefined;
    return {
      txId,
      blockNumber: summary.number,
      txIndex,
      validationCode: tx.validationCode,
      blockHash: summary.hash,
      creatorMspId: tx.creatorMspId,
      timestamp: tx.timestamp,
    };
  }

  async listen(
    checkpoint: LedgerCheckpoint,
    onEvent: (event: ChaincodeEvent) => Promise<void> | void,
  ): Promise<{ close(): void }> {
    // The gateway's checkpointer remembers the last event handled, so a broken stream resumes exactly after it.
    const checkpointer = checkpointers.inMemory();
    if (checkpoint.transactionId) {
      await checkpointer.checkpointTransaction(BigInt(checkpoint.blockNumber), checkpoint.transactionId);
    } else if (checkpoint.blockNumber > 0) {
      await checkpointer.checkpointBlock(BigInt(checkpoint.blockNumber - 1));
    }
    const network = this.#gateway(this.#observer).getNetwork(this.channel);
    let closed = false;
    let stream: { close(): void } | undefined;
    const stop = () => {
      closed = true;
      stream?.close();
      this.#listeners.delete(stop);
    };
    const run = async () => {
      while (!closed) {
        try {
          const events = await network.getChaincodeEvents(this.chaincode, {
            checkpoint: checkpointer,
            startBlock: BigInt(checkpoint.blockNumber),
          });
          stream = events;
          if (closed) events.close();
          for await (const event of events) {
            try {
              await onEvent(fromGatewayEvent(event));
            } catch (err) {
              // As on the embedded ledger: a failing handler stops its listener; the consumer resumes from its own checkpoint.
              process.emitWarning(`ledger listener stopped at block ${event.blockNumber}: ${(err as Error).message}`);
              stop();
              return;
            }
            await checkpointer.checkpointChaincodeEvent(event);
          }
        } catch (err) {
          if (closed) return;
          process.emitWarning(`chaincode event stream broke, reconnecting: ${errorText(err)}`);
        }
        if (!closed) await new Promise((r) => setTimeout(r, this.#settings.deadlines.eventsReconnectMs));
      }
    };
    this.#listeners.add(stop);
    void run();
    return { close: stop };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const stop of [...this.#listeners]) stop();
    for (const gw of this.#gateways.values()) gw.close();
    for (const client of this.#clients.values()) client.close();
    this.#gateways.clear();
    this.#clients.clear();
  }

  // --- connections ---

  #client(p: FabricPeerSettings): grpc.Client {
    let client = this.#clients.get(p.endpoint);
    if (!client) {
      const credentials = grpc.credentials.createSsl(Buffer.from(p.tlsRootCertPem));
      client = new grpc.Client(
        p.endpoint,
        credentials,
        p.hostAlias ? { 'grpc.ssl_target_name_override': p.hostAlias } : {},
      );
      this.#clients.set(p.endpoint, client);
    }
    return client;
  }

  /** The identity's own org peer is its gateway (as Fabric expects); an org without listed peers uses the observer org's. */
  #gatewayPeer(mspId: string): FabricPeerSettings {
    const peers = this.#settings.peers[mspId] ?? this.#settings.peers[this.#settings.observerMspId];
    const first = peers?.[0];
    if (!first) throw new SubmitError(`no peer for ${mspId} in the Fabric settings`, { txId: '' });
    return first;
  }

  #gateway(identity: LedgerIdentity): Gateway {
    if (this.#closed) throw new SubmitError('ledger is closed', { txId: '' });
    const key = `${identity.mspId}\u0000${identity.certificatePem}`;
    let gw = this.#gateways.get(key);
    if (!gw) {
      const d = this.#settings.deadlines;
      const deadline = (ms: number) => () => ({ deadline: Date.now() + ms });
      gw = connect({
        client: this.#client(this.#gatewayPeer(identity.mspId)),
        identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certificatePem) },
        // Identities that can sign whole messages (the store's, on its crypto threads) get them unhashed and hash
        // with node:crypto; the others' Signer takes the SHA-256 digest the gateway computes. Both give low-S DER
        // over SHA-256(message), the gateway's custom signer contract.
        ...(identity.signMessage
          ? { signer: identity.signMessage, hash: hash.none }
          : { signer: identity.sign, hash: hash.sha256 }),
        evaluateOptions: deadline(d.evaluateMs),
        endorseOptions: deadline(d.endorseMs),
        submitOptions: deadline(d.submitMs),
        commitStatusOptions: deadline(d.commitStatusMs),
      });
      this.#gateways.set(key, gw);
    }
    return gw;
  }

  #contract(identity: LedgerIdentity, chaincode: string) {
    return this.#gateway(identity).getNetwork(this.channel).getContract(chaincode);
  }

  #remember(txId: string, blockNumber: number): void {
    this.#recent.set(txId, blockNumber);
    if (this.#recent.size > RECENT_COMMITS) this.#recent.delete(this.#recent.keys().next().value as string);
    this.#committedHeight = Math.max(this.#committedHeight, blockNumber + 1);
  }

  /** Waits (up to the commit-status deadline) until the observer's peer holds `blockNumber`. */
  async #observerReaches(blockNumber: number): Promise<void> {
    const deadline = Date.now() + this.#settings.deadlines.commitStatusMs;
    while ((await this.height()) <= blockNumber) {
      if (Date.now() > deadline) {
        throw new SubmitError(`the observer's peer has not reached block ${blockNumber}`, { txId: '' });
      }
      await new Promise((r) => setTimeout(r, CATCH_UP_POLL_MS));
    }
  }

  async #qscc(fn: string, ...args: string[]): Promise<Uint8Array> {
    return this.#qsccAs(this.#observer, fn, ...args);
  }

  /** qscc through `identity`'s own gateway, so it answers from that org's peer. */
  async #qsccAs(identity: LedgerIdentity, fn: string, ...args: string[]): Promise<Uint8Array> {
    const proposal = this.#contract(identity, QSCC).newProposal(fn, { arguments: [this.channel, ...args] });
    try {
      return await proposal.evaluate();
    } catch (err) {
      throw toLedgerError(err, proposal.getTransactionId());
    }
  }

  #txIdsOf(blockNumber: number, reader: LedgerIdentity): Promise<string[]> {
    let ids = this.#blockTxIds.get(blockNumber);
    if (!ids) {
      ids = this.#qsccAs(reader, 'GetBlockByNumber', String(blockNumber)).then((bytes) =>
        (common.Block.deserializeBinary(bytes).getData()?.getDataList_asU8() ?? []).map((e) => decodeEnvelope(e).txId),
      );
      ids.catch(() => this.#blockTxIds.delete(blockNumber));
      this.#blockTxIds.set(blockNumber, ids);
      for (const n of this.#blockTxIds.keys()) {
        if (this.#blockTxIds.size <= BLOCK_INDEX_CACHE) break;
        this.#blockTxIds.delete(n);
      }
    }
    return ids;
  }
}

function proposalOptions(options: ProposalOptions) {
  return {
    arguments: [...(options.arguments ?? [])],
    ...(options.transientData ? { transientData: { ...options.transientData } } : {}),
    ...(options.endorsingOrganizations ? { endorsingOrganizations: [...options.endorsingOrganizations] } : {}),
  };
}

/** The proposal's channel-header timestamp, which is the chaincode stub's tx timestamp. */
function proposalTimestamp(proposedTransactionBytes: Uint8Array): string {
  // Proposal.getBytes() is the serialized gateway.ProposedTransaction wrapping the SignedProposal.
  const signed = gateway.ProposedTransaction.deserializeBinary(proposedTransactionBytes).getProposal();
  const header = common.Header.deserializeBinary(
    peer.Proposal.deserializeBinary(signed?.getProposalBytes_asU8() ?? new Uint8Array()).getHeader_asU8(),
  );
  const ts = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()).getTimestamp();
  return new Date(ts ? ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1_000_000) : 0).toISOString();
}

function fromGatewayEvent(e: GatewayChaincodeEvent): ChaincodeEvent {
  return {
    blockNumber: Number(e.blockNumber),
    txId: e.transactionId,
    chaincodeName: e.chaincodeName,
    eventName: e.eventName,
    payload: e.payload,
  };
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const details = (err as { details?: readonly { message: string }[] }).details ?? [];
  const cause = (err as { cause?: unknown }).cause;
  return [err.message, ...details.map((d) => d.message), cause instanceof Error ? cause.message : ''].join(' ');
}
