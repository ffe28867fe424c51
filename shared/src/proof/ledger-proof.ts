/**
 * Offline proof that a transaction is committed, VALID, on the channel: the
 * envelope as committed, the block header it is hashed into and the orderer's
 * signature over that header and the block's validation codes. Checked
 * against pinned trust only (org CA certificates, the endorsement policy, the
 * orderer orgs), never against a server.
 *
 * Embedded engine format (`c2m-embedded-1`, network/README.md "Block signatures"):
 *   dataHash  = SHA-256(SHA-256(envelope_0) ‖ … ‖ SHA-256(envelope_n))   (hex), so `txHashes` is the inclusion proof
 *   blockHash = SHA-256(canonicalJson(header))                            (hex), header = { number, previousHash, dataHash }
 *   orderer signs canonicalJson({ tag: 'c2m.block.v1', channel, header, validationCodes }) with ECDSA P-256/SHA-256 (DER);
 * the validation codes are inside what the orderer signs (unlike Fabric's TRANSACTIONS_FILTER metadata).
 */
import { canonicalJson } from '../canonical.js';
import { concat, fromBase64, fromHex, fromUtf8, sha256, toHex, utf8 } from './bytes.js';
import {
  compositeKey,
  type DecodedTransaction,
  decodeTransaction,
  decodeWrites,
  ENDORSER_TRANSACTION,
  expectedTxId,
  type StateWrites,
} from './fabric-tx.js';
import { evaluatePolicy, type Policy, type PolicyIdentity, policyFromSignaturePolicyEnvelope } from './policy.js';
import { type Certificate, issuedBy, parseCertificatePem, verifyDer } from './x509.js';

export const BLOCK_SIGNATURE_TAG = 'c2m.block.v1';
export const TX_PROOF_FORMAT = 'c2m-embedded-1';
const VALIDATION_PARAMETER = 'VALIDATION_PARAMETER';

export interface BlockHeader {
  readonly number: number;
  readonly previousHash: string;
  readonly dataHash: string;
}

export interface OrdererSignature {
  readonly mspId: string;
  readonly certificatePem: string;
  /** DER ECDSA, base64. */
  readonly signature: string;
}

export interface BlockProof {
  readonly header: BlockHeader;
  /** Hex SHA-256 of every envelope of the block, in order. */
  readonly txHashes: string[];
  readonly validationCodes: string[];
  readonly ordererSignature: OrdererSignature;
}

/** What `Ledger.transactionProof` returns: everything a verifier needs to prove one committed transaction. */
export interface TransactionProof {
  readonly format: typeof TX_PROOF_FORMAT;
  readonly txId: string;
  readonly blockNumber: number;
  readonly txIndex: number;
  /** The Envelope protobuf bytes as committed, base64. */
  readonly envelope: string;
  readonly block: BlockProof;
}

/** The message the orderer signs for a block. */
export function blockSignedBytes(channel: string, header: BlockHeader, validationCodes: readonly string[]): Uint8Array {
  return utf8(canonicalJson({ tag: BLOCK_SIGNATURE_TAG, channel, header, validationCodes }));
}

export async function blockHeaderHash(header: BlockHeader): Promise<string> {
  return toHex(await sha256(utf8(canonicalJson(header))));
}

/** What the verifier trusts, obtained out of band (never from the bundle). */
export interface PinnedTrust {
  /** Each org's CA certificate (PEM), by MSP id. */
  readonly caCertificates: Readonly<Record<string, string>>;
  /** The chaincode endorsement policy, Fabric syntax (network's C2M_ENDORSEMENT_POLICY). */
  readonly endorsementPolicy: Policy;
  readonly channel: string;
  readonly chaincode: string;
  /** Orgs whose members (OU orderer, or peer where the orderer runs as a peer-org spec) may sign blocks. */
  readonly ordererMspIds: readonly string[];
}

export class ProofError extends Error {
  override readonly name = 'ProofError';
}

/** One certificate, parsed and chained to its org's pinned CA, once per verification. */
export class TrustedIdentities {
  readonly #cas = new Map<string, Certificate>();
  readonly #cache = new Map<string, Promise<Certificate>>();

  constructor(readonly trust: PinnedTrust) {
    for (const [mspId, pem] of Object.entries(trust.caCertificates)) this.#cas.set(mspId, parseCertificatePem(pem));
  }

  /**
   * The certificate, if the pinned CA of `mspId` issued it and it is valid at `atMs` (any time in its validity
   * when undefined); throws ProofError otherwise.
   */
  async certificate(mspId: string, pem: string, atMs?: number): Promise<Certificate> {
    const key = `${mspId}\u0000${pem}`;
    let p = this.#cache.get(key);
    if (!p) {
      p = this.#check(mspId, pem);
      this.#cache.set(key, p);
    }
    const cert = await p;
    if (atMs !== undefined && (atMs < cert.notBefore || atMs > cert.notAfter)) {
      throw new ProofError(`certificate of ${mspId} is not valid at ${new Date(atMs).toISOString()}`);
    }
    return cert;
  }

