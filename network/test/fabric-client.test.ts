/**
 * The Fabric Gateway client's parts that need no network: settings files,
 * the mapping of the gateway's own error classes to the platform's typed
 * errors, block decoding, and the endorsement policy shared with the
 * embedded engine and the deployment scripts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, Orgs } from '@c2m/shared';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import {
  CommitError as GatewayCommitError,
  CommitStatusError as GatewayCommitStatusError,
  EndorseError as GatewayEndorseError,
  GatewayError,
} from '@hyperledger/fabric-gateway';
import { SubmitError as GatewaySubmitError } from '@hyperledger/fabric-gateway/dist/submiterror.js';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import {
  blockHeaderHash,
  C2M_COLLECTIONS,
  C2M_ENDORSEMENT_POLICY,
  CommitError,
  EndorseError,
  FabricSettingsError,
  fabricConnectionPath,
  loadFabricSettings,
  parsePolicy,
  SubmitError,
  summarizeBlock,
  toLedgerError,
  validateFabricSettings,
} from '../src/index.js';
import { defaultPolicy } from '../src/policy.js';

const require = createRequire(import.meta.url);
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb.js') as {
  Timestamp: new () => { setSeconds(v: number): void; setNanos(v: number): void };
};
const TX = 'ab'.repeat(32);
const FABRIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fabric');

function serviceError(code: number, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

describe('gateway errors map to the platform error classes', () => {
  it('an endorsement refused by the chaincode keeps the txId, its code and each peer answer', () => {
    const err = new GatewayEndorseError({
      code: status.ABORTED,
      details: [
        {
          address: 'peer0.factory1:9051',
          mspId: Orgs.factory1,
          message: 'chaincode response 500, ACCESS_DENIED: BrandOrg may not RegisterDevice',
        },
      ],
      cause: serviceError(status.ABORTED, 'failed to endorse transaction, see attached details for more info'),
      transactionId: TX,
      message: '10 ABORTED: failed to endorse transaction, see attached details for more info',
    });
    const mapped = toLedgerError(err, 'ignored');
    assert.ok(mapped instanceof EndorseError);
    assert.equal(mapped.txId, TX);
    assert.equal(mapped.code, ErrorCodes.ACCESS_DENIED);
    assert.equal(mapped.message, 'BrandOrg may not RegisterDevice');
    assert.deepEqual(mapped.details, [
      {
        mspId: Orgs.factory1,
        status: 500,
        message: 'chaincode response 500, ACCESS_DENIED: BrandOrg may not RegisterDevice',
      },
    ]);
    assert.equal(mapped.cause, err);
  });

  it('an evaluate failure (plain GatewayError) becomes an EndorseError with the proposal txId and chaincode code', () => {
    const err = new GatewayError({
      code: status.UNKNOWN,
      details: [],
      cause: serviceError(
        status.UNKNOWN,
        'evaluate call to endorser returned error: chaincode response 500, DEVICE_NOT_FOUND: no device d-1',
      ),
      message:
        '2 UNKNOWN: evaluate call to endorser returned error: chaincode response 500, DEVICE_NOT_FOUND: no device d-1',
    });
    const mapped = toLedgerError(err, TX);
    assert.ok(mapped instanceof EndorseError);
    assert.equal(mapped.txId, TX);
    assert.equal(mapped.code, ErrorCodes.DEVICE_NOT_FOUND);
  });

  it('a failure without a chaincode code falls back to the stage code and names the peers', () => {
    const err = new GatewayEndorseError({
      code: status.UNAVAILABLE,
      details: [{ address: 'peer0.platform:7051', mspId: Orgs.platform, message: 'connection refused' }],
      cause: serviceError(status.UNAVAILABLE, 'no endorsers'),
      transactionId: TX,
      message: '14 UNAVAILABLE: no endorsers',
    });
    const mapped = toLedgerError(err, TX);
    assert.ok(mapped instanceof EndorseError);
    assert.equal(mapped.code, ErrorCodes.ENDORSEMENT_FAILED);
    assert.match(mapped.message, /PlatformOrg: connection refused/);
  });

  it('orderer refusals and commit-status timeouts are SubmitErrors: the outcome is unknown, the txId kept', () => {
    const submit = new GatewaySubmitError({
      code: status.UNAVAILABLE,
      details: [],
      cause: serviceError(status.UNAVAILABLE, 'orderer unreachable'),
      transactionId: TX,
      message: '14 UNAVAILABLE: orderer unreachable',
    });
    const a = toLedgerError(submit, 'x');
    assert.ok(a instanceof SubmitError);
    assert.equal(a.code, ErrorCodes.LEDGER_UNAVAILABLE);
    assert.equal(a.txId, TX);

    const statusErr = new GatewayCommitStatusError({
      code: status.DEADLINE_EXCEEDED,
      details: [],
      cause: serviceError(status.DEADLINE_EXCEEDED, 'deadline exceeded'),
      transactionId: TX,
      message: '4 DEADLINE_EXCEEDED: deadline exceeded',
    });
    const b = toLedgerError(statusErr, 'x');
    assert.ok(b instanceof SubmitError);
    assert.equal(b.txId, TX);
    assert.match(b.message, /commit status/);
  });

  it('an invalidated transaction is a CommitError with Fabric validation code name and our code', () => {
    const mvcc = toLedgerError(
      new GatewayCommitError({ code: peer.TxValidationCode.MVCC_READ_CONFLICT, transactionId: TX, message: 'x' }),
      TX,
      42,
    );
    assert.ok(mvcc instanceof CommitError);
    assert.equal(mvcc.validationCode, 'MVCC_READ_CONFLICT');
    assert.equal(mvcc.code, ErrorCodes.MVCC_READ_CONFLICT);
    assert.equal(mvcc.blockNumber, 42);
    const policy = toLedgerError(
      new GatewayCommitError({ code: peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE, transactionId: TX }),
      TX,
    );
    assert.ok(policy instanceof CommitError);
    assert.equal(policy.code, ErrorCodes.ENDORSEMENT_POLICY_FAILURE);
    const other = toLedgerError(
      new GatewayCommitError({ code: peer.TxValidationCode.BAD_RWSET, transactionId: TX }),
      TX,
    );
    assert.ok(other instanceof CommitError);
    assert.equal(other.validationCode, 'BAD_RWSET');
    assert.equal(other.code, ErrorCodes.COMMIT_FAILED);
  });

  it('leaves errors that are not the gateway’s alone', () => {
    const err = new TypeError('bug');
    assert.equal(toLedgerError(err, TX), err);
  });
});

describe('Fabric connection settings', () => {
  let dir: string;
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const valid = () => ({
    channel: 'c2m',
    chaincode: 'c2m',
    observerMspId: Orgs.platform,
    organizations: {
      [Orgs.platform]: {
        peers: [
          { endpoint: '127.0.0.1:7051', hostAlias: 'peer0.platform.c2m.local', tlsRootCertPath: 'tls/platform.pem' },
        ],
        identity: { certPath: 'users/admin/cert.pem', keyPath: 'users/admin/key.pem' },
      },
      [Orgs.brand]: { peers: [{ endpoint: '127.0.0.1:8051', tlsRootCertPath: '/abs/brand.pem' }] },
    },
    users: { 'brand-manager': { mspId: Orgs.brand, certPath: 'u/cert.pem', keyPath: 'u/key.pem' } },
    deadlines: { commitStatusMs: 120_000 },
  });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'c2m-fabric-settings-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('accepts a complete file', () => {
    assert.doesNotThrow(() => validateFabricSettings(valid()));
  });

  it('lists every problem: bad endpoint, unknown fields, no peers, an observer without identity, users of unknown orgs', () => {
    const bad = valid() as Record<string, unknown> & ReturnType<typeof valid>;
    bad.organizations[Orgs.platform]!.peers[0]!.endpoint = 'no-port';
    (bad as Record<string, unknown>).extra = 1;
    assert.throws(
      () => validateFabricSettings(bad),
      (err: Error) => {
        assert.ok(err instanceof FabricSettingsError);
        assert.match(err.message, /endpoint/);
        assert.match(err.message, /additional properties/);
        return true;
      },
    );
    const noIdentity = valid();
    delete (noIdentity.organizations[Orgs.platform] as { identity?: unknown }).identity;
    assert.throws(() => validateFabricSettings(noIdentity), /observer org PlatformOrg has no identity/);
    const unknownOrg = { ...valid(), users: { x: { mspId: 'NopeOrg', certPath: 'a', keyPath: 'b' } } };
    assert.throws(() => validateFabricSettings(unknownOrg), /user x: NopeOrg is not one of the organizations/);
    const noPeers = valid();
    noPeers.organizations[Orgs.brand]!.peers = [];
    assert.throws(() => validateFabricSettings(noPeers), FabricSettingsError);
  });

  it('resolves paths against the file’s folder, reads TLS roots, and fills deadline defaults', async () => {
    const s = valid();
    const brandPem = join(dir, 'brand.pem');
    s.organizations[Orgs.brand]!.peers[0]!.tlsRootCertPath = brandPem;
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'tls'), { recursive: true }));
    await writeFile(join(dir, 'tls', 'platform.pem'), pem);
    await writeFile(brandPem, pem);
    await writeFile(join(dir, 'connection.json'), JSON.stringify(s));
    const loaded = await loadFabricSettings(join(dir, 'connection.json'));
    assert.equal(loaded.peers[Orgs.platform]![0]!.tlsRootCertPem, pem);
    assert.equal(loaded.peers[Orgs.platform]![0]!.hostAlias, 'peer0.platform.c2m.local');
    assert.equal(loaded.identities[Orgs.platform]!.certPath, join(dir, 'users/admin/cert.pem'));
    assert.equal(loaded.users['brand-manager']!.keyPath, join(dir, 'u/key.pem'));
    assert.equal(loaded.deadlines.commitStatusMs, 120_000);
    assert.equal(loaded.deadlines.endorseMs, 15_000);
  });

  it('names the missing TLS root and refuses non-JSON', async () => {
    const onlyPlatform = { ...valid(), organizations: { [Orgs.platform]: valid().organizations[Orgs.platform] } };
    delete (onlyPlatform as { users?: unknown }).users;
    await writeFile(join(dir, 'missing.json'), JSON.stringify(onlyPlatform));
    await rm(join(dir, 'tls'), { recursive: true, force: true });
    await assert.rejects(
      loadFabricSettings(join(dir, 'missing.json')),
      /TLS root certificate of PlatformOrg peer 127.0.0.1:7051: ENOENT/,
    );
    await writeFile(join(dir, 'broken.json'), '{');
    await assert.rejects(loadFabricSettings(join(dir, 'broken.json')), /not JSON/);
  });

  it('resolves a relative FABRIC_CONNECTION from the folder npm was started in, else the current one', () => {
    // npm -w runs the tests in network/, but the user typed the path from the repository root.
    assert.equal(fabricConnectionPath('network/x.json', { INIT_CWD: '/repo' }), '/repo/network/x.json');
    assert.equal(fabricConnectionPath('/abs/x.json', { INIT_CWD: '/repo' }), '/abs/x.json');
    assert.equal(fabricConnectionPath('x.json', {}), join(process.cwd(), 'x.json'));
    assert.equal(fabricConnectionPath('../../etc/x.json', { INIT_CWD: '/repo/a' }), '/etc/x.json');
  });
});

describe('the gateway’s refusal to choose endorsers for transient data', () => {
  it('becomes an EndorseError with ENDORSEMENT_PLAN_REFUSED, whichever gateway class carries it', () => {
    const text =
      'requires endorsement from organisation(s) that are not in the distribution policy of the private data collection(s): [brandFactoryTerms]; retry specifying trusted endorsing organizations to protect transient data';
    const err = new GatewayEndorseError({
      code: status.FAILED_PRECONDITION,
      details: [],
      cause: serviceError(status.FAILED_PRECONDITION, text),
      transactionId: TX,
      message: `9 FAILED_PRECONDITION: ${text}`,
    });
    const mapped = toLedgerError(err, 'ignored');
    assert.ok(mapped instanceof EndorseError);
    assert.equal(mapped.code, ErrorCodes.ENDORSEMENT_PLAN_REFUSED);
    assert.equal(mapped.txId, TX);
    // Another FAILED_PRECONDITION (e.g. discovery finding no layout) keeps the generic stage code.
    const other = toLedgerError(
      new GatewayEndorseError({
        code: status.FAILED_PRECONDITION,
        details: [],
        cause: serviceError(status.FAILED_PRECONDITION, 'no combination of peers can be derived'),
        transactionId: TX,
        message: '9 FAILED_PRECONDITION: no combination of peers can be derived',
      }),
      'ignored',
    );
    assert.ok(other instanceof EndorseError);
    assert.equal(other.code, ErrorCodes.ENDORSEMENT_FAILED);
  });
});

describe('block decoding from qscc', () => {
  it('hashes a header as Fabric does: SHA-256 of DER { INTEGER number, OCTET STRING prev, OCTET STRING data }', () => {
    const data = Buffer.alloc(32, 0x11);
    const der = Buffer.concat([Buffer.from([0x30, 0x27, 0x02, 0x01, 0x00, 0x04, 0x00, 0x04, 0x20]), data]);
    assert.deepEqual(
      blockHeaderHash({ number: 0n, previousHash: new Uint8Array(), dataHash: data }),
      createHash('sha256').update(der).digest(),
    );
    // 128 needs a leading zero byte to stay positive.
    const der128 = Buffer.concat([
      Buffer.from([0x30, 0x29, 0x02, 0x02, 0x00, 0x80, 0x04, 0x01, 0xaa, 0x04, 0x20]),
      data,
    ]);
    assert.deepEqual(
      blockHeaderHash({ number: 128n, previousHash: Buffer.from([0xaa]), dataHash: data }),
      createHash('sha256').update(der128).digest(),
    );
  });

  it('summarises transactions with id, creator org, function, time and the metadata validation code', () => {
    const envelope = (txId: string, mspId: string, fn: string) => {
      const ch = new common.ChannelHeader();
      ch.setType(common.HeaderType.ENDORSER_TRANSACTION);
      ch.setTxId(txId);
      ch.setChannelId('c2m');
      const ts = new Timestamp();
      ts.setSeconds(1_700_000_000);
      ts.setNanos(250_000_000);
      ch.setTimestamp(ts as never);
      const creator = new msp.SerializedIdentity();
      creator.setMspid(mspId);
      creator.setIdBytes(Buffer.from('cert'));
      const sh = new common.SignatureHeader();
      sh.setCreator(creator.serializeBinary());
      const header = new common.Header();
      header.setChannelHeader(ch.serializeBinary());
      header.setSignatureHeader(sh.serializeBinary());
      const input = new peer.ChaincodeInput();
      input.setArgsList([Buffer.from(fn), Buffer.from('arg')]);
      const spec = new peer.ChaincodeSpec();
      spec.setInput(input);
      const cis = new peer.ChaincodeInvocationSpec();
      cis.setChaincodeSpec(spec);
      const cpp = new peer.ChaincodeProposalPayload();
      cpp.setInput(cis.serializeBinary());
      const cap = new peer.ChaincodeActionPayload();
      cap.setChaincodeProposalPayload(cpp.serializeBinary());
      const action = new peer.TransactionAction();
      action.setPayload(cap.serializeBinary());
      const tx = new peer.Transaction();
      tx.setActionsList([action]);
      const payload = new common.Payload();
      payload.setHeader(header);
      payload.setData(tx.serializeBinary());
      const env = new common.Envelope();
      env.setPayload(payload.serializeBinary());
      return env.serializeBinary();
    };
    const blockHeader = new common.BlockHeader();
    blockHeader.setNumber(7);
    blockHeader.setPreviousHash(Buffer.alloc(32, 1));
    blockHeader.setDataHash(Buffer.alloc(32, 2));
    const data = new common.BlockData();
    data.setDataList([
      envelope('t1', Orgs.factory1, 'Devices:RegisterDevice'),
      envelope('t2', Orgs.brand, 'WorkOrders:CommitWorkOrder'),
    ]);
    const metadata = new common.BlockMetadata();
    const filter = Uint8Array.from([peer.TxValidationCode.VALID, peer.TxValidationCode.MVCC_READ_CONFLICT]);
    metadata.setMetadataList([new Uint8Array(), new Uint8Array(), filter, new Uint8Array(), new Uint8Array()]);
    const block = new common.Block();
    block.setHeader(blockHeader);
    block.setData(data);
    block.setMetadata(metadata);

    const summary = summarizeBlock(common.Block.deserializeBinary(block.serializeBinary()));
    assert.equal(summary.number, 7);
    assert.equal(summary.previousHash, '01'.repeat(32));
    assert.equal(summary.dataHash, '02'.repeat(32));
    assert.equal(
      summary.hash,
      blockHeaderHash({ number: 7n, previousHash: Buffer.alloc(32, 1), dataHash: Buffer.alloc(32, 2) }).toString('hex'),
    );
    assert.deepEqual(summary.transactions, [
      {
        txId: 't1',
        creatorMspId: Orgs.factory1,
        function: 'Devices:RegisterDevice',
        timestamp: '2023-11-14T22:13:20.250Z',
        validationCode: 'VALID',
      },
      {
        txId: 't2',
        creatorMspId: Orgs.brand,
        function: 'WorkOrders:CommitWorkOrder',
        timestamp: '2023-11-14T22:13:20.250Z',
        validationCode: 'MVCC_READ_CONFLICT',
      },
    ]);
  });
});

describe('one endorsement policy and collection config for both ledgers', () => {
  it('the embedded default equals the policy the Fabric scripts commit', async () => {
    const embeddedDefault = defaultPolicy(Orgs.platform, [
      Orgs.platform,
      Orgs.brand,
      Orgs.factory1,
      Orgs.factory2,
      Orgs.finance,
    ]);
    assert.equal(C2M_ENDORSEMENT_POLICY, embeddedDefault);
    assert.equal(
      C2M_ENDORSEMENT_POLICY,
      "AND('PlatformOrg.peer', OutOf(1, 'BrandOrg.peer', 'Factory1Org.peer', 'Factory2Org.peer', 'FinanceOrg.peer'))",
    );
    assert.doesNotThrow(() => parsePolicy(C2M_ENDORSEMENT_POLICY));
    const file = (await readFile(join(FABRIC_DIR, 'endorsement-policy.txt'), 'utf8')).trim();
    assert.equal(file, C2M_ENDORSEMENT_POLICY);
  });

  it('collections_config.json gives brandFactoryTerms the embedded default members', async () => {
    const config = JSON.parse(await readFile(join(FABRIC_DIR, 'collections_config.json'), 'utf8')) as {
      name: string;
      policy: string;
    }[];
    const terms = config.find((c) => c.name === 'brandFactoryTerms');
    assert.ok(terms);
    const members = [...terms.policy.matchAll(/'([A-Za-z0-9]+)\.member'/g)].map((m) => m[1]);
    assert.deepEqual(members, [...C2M_COLLECTIONS.brandFactoryTerms.members]);
  });
});
