/**
 * Fabric's protobuf shapes for proposals and transaction envelopes, built and
 * parsed with @hyperledger/fabric-protos so the bytes the creator signs are
 * the bytes a real peer would see.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { common, msp, peer } from '@hyperledger/fabric-protos';

interface TimestampPb {
  getSeconds(): number;
  getNanos(): number;
  setSeconds(v: number): void;
  setNanos(v: number): void;
}
const require = createRequire(import.meta.url);
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: new () => TimestampPb;
};

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function serializeIdentity(mspId: string, certificatePem: string): Uint8Array {
  const id = new msp.SerializedIdentity();
  id.setMspid(mspId);
  id.setIdBytes(Buffer.from(certificatePem, 'utf8'));
  return id.serializeBinary();
}

export function parseIdentity(bytes: Uint8Array): { mspId: string; certificatePem: string } {
  const id = msp.SerializedIdentity.deserializeBinary(bytes);
  return { mspId: id.getMspid(), certificatePem: Buffer.from(id.getIdBytes_asU8()).toString('utf8') };
}

/** Fabric's rule: the transaction id is the hex SHA-256 of nonce || creator, so a client cannot pick someone else's. */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return sha256(nonce, creator).toString('hex');
}

export interface ProposalInput {
  readonly channel: string;
  readonly chaincode: string;
  readonly creator: Uint8Array;
  readonly args: readonly Uint8Array[];
  readonly transient: ReadonlyMap<string, Uint8Array>;
  readonly timestampMs: number;
}

export interface BuiltProposal {
  readonly txId: string;
  readonly proposalBytes: Uint8Array;
  readonly headerBytes: Uint8Array;
  readonly timestamp: string;
}

export function buildProposal(input: ProposalInput): BuiltProposal {
  const nonce = randomBytes(24);
  const txId = computeTxId(nonce, input.creator);

  const ts = new Timestamp();
  ts.setSeconds(Math.floor(input.timestampMs / 1000));
  ts.setNanos((input.timestampMs % 1000) * 1_000_000);

  const ccId = new peer.ChaincodeID();
  ccId.setName(input.chaincode);
  const ext = new peer.ChaincodeHeaderExtension();
  ext.setChaincodeId(ccId);

  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setVersion(0);
  // biome-ignore lint/suspicious/noExplicitAny: jspb's Timestamp type lives in google-protobuf, which ships no types here.
  channelHeader.setTimestamp(ts as any);
  channelHeader.setChannelId(input.channel);
  channelHeader.setTxId(txId);
  channelHeader.setEpoch(0);
  channelHeader.setExtension$(ext.serializeBinary());

  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(input.creator);
  signatureHeader.setNonce(nonce);

  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());
  const headerBytes = header.serializeBinary();

  const ccInput = new peer.ChaincodeInput();
  ccInput.setArgsList([...input.args]);
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(ccId);
  spec.setInput(ccInput);
  const cis = new peer.ChaincodeInvocationSpec();
  cis.setChaincodeSpec(spec);

  const payload = new peer.ChaincodeProposalPayload();
  payload.setInput(cis.serializeBinary());
  const tmap = payload.getTransientmapMap();
  for (const [k, v] of input.transient) tmap.set(k, v);

  const proposal = new peer.Proposal();
  proposal.setHeader(headerBytes);
  proposal.setPayload(payload.serializeBinary());
  return {
    txId,
    proposalBytes: proposal.serializeBinary(),
    headerBytes,
    timestamp: new Date(input.timestampMs).toISOString(),
  };
}

export function signedProposal(proposalBytes: Uint8Array, signature: Uint8Array): peer.SignedProposal {
  const sp = new peer.SignedProposal();
  sp.setProposalBytes(proposalBytes);
  sp.setSignature(signature);
  return sp;
}