  async #check(mspId: string, pem: string): Promise<Certificate> {
    const ca = this.#cas.get(mspId);
    if (!ca) throw new ProofError(`no pinned CA for ${mspId}`);
    let cert: Certificate;
    try {
      cert = parseCertificatePem(pem);
    } catch (err) {
      throw new ProofError(`unreadable certificate of ${mspId}: ${(err as Error).message}`);
    }
    if (!(await issuedBy(cert, ca))) throw new ProofError(`certificate not issued by the pinned CA of ${mspId}`);
    return cert;
  }
}

export interface ProvenTransaction {
  readonly txId: string;
  readonly blockNumber: number;
  readonly txIndex: number;
  readonly blockHash: string;
  readonly timestampMs: number;
  readonly creatorMspId: string;
  /** Chaincode function (first argument), e.g. `Anchors:AnchorBatch`. */
  readonly fn: string;
  readonly state: StateWrites;
  readonly endorsers: readonly PolicyIdentity[];
}

/**
 * Checks a block proof: header hash, data hash over the tx hashes, and the orderer's signature. A block carries
 * no time of its own, so the orderer's certificate is checked for validity at each transaction's time by
 * verifyTransaction (an archived block stays provable after the orderer's certificate expires). Returns the
 * block hash.
 */
export async function verifyBlockProof(block: BlockProof, ids: TrustedIdentities): Promise<string> {
  const { trust } = ids;
  const h = block.header;
  if (!Number.isSafeInteger(h.number) || h.number < 1) throw new ProofError('block number is not a positive integer');
  fromHex(h.previousHash);
  if (block.txHashes.length === 0 || block.txHashes.length !== block.validationCodes.length) {
    throw new ProofError('block transaction hashes and validation codes differ in number');
  }
  const dataHash = toHex(await sha256(concat(...block.txHashes.map((x) => fromHex(x)))));
  if (dataHash !== h.dataHash || block.txHashes.some((x) => x.length !== 64)) {
    throw new ProofError(`block ${h.number}: data hash does not match its transactions`);
  }
  const sig = block.ordererSignature;
  if (!trust.ordererMspIds.includes(sig.mspId))
    throw new ProofError(`block signed by ${sig.mspId}, not an orderer org`);
  const cert = await ids.certificate(sig.mspId, sig.certificatePem);
  if (!cert.organizationalUnits.some((ou) => ou === 'orderer' || ou === 'peer')) {
    throw new ProofError(`block signer of ${sig.mspId} is neither an orderer nor a peer`);
  }
  const signed = blockSignedBytes(trust.channel, h, block.validationCodes);
  if (!(await verifyDer(cert.publicKey, signed, fromBase64(sig.signature)))) {
    throw new ProofError(`block ${h.number}: the orderer's signature does not verify`);
  }
  return blockHeaderHash(h);
}

/**
 * Proves one transaction: in its block, VALID there, signed by its creator, endorsed as the pinned policy (and
 * any key-level policy learned from earlier proven transactions, `keyPolicies`) requires, for this channel and
 * chaincode. Returns what it wrote.
 */
