/**
 * Decoding of `common.Block` as qscc returns it into the platform's
 * `BlockSummary`, the same shape the embedded engine produces.
 */
import { createHash } from 'node:crypto';
import type { BlockSummary } from '@c2m/shared';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { validationCodeName } from './gateway-errors.js';

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derTlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(value.length), value]);
}

function derInteger(n: bigint): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  // Minimal two's complement: a leading 0x00 keeps a set high bit from reading as negative.
  if (bytes.length === 0 || (bytes[0]! & 0x80) !== 0) bytes.unshift(0);
  return derTlv(0x02, Buffer.from(bytes));
}

/**
 * A block's hash as Fabric computes it (protoutil.BlockHeaderHash): SHA-256 of
 * the ASN.1 DER sequence { Number INTEGER, PreviousHash OCTET STRING, DataHash OCTET STRING }.
 */
export function blockHeaderHash(header: { number: bigint; previousHash: Uint8Array; dataHash: Uint8Array }): Buffer {
  const der = derTlv(
    0x30,
    Buffer.concat([
      derInteger(header.number),
      derTlv(0x04, Buffer.from(header.previousHash)),
      derTlv(0x04, Buffer.from(header.dataHash)),
    ]),
  );
  return createHash('sha256').update(der).digest();
}

export interface DecodedTransaction {
  readonly txId: string;
  readonly creatorMspId: string;
  readonly function: string;
  readonly timestamp: string;
}

function timestampIso(ts: { getSeconds(): number; getNanos(): number } | undefined): string {
  return new Date(ts ? ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1_000_000) : 0).toISOString();
}

/** The parts of a transaction envelope the platform shows: id, creator org, function and proposal time. */
export function decodeEnvelope(envelopeBytes: Uint8Array): DecodedTransaction {
  const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelopeBytes).getPayload_asU8());
  const header = payload.getHeader();
  const channelHeader = common.ChannelHeader.deserializeBinary(header?.getChannelHeader_asU8() ?? new Uint8Array());
  const signatureHeader = common.SignatureHeader.deserializeBinary(
    header?.getSignatureHeader_asU8() ?? new Uint8Array(),
  );
  let creatorMspId = '';
  try {
    creatorMspId = msp.SerializedIdentity.deserializeBinary(signatureHeader.getCreator_asU8()).getMspid();
  } catch {
    // Config transactions from the orderer may carry no creator we can read.
  }
  let fn = '';
  if (channelHeader.getType() === common.HeaderType.ENDORSER_TRANSACTION) {
    const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0];
    if (action) {
      const ccPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
      const proposalPayload = peer.ChaincodeProposalPayload.deserializeBinary(
        ccPayload.getChaincodeProposalPayload_asU8(),
      );
      const spec = peer.ChaincodeInvocationSpec.deserializeBinary(proposalPayload.getInput_asU8()).getChaincodeSpec();
      const first = spec?.getInput()?.getArgsList_asU8()[0];
      fn = first ? Buffer.from(first).toString('utf8') : '';
    }
  }
  return {
    txId: channelHeader.getTxId(),
    creatorMspId,
    function: fn,
    timestamp: timestampIso(channelHeader.getTimestamp()),
  };
}

/** Summarises a block: header hashes (hex) and each transaction with its validation code from the block metadata. */
export function summarizeBlock(block: common.Block): BlockSummary {
  const header = block.getHeader();
  if (!header) throw new Error('block without header');
  const number = BigInt(header.getNumber());
  const previousHash = header.getPreviousHash_asU8();
  const dataHash = header.getDataHash_asU8();
  const filter =
    block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
  const envelopes = block.getData()?.getDataList_asU8() ?? [];
  return {
    number: Number(number),
    hash: blockHeaderHash({ number, previousHash, dataHash }).toString('hex'),
    previousHash: Buffer.from(previousHash).toString('hex'),
    dataHash: Buffer.from(dataHash).toString('hex'),
    transactions: envelopes.map((env, i) => ({
      ...decodeEnvelope(env),
      // The genesis block has no filter: its config transaction is valid by construction.
      validationCode: validationCodeName(filter[i] ?? peer.TxValidationCode.VALID),
    })),
  };
}
