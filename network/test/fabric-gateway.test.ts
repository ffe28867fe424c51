/**
 * openFabricLedger against a stand-in Gateway service: a gRPC server with TLS
 * that speaks the Fabric Gateway protocol (gateway.Gateway: Evaluate, Endorse,
 * Submit, CommitStatus, ChaincodeEvents) and qscc. It checks the client's side
 * of the wire: signed requests, results, errors carried as gRPC status details,
 * commit status, block decoding of the envelopes the client itself built, and
 * where a broken event stream resumes.
 */
import assert from 'node:assert/strict';
import { createHash, verify } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, type LedgerIdentity, Orgs } from '@c2m/shared';
import * as grpc from '@grpc/grpc-js';
import { common, gateway, google, peer } from '@hyperledger/fabric-protos';
import {
  type ChaincodeEvent,
  CommitError,
  DEFAULT_DEADLINES,
  EndorseError,
  type FabricSettings,
  openFabricLedger,
} from '../src/index.js';
import { createTestOrg } from './helpers/pki.js';
import { selfSignedTls } from './helpers/tls.js';

const require = createRequire(import.meta.url);
const { Any } = require('google-protobuf/google/protobuf/any_pb.js') as {
  Any: new () => { setTypeUrl(u: string): void; setValue(v: Uint8Array): void };
};

interface Call<T> {
  request: T;
}
type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;

function decodeProposal(signed: peer.SignedProposal) {
  const proposal = peer.Proposal.deserializeBinary(signed.getProposalBytes_asU8());
  const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const chaincode = peer.ChaincodeHeaderExtension.deserializeBinary(channelHeader.getExtension_asU8())
    .getChaincodeId()
    ?.getName();
  const input = peer.ChaincodeInvocationSpec.deserializeBinary(
    peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8()).getInput_asU8(),
  )
    .getChaincodeSpec()
    ?.getInput();
  const args = (input?.getArgsList_asU8() ?? []).map((a) => Buffer.from(a).toString('utf8'));
  return { proposal, header, txId: channelHeader.getTxId(), chaincode, fn: args[0]!, args: args.slice(1) };
}

function chaincodeError(mspId: string, message: string): grpc.ServiceError {
  const detail = new gateway.ErrorDetail();
  detail.setAddress('peer0.factory1.c2m.local:9051');
  detail.setMspId(mspId);
  detail.setMessage(message);
  const any = new Any();
  any.setTypeUrl('type.googleapis.com/gateway.ErrorDetail');
  any.setValue(detail.serializeBinary());
  const status = new google.rpc.Status();
  status.setCode(grpc.status.ABORTED);
  status.setMessage('failed to endorse transaction, see attached details for more info');
  status.setDetailsList([any as never]);
  const metadata = new grpc.Metadata();
  metadata.add('grpc-status-details-bin', Buffer.from(status.serializeBinary()));
  return Object.assign(new Error(status.getMessage()), {
    code: grpc.status.ABORTED,
    details: status.getMessage(),
    metadata,
  });
}

/** The envelope a Gateway returns from Endorse: the proposal's header and a chaincode response. */
function preparedTransaction(header: common.Header, proposalPayload: Uint8Array, result: Uint8Array): common.Envelope {
  const response = new peer.Response();
  response.setStatus(200);
  response.setPayload(result);
  const action = new peer.ChaincodeAction();
  action.setResponse(response);
  const prp = new peer.ProposalResponsePayload();
  prp.setExtension$(action.serializeBinary());
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(prp.serializeBinary());
  const cap = new peer.ChaincodeActionPayload();
  cap.setChaincodeProposalPayload(proposalPayload);
  cap.setAction(endorsed);
  const ta = new peer.TransactionAction();
  ta.setHeader(header.getSignatureHeader_asU8());
  ta.setPayload(cap.serializeBinary());
  const tx = new peer.Transaction();
  tx.setActionsList([ta]);
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(tx.serializeBinary());
  const env = new common.Envelope();
  env.setPayload(payload.serializeBinary());
  return env;
}