export async function verifyTransaction(
  envelopeB64: string,
  txIndex: number,
  block: BlockProof,
  blockHash: string,
  ids: TrustedIdentities,
  keyPolicies: ReadonlyMap<string, Policy> = new Map(),
): Promise<ProvenTransaction> {
  const { trust } = ids;
  const envelope = fromBase64(envelopeB64);
  if (!Number.isSafeInteger(txIndex) || txIndex < 0 || txIndex >= block.txHashes.length) {
    throw new ProofError(`transaction index ${txIndex} is not in block ${block.header.number}`);
  }
  if (toHex(await sha256(envelope)) !== block.txHashes[txIndex]) {
    throw new ProofError(`envelope is not transaction ${txIndex} of block ${block.header.number}`);
  }
  if (block.validationCodes[txIndex] !== 'VALID') {
    throw new ProofError(`transaction is ${block.validationCodes[txIndex]} in block ${block.header.number}`);
  }
  let tx: DecodedTransaction;
  try {
    tx = await decodeTransaction(envelope);
  } catch (err) {
    throw new ProofError(`envelope does not decode: ${(err as Error).message}`);
  }
  if (tx.type !== ENDORSER_TRANSACTION) throw new ProofError('not an endorser transaction');
  if (tx.channel !== trust.channel || tx.chaincode !== trust.chaincode || tx.response.chaincode !== trust.chaincode) {
    throw new ProofError(`transaction is for ${tx.channel}/${tx.chaincode}, not ${trust.channel}/${trust.chaincode}`);
  }
  if ((await expectedTxId(tx)) !== tx.txId) throw new ProofError('transaction id is not SHA-256(nonce ‖ creator)');
  const creator = await ids.certificate(tx.creator.mspId, tx.creator.certificatePem, tx.timestampMs);
  const orderer = block.ordererSignature;
  await ids.certificate(orderer.mspId, orderer.certificatePem, tx.timestampMs);
  if (!(await verifyDer(creator.publicKey, tx.payload, tx.signature))) {
    throw new ProofError("the creator's signature over the envelope does not verify");
  }
  if (toHex(tx.response.proposalHash) !== toHex(tx.proposalHash)) {
    throw new ProofError('the endorsed response is for another proposal');
  }
  if (tx.response.status < 200 || tx.response.status >= 400) throw new ProofError('the endorsed response is an error');
  const endorsers: PolicyIdentity[] = [];
  const seen = new Set<string>();
  for (const e of tx.endorsements) {
    const cert = await ids.certificate(e.endorser.mspId, e.endorser.certificatePem, tx.timestampMs);
    if (!(await verifyDer(cert.publicKey, concat(tx.responsePayload, e.endorser.bytes), e.signature))) {
      throw new ProofError(`an endorsement signature of ${e.endorser.mspId} does not verify`);
    }
    if (seen.has(e.endorser.certificatePem)) continue;
    seen.add(e.endorser.certificatePem);
    endorsers.push({ mspId: e.endorser.mspId, roles: new Set(cert.organizationalUnits) });
  }
  let state: StateWrites;
  try {
    state = decodeWrites(tx.response.results, trust.chaincode);
  } catch (err) {
    throw new ProofError(`read/write set does not decode: ${(err as Error).message}`);
  }
  // As Fabric's key-level validator: each written key's own policy where one is known to be in force (learned
  // from earlier proven transactions), the pinned chaincode policy for every other write or when nothing is written.
  const keys = new Set([...state.writes.keys(), ...state.metadata.keys()]);
  let needsChaincodePolicy = keys.size === 0;
  for (const key of keys) {
    const p = keyPolicies.get(key);
    if (!p) needsChaincodePolicy = true;
    else if (!evaluatePolicy(p, endorsers)) throw new ProofError('endorsements do not satisfy a key-level policy');
  }
  if (needsChaincodePolicy && !evaluatePolicy(trust.endorsementPolicy, endorsers)) {
    throw new ProofError('endorsements do not satisfy the pinned endorsement policy');
  }
  return {
    txId: tx.txId,
    blockNumber: block.header.number,
    txIndex,
    blockHash,
    timestampMs: tx.timestampMs,
    creatorMspId: tx.creator.mspId,
    fn: tx.args[0] ? fromUtf8(tx.args[0]) : '',
    state,
    endorsers,
  };
}

/** Key-level policies a proven transaction set, to be applied to later writes of the same keys. */
export function learnKeyPolicies(tx: ProvenTransaction, into: Map<string, Policy>): void {
  for (const [key, entries] of tx.state.metadata) {
    if (!entries.has(VALIDATION_PARAMETER)) continue;
    const v = entries.get(VALIDATION_PARAMETER);
    if (v) into.set(key, policyFromSignaturePolicyEnvelope(v));
    else into.delete(key);
  }
}

/** The JSON record a proven transaction wrote under a composite key, or undefined. */
export function writtenRecord<T>(tx: ProvenTransaction, objectType: string, ...attributes: string[]): T | undefined {
  const v = tx.state.writes.get(compositeKey(objectType, ...attributes));
  if (!v) return undefined;
  return JSON.parse(fromUtf8(v)) as T;
}

/** Proves one `Ledger.transactionProof` answer on its own (no key-level policies known). */
export async function verifyTransactionProof(proof: TransactionProof, trust: PinnedTrust): Promise<ProvenTransaction> {
  if (proof.format !== TX_PROOF_FORMAT) throw new ProofError(`unknown proof format ${String(proof.format)}`);
  const ids = new TrustedIdentities(trust);
  const hash = await verifyBlockProof(proof.block, ids);
  if (proof.block.header.number !== proof.blockNumber) throw new ProofError('block number differs from the proof');
  const tx = await verifyTransaction(proof.envelope, proof.txIndex, proof.block, hash, ids);
  if (tx.txId !== proof.txId) throw new ProofError('the envelope is another transaction');
  return tx;
}

/**
 * The JSON record a transaction wrote under a composite key, read from its proof without verifying it: for
 * whoever assembles bundles (the verifier proves the same bytes). Undefined when it wrote none.
 */
export async function recordInProof<T>(
  proof: TransactionProof,
  chaincode: string,
  objectType: string,
  ...attributes: string[]
): Promise<T | undefined> {
  const tx = await decodeTransaction(fromBase64(proof.envelope));
  const v = decodeWrites(tx.response.results, chaincode).writes.get(compositeKey(objectType, ...attributes));
  return v ? (JSON.parse(fromUtf8(v)) as T) : undefined;
}