export interface DecodedHeader {
  readonly channel: string;
  readonly txId: string;
  readonly chaincode: string;
  readonly type: number;
  readonly timestampMs: number;
  readonly channelHeaderBytes: Uint8Array;
  readonly signatureHeaderBytes: Uint8Array;
  readonly creator: Uint8Array;
  readonly nonce: Uint8Array;
}

export function decodeHeader(headerBytes: Uint8Array): DecodedHeader {
  const header = common.Header.deserializeBinary(headerBytes);
  const chBytes = header.getChannelHeader_asU8();
  const shBytes = header.getSignatureHeader_asU8();
  const ch = common.ChannelHeader.deserializeBinary(chBytes);
  const sh = common.SignatureHeader.deserializeBinary(shBytes);
  const ext = peer.ChaincodeHeaderExtension.deserializeBinary(ch.getExtension_asU8());
  const ts = ch.getTimestamp() as unknown as TimestampPb | undefined;
  return {
    channel: ch.getChannelId(),
    txId: ch.getTxId(),
    chaincode: ext.getChaincodeId()?.getName() ?? '',
    type: ch.getType(),
    timestampMs: ts ? ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1_000_000) : 0,
    channelHeaderBytes: chBytes,
    signatureHeaderBytes: shBytes,
    creator: sh.getCreator_asU8(),
    nonce: sh.getNonce_asU8(),
  };
}

export interface DecodedProposal {
  readonly header: DecodedHeader;
  readonly input: peer.ChaincodeInput;
  readonly args: readonly Uint8Array[];
  /** The payload with the transient map removed: what goes into the block (Fabric's GetBytesProposalPayloadForTx). */
  readonly payloadForTx: Uint8Array;
}

export function decodeProposal(proposalBytes: Uint8Array): DecodedProposal {
  const proposal = peer.Proposal.deserializeBinary(proposalBytes);
  const header = decodeHeader(proposal.getHeader_asU8());
  const payload = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
  const cis = peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8());
  const input = cis.getChaincodeSpec()?.getInput() ?? new peer.ChaincodeInput();
  const stripped = new peer.ChaincodeProposalPayload();
  stripped.setInput(payload.getInput_asU8());
  return { header, input, args: input.getArgsList_asU8(), payloadForTx: stripped.serializeBinary() };
}

/** Fabric's proposal hash binds a response to the proposal without its private transient data. */
export function proposalHash(p: DecodedProposal): Buffer {
  return sha256(p.header.channelHeaderBytes, p.header.signatureHeaderBytes, p.payloadForTx);
}

export interface ChaincodeActionInput {
  readonly proposalHash: Uint8Array;
  readonly chaincode: string;
  readonly results: Uint8Array;
  readonly event?: { readonly name: string; readonly payload: Uint8Array; readonly txId: string };
  readonly status: number;
  readonly message: string;
  readonly payload: Uint8Array;
}

export function buildResponsePayload(a: ChaincodeActionInput): Uint8Array {
  const ccId = new peer.ChaincodeID();
  ccId.setName(a.chaincode);
  const response = new peer.Response();
  response.setStatus(a.status);
  response.setMessage(a.message);
  response.setPayload(a.payload);
  const action = new peer.ChaincodeAction();
  action.setResults(a.results);
  action.setResponse(response);
  action.setChaincodeId(ccId);
  if (a.event) {
    const ev = new peer.ChaincodeEvent();
    ev.setChaincodeId(a.chaincode);
    ev.setTxId(a.event.txId);
    ev.setEventName(a.event.name);
    ev.setPayload(a.event.payload);
    action.setEvents(ev.serializeBinary());
  }
  const prp = new peer.ProposalResponsePayload();
  prp.setProposalHash(a.proposalHash);
  prp.setExtension$(action.serializeBinary());
  return prp.serializeBinary();
}

export interface DecodedResponsePayload {
  readonly proposalHash: Uint8Array;
  readonly chaincode: string;
  readonly results: Uint8Array;
  readonly event?: { readonly name: string; readonly payload: Uint8Array };
  readonly status: number;
  readonly payload: Uint8Array;
}