describe('Fabric Gateway client on the wire', () => {
  let server: grpc.Server;
  let settings: FabricSettings;
  let user: LedgerIdentity;
  let observer: LedgerIdentity;
  const submitted: { txId: string; envelope: Uint8Array }[] = [];
  const eventRequests: { start: number; afterTxId: string }[] = [];
  const COMMIT_BLOCK = 7;

  before(async () => {
    const org = await createTestOrg(Orgs.factory1);
    user = await org.user('f1-manager', 'factory-manager');
    observer = await (await createTestOrg(Orgs.platform)).user('platform-admin', 'admin');
    const tls = await selfSignedTls();
    const block = () => {
      const b = new common.Block();
      const h = new common.BlockHeader();
      h.setNumber(COMMIT_BLOCK);
      h.setPreviousHash(Buffer.alloc(32, 1));
      h.setDataHash(Buffer.alloc(32, 2));
      b.setHeader(h);
      const data = new common.BlockData();
      data.setDataList(submitted.map((s) => s.envelope));
      b.setData(data);
      const md = new common.BlockMetadata();
      md.setMetadataList([
        new Uint8Array(),
        new Uint8Array(),
        Uint8Array.from(submitted.map((s) => (s.txId === conflicted ? 11 : 0))),
      ]);
      b.setMetadata(md);
      return b;
    };
    let conflicted = '';
    server = new grpc.Server();
    server.addService(gateway.GatewayService as never, {
      evaluate(call: Call<gateway.EvaluateRequest>, cb: Callback<gateway.EvaluateResponse>) {
        const p = decodeProposal(call.request.getProposedTransaction()!);
        const response = new peer.Response();
        response.setStatus(200);
        if (p.chaincode === 'qscc' && p.fn === 'GetChainInfo') {
          const info = new common.BlockchainInfo();
          info.setHeight(COMMIT_BLOCK + 1);
          response.setPayload(info.serializeBinary());
        } else if (p.chaincode === 'qscc' && p.fn === 'GetBlockByNumber') {
          response.setPayload(block().serializeBinary());
        } else if (p.chaincode === 'qscc' && p.fn === 'GetBlockByTxID') {
          if (!submitted.some((s) => s.txId === p.args[1])) {
            cb(
              Object.assign(new Error('2 UNKNOWN'), {
                code: grpc.status.UNKNOWN,
                details: `evaluate call to endorser returned error: chaincode response 500, Failed to get block for txID ${p.args[1]}, error entry not found in index`,
                metadata: new grpc.Metadata(),
              }),
            );
            return;
          }
          response.setPayload(block().serializeBinary());
        } else if (p.fn === 'Devices:ReadDevice') {
          response.setPayload(Buffer.from(JSON.stringify({ deviceId: p.args[0] })));
        } else {
          cb(
            chaincodeError(
              Orgs.factory1,
              `chaincode response 500, DEVICE_NOT_FOUND: device ${p.args[0]} is not registered`,
            ),
          );
          return;
        }
        const res = new gateway.EvaluateResponse();
        res.setResult(response);
        cb(null, res);
      },
      endorse(call: Call<gateway.EndorseRequest>, cb: Callback<gateway.EndorseResponse>) {
        const p = decodeProposal(call.request.getProposedTransaction()!);
        if (p.fn === 'Devices:CertifyDevice') {
          cb(chaincodeError(Orgs.platform, 'chaincode response 500, ACCESS_DENIED: Factory1Org may not CertifyDevice'));
          return;
        }
        const res = new gateway.EndorseResponse();
        res.setPreparedTransaction(
          preparedTransaction(p.header, p.proposal.getPayload_asU8(), Buffer.from(JSON.stringify({ ok: p.args[0] }))),
        );
        cb(null, res);
      },
      submit(call: Call<gateway.SubmitRequest>, cb: Callback<gateway.SubmitResponse>) {
        const env = call.request.getPreparedTransaction()!;
        // The client signed the envelope payload with the identity's Signer (SHA-256 digest, DER).
        const ok = verify('sha256', env.getPayload_asU8(), user.certificatePem, env.getSignature_asU8());
        if (!ok) {
          cb(
            Object.assign(new Error('bad signature'), {
              code: grpc.status.INVALID_ARGUMENT,
              details: 'bad signature',
              metadata: new grpc.Metadata(),
            }),
          );
          return;
        }
        const payload = common.Payload.deserializeBinary(env.getPayload_asU8());
        const txId = common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8()).getTxId();
        const args = peer.ChaincodeInvocationSpec.deserializeBinary(
          peer.ChaincodeProposalPayload.deserializeBinary(
            peer.ChaincodeActionPayload.deserializeBinary(
              peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0]!.getPayload_asU8(),
            ).getChaincodeProposalPayload_asU8(),
          ).getInput_asU8(),
        )
          .getChaincodeSpec()!
          .getInput()!
          .getArgsList_asU8();
        if (Buffer.from(args[2] ?? []).toString() === 'conflict') conflicted = txId;
        submitted.push({ txId, envelope: env.serializeBinary() });
        cb(null, new gateway.SubmitResponse());
      },
      commitStatus(call: Call<gateway.SignedCommitStatusRequest>, cb: Callback<gateway.CommitStatusResponse>) {
        const req = gateway.CommitStatusRequest.deserializeBinary(call.request.getRequest_asU8());
        const res = new gateway.CommitStatusResponse();
        res.setResult(
          req.getTransactionId() === conflicted
            ? peer.TxValidationCode.MVCC_READ_CONFLICT
            : peer.TxValidationCode.VALID,
        );
        res.setBlockNumber(COMMIT_BLOCK);
        cb(null, res);
      },
      chaincodeEvents(
        call: grpc.ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>,
      ) {
        const req = gateway.ChaincodeEventsRequest.deserializeBinary(call.request.getRequest_asU8());
        const start = req.getStartPosition()?.getSpecified()?.getNumber() ?? -1;
        eventRequests.push({ start, afterTxId: req.getAfterTransactionId() });
        const event = (txId: string) => {
          const e = new peer.ChaincodeEvent();
          e.setChaincodeId('c2m');
          e.setTxId(txId);
          e.setEventName('DeviceRegistered');
          e.setPayload(Buffer.from(txId));
          return e;
        };
        const send = (blockNumber: number, ids: string[]) => {
          const res = new gateway.ChaincodeEventsResponse();
          res.setBlockNumber(blockNumber);
          res.setEventsList(ids.map(event));
          call.write(res);
        };
        if (eventRequests.length === 1) {
          // First stream: one block, then the connection breaks.
          send(start, ['tx-b']);
          setTimeout(() => call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'peer restarting' }), 20);
        } else {
          send(start + 1, ['tx-c']);
        }
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        '127.0.0.1:0',
        grpc.ServerCredentials.createSsl(
          null,
          [{ private_key: Buffer.from(tls.keyPem), cert_chain: Buffer.from(tls.certPem) }],
          false,
        ),
        (err, p) => (err ? reject(err) : resolve(p)),
      ),
    );
    const peerSettings = (mspId: string) => [
      { mspId, endpoint: `127.0.0.1:${port}`, hostAlias: 'localhost', tlsRootCertPem: tls.certPem },
    ];
    settings = {
      channel: 'c2m',
      chaincode: 'c2m',
      observerMspId: Orgs.platform,
      peers: { [Orgs.platform]: peerSettings(Orgs.platform), [Orgs.factory1]: peerSettings(Orgs.factory1) },
      identities: {},
      users: {},
      cas: {},
      deadlines: { ...DEFAULT_DEADLINES, eventsReconnectMs: 50 },
    };
  });
  after(() => server?.forceShutdown());

  it('submits with a signed envelope and returns the result, block, index and the proposal time', async () => {
    const ledger = await openFabricLedger(settings, { observer });
    try {
      assert.equal(await ledger.height(), COMMIT_BLOCK + 1);
      const before = Date.now();
      const tx = await ledger.submit(user, 'Devices:RegisterDevice', { arguments: ['dev-1'] });
      assert.deepEqual(JSON.parse(Buffer.from(tx.result).toString()), { ok: 'dev-1' });
      assert.equal(tx.blockNumber, COMMIT_BLOCK);
      assert.equal(
        tx.txIndex,
        submitted.findIndex((s) => s.txId === tx.txId),
      );
      assert.ok(Math.abs(Date.parse(tx.timestamp) - before) < 5_000);

      const block = await ledger.block(COMMIT_BLOCK);
      const summary = block.transactions.find((t) => t.txId === tx.txId);
      assert.deepEqual(
        { fn: summary?.function, creator: summary?.creatorMspId, code: summary?.validationCode },
        { fn: 'Devices:RegisterDevice', creator: Orgs.factory1, code: 'VALID' },
      );
      const info = await ledger.transaction(tx.txId);
      assert.equal(info?.blockHash, block.hash);
      assert.equal(await ledger.transaction('f'.repeat(64)), undefined);
    } finally {
      await ledger.close();
    }
  });

  it('hands whole messages to an identity that signs them itself (hash.none), and never its digest signer', async () => {
    const ledger = await openFabricLedger(settings, { observer });
    let messages = 0;
    const wholeMessageSigner: LedgerIdentity = {
      mspId: user.mspId,
      certificatePem: user.certificatePem,
      sign: async () => assert.fail('the digest signer must not be used when signMessage is there'),
      signMessage: async (message) => {
        messages++;
        return user.sign(createHash('sha256').update(message).digest());
      },
    };
    try {
      const tx = await ledger.submit(wholeMessageSigner, 'Devices:RegisterDevice', { arguments: ['dev-2'] });
      assert.deepEqual(JSON.parse(Buffer.from(tx.result).toString()), { ok: 'dev-2' });
      // The proposal and the envelope; the stand-in verified the envelope's signature against the certificate.
      assert.ok(messages >= 2, `signMessage called ${messages} times`);
    } finally {
      await ledger.close();
    }
  });

  it('maps a refused endorsement, a failed query and an invalidated commit to the platform errors', async () => {
    const ledger = await openFabricLedger(settings, { observer });
    try {
      await assert.rejects(ledger.submit(user, 'Devices:CertifyDevice', { arguments: ['dev-1'] }), (err) => {
        assert.ok(err instanceof EndorseError);
        assert.equal(err.code, ErrorCodes.ACCESS_DENIED);
        assert.match(err.txId, /^[0-9a-f]{64}$/);
        assert.equal(err.details[0]?.mspId, Orgs.platform);
        return true;
      });
      await assert.rejects(ledger.evaluate(user, 'Devices:DeviceHistory', { arguments: ['nope'] }), {
        name: 'EndorseError',
        code: ErrorCodes.DEVICE_NOT_FOUND,
      });
      assert.deepEqual(
        JSON.parse(Buffer.from(await ledger.evaluate(user, 'Devices:ReadDevice', { arguments: ['d-9'] })).toString()),
        { deviceId: 'd-9' },
      );
      await assert.rejects(
        ledger.submit(user, 'Devices:SuspendDevice', { arguments: ['dev-1', 'conflict'] }),
        (err) => {
          assert.ok(err instanceof CommitError);
          assert.equal(err.validationCode, 'MVCC_READ_CONFLICT');
          assert.equal(err.code, ErrorCodes.MVCC_READ_CONFLICT);
          assert.equal(err.blockNumber, COMMIT_BLOCK);
          return true;
        },
      );
    } finally {
      await ledger.close();
    }
  });

  it('listens from a checkpoint and, when the stream breaks, resumes after the last event handled', async () => {
    const ledger = await openFabricLedger(settings, { observer });
    const events: ChaincodeEvent[] = [];
    try {
      let done: () => void = () => {};
      const twoEvents = new Promise<void>((r) => {
        done = r;
      });
      const listener = await ledger.listen({ blockNumber: 3, transactionId: 'tx-a' }, (e) => {
        events.push(e);
        if (events.length === 2) done();
      });
      // Bounded, so a missing reconnect fails the assertion below instead of hanging.
      await Promise.race([twoEvents, new Promise((r) => setTimeout(r, 5000))]);
      listener.close();
      assert.deepEqual(
        events.map((e) => [e.blockNumber, e.txId, e.eventName, e.chaincodeName]),
        [
          [3, 'tx-b', 'DeviceRegistered', 'c2m'],
          [4, 'tx-c', 'DeviceRegistered', 'c2m'],
        ],
      );
      assert.deepEqual(eventRequests, [
        { start: 3, afterTxId: 'tx-a' },
        { start: 3, afterTxId: 'tx-b' },
      ]);
    } finally {
      await ledger.close();
    }
  });
});
