import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Orgs,
  type PinnedTrust,
  parsePolicy,
  type TransactionProof,
  verifyTransactionProof,
  writtenRecord,
} from '@c2m/shared';
import { anchorsContract, C2M_ENDORSEMENT_POLICY, openEmbeddedLedger } from '../src/index.js';
import { sha256 } from '../src/internal/protos.js';
import { ALL_ORGS, startNetwork, type TestNetwork } from './helpers/network.js';

function records(file: Buffer) {
  const out: { offset: number; body: Buffer }[] = [];
  for (let at = 0; at < file.length; ) {
    const len = file.readUInt32BE(at);
    out.push({ offset: at, body: file.subarray(at + 36, at + 36 + len) });
    at += 36 + len;
  }
  return out;
}
function reseal(body: Buffer): Buffer {
  const h = Buffer.alloc(36);
  h.writeUInt32BE(body.length, 0);
  sha256(body).copy(h, 4);
  return Buffer.concat([h, body]);
}

describe('block signatures and transaction proofs', () => {
  let net: TestNetwork;
  let trust: PinnedTrust;
  before(async () => {
    net = await startNetwork();
    trust = {
      caCertificates: Object.fromEntries(ALL_ORGS.map((m) => [m, net.orgs[m]!.caPem])),
      endorsementPolicy: parsePolicy(C2M_ENDORSEMENT_POLICY),
      channel: 'c2m',
      chaincode: 'c2m',
      ordererMspIds: [Orgs.platform],
    };
  });
  after(async () => net.cleanup());

  const anchor = (batchId: string) =>
    anchorsContract(net.ledger, net.admin).anchorBatch({
      batchId,
      factoryMspId: Orgs.factory1,
      merkleRootHex: 'ab'.repeat(32),
      eventCount: 3,
      firstEventTime: '2026-01-01T00:00:00Z',
      lastEventTime: '2026-01-01T00:01:00Z',
    });

  it('proves an anchor offline from the envelope, the block header and the orderer signature, also after reopening', async () => {
    const a = await anchor('p-1');
    const proof = (await net.ledger.transactionProof!(a.txId)) as TransactionProof;
    assert.equal(proof.blockNumber, a.blockNumber);
    const tx = await verifyTransactionProof(proof, trust);
    assert.equal(tx.fn, 'Anchors:AnchorBatch');
    assert.equal(writtenRecord<{ merkleRootHex: string }>(tx, 'c2m.anchor', 'p-1')?.merkleRootHex, 'ab'.repeat(32));
    assert.equal(tx.blockHash, (await net.ledger.transaction(a.txId))?.blockHash);
    await net.reopen();
    assert.deepEqual(await net.ledger.transactionProof!(a.txId), proof);
    assert.equal(await net.ledger.transactionProof!('00'.repeat(32)), undefined);
  });

  it('refuses proofs that were altered or that chain to CAs other than the pinned ones', async () => {
    const a = await anchor('p-2');
    const proof = (await net.ledger.transactionProof!(a.txId)) as TransactionProof;
    const env = Buffer.from(proof.envelope, 'base64');
    env[env.length - 10]! ^= 1;
    const variants: [string, TransactionProof, RegExp][] = [
      ['envelope byte', { ...proof, envelope: env.toString('base64') }, /not transaction/],
      [
        'validation code',
        { ...proof, block: { ...proof.block, validationCodes: proof.block.validationCodes.map(() => 'VALID') } },
        /.*/,
      ],
      [
        'orderer signature',
        {
          ...proof,
          block: {
            ...proof.block,
            ordererSignature: {
              ...proof.block.ordererSignature,
              certificatePem: net.orgs[Orgs.factory1]!.peer.certificatePem,
            },
          },
        },
        /not an orderer org|does not verify|not issued by the pinned CA/,
      ],
      ['tx index', { ...proof, txIndex: proof.txIndex + 1 }, /not/],
    ];
    for (const [what, p, re] of variants) {
      if (what === 'validation code' && proof.block.validationCodes.every((c) => c === 'VALID')) continue;
      await assert.rejects(verifyTransactionProof(p, trust), re, what);
    }
    const otherCas = {
      ...trust,
      caCertificates: { ...trust.caCertificates, [Orgs.platform]: net.orgs[Orgs.brand]!.caPem },
    };
    await assert.rejects(verifyTransactionProof(proof, otherCas), /not issued by the pinned CA/);
    const laxPolicy = { ...trust, endorsementPolicy: parsePolicy("AND('PlatformOrg.peer', 'FinanceOrg.peer')") };
    await assert.rejects(verifyTransactionProof(proof, laxPolicy), /policy/);
  });

  it('re-verifies every block signature on open and refuses a block stripped of its signature or with a forged one', async () => {
    await anchor('p-3');
    await net.ledger.close();
    const path = join(net.dir, 'blocks.bin');
    const original = await readFile(path);
    try {
      const recs = records(original);
      const last = recs.length - 1;
      const rewrite = async (change: (block: { metadata: Record<string, unknown> }) => void) => {
        const parts = recs.map((r, i) => {
          if (i !== last) return reseal(r.body);
          const block = JSON.parse(r.body.toString());
          change(block);
          return reseal(Buffer.from(JSON.stringify(block)));
        });
        await writeFile(path, Buffer.concat(parts));
      };
      await rewrite((b) => {
        delete b.metadata.ordererSignature;
      });
      await assert.rejects(openEmbeddedLedger(net.options()), /not signed by the orderer/);
      await rewrite((b) => {
        const sig = b.metadata.ordererSignature as { signature: string };
        const bytes = Buffer.from(sig.signature, 'base64');
        bytes[bytes.length - 1]! ^= 1;
        sig.signature = bytes.toString('base64');
      });
      await assert.rejects(openEmbeddedLedger(net.options()), /orderer's signature does not verify/);
    } finally {
      await writeFile(path, original);
      await net.reopen();
    }
  });
});