export function decodeResponsePayload(bytes: Uint8Array): DecodedResponsePayload {
  const prp = peer.ProposalResponsePayload.deserializeBinary(bytes);
  const action = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
  const evBytes = action.getEvents_asU8();
  let event: DecodedResponsePayload['event'];
  if (evBytes.length > 0) {
    const ev = peer.ChaincodeEvent.deserializeBinary(evBytes);
    event = { name: ev.getEventName(), payload: ev.getPayload_asU8() };
  }
  return {
    proposalHash: prp.getProposalHash_asU8(),
    chaincode: action.getChaincodeId()?.getName() ?? '',
    results: action.getResults_asU8(),
    event,
    status: action.getResponse()?.getStatus() ?? 0,
    payload: action.getResponse()?.getPayload_asU8() ?? new Uint8Array(),
  };
}

export interface EndorsementPb {
  readonly endorser: Uint8Array;
  readonly signature: Uint8Array;
}

/** The transaction envelope's payload: header, and the endorsed action without transient data. */
export function buildTransactionPayload(
  headerBytes: Uint8Array,
  payloadForTx: Uint8Array,
  responsePayload: Uint8Array,
  endorsements: readonly EndorsementPb[],
): Uint8Array {
  const header = common.Header.deserializeBinary(headerBytes);
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(responsePayload);
  endorsed.setEndorsementsList(
    endorsements.map((e) => {
      const pb = new peer.Endorsement();
      pb.setEndorser(e.endorser);
      pb.setSignature(e.signature);
      return pb;
    }),
  );
  const cap = new peer.ChaincodeActionPayload();
  cap.setChaincodeProposalPayload(payloadForTx);
  cap.setAction(endorsed);
  const action = new peer.TransactionAction();
  action.setHeader(header.getSignatureHeader_asU8());
  action.setPayload(cap.serializeBinary());
  const tx = new peer.Transaction();
  tx.setActionsList([action]);
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(tx.serializeBinary());
  return payload.serializeBinary();
}

export function buildEnvelope(payload: Uint8Array, signature: Uint8Array): Uint8Array {
  const env = new common.Envelope();
  env.setPayload(payload);
  env.setSignature(signature);
  return env.serializeBinary();
}

export interface DecodedEnvelope {
  readonly payloadBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly header: DecodedHeader;
  readonly args: readonly Uint8Array[];
  readonly responsePayload: Uint8Array;
  readonly endorsements: readonly EndorsementPb[];
}

export function decodeEnvelope(bytes: Uint8Array): DecodedEnvelope {
  const env = common.Envelope.deserializeBinary(bytes);
  const payloadBytes = env.getPayload_asU8();
  const payload = common.Payload.deserializeBinary(payloadBytes);
  const headerPb = payload.getHeader();
  if (!headerPb) throw new Error('envelope has no header');
  const header = decodeHeader(headerPb.serializeBinary());
  const tx = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const actions = tx.getActionsList();
  if (actions.length !== 1) throw new Error(`expected one action, found ${actions.length}`);
  const cap = peer.ChaincodeActionPayload.deserializeBinary(actions[0]!.getPayload_asU8());
  const ccpp = peer.ChaincodeProposalPayload.deserializeBinary(cap.getChaincodeProposalPayload_asU8());
  const cis = peer.ChaincodeInvocationSpec.deserializeBinary(ccpp.getInput_asU8());
  const endorsed = cap.getAction();
  if (!endorsed) throw new Error('transaction has no endorsed action');
  return {
    payloadBytes,
    signature: env.getSignature_asU8(),
    header,
    args: cis.getChaincodeSpec()?.getInput()?.getArgsList_asU8() ?? [],
    responsePayload: endorsed.getProposalResponsePayload_asU8(),
    endorsements: endorsed
      .getEndorsementsList()
      .map((e) => ({ endorser: e.getEndorser_asU8(), signature: e.getSignature_asU8() })),
  };
}
