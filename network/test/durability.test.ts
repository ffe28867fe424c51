import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { contracts } from '@c2m/chaincode';
import { Orgs } from '@c2m/shared';
import { devicesContract, openEmbeddedLedger } from '../src/index.js';
import { certification, TEST_DEVICE_PUBLIC_KEY } from './helpers/devices.js';
import { startNetwork, type TestNetwork } from './helpers/network.js';

const device = (deviceId: string) => ({
  deviceId,
  model: 'm',
  serial: 's',
  line: 'l',
  certificateFingerprint: '0a'.repeat(32),
  publicKeyPem: TEST_DEVICE_PUBLIC_KEY,
});

/** Splits the block file into records: [u32 len][32-byte sha256][body]. */
function records(file: Buffer): { offset: number; body: Buffer }[] {
  const out: { offset: number; body: Buffer }[] = [];
  for (let o = 0; o < file.length; ) {
    const len = file.readUInt32BE(o);
    out.push({ offset: o, body: file.subarray(o + 36, o + 36 + len) });
    o += 36 + len;
  }
  return out;
}

function reseal(body: Buffer): Buffer {
  const h = Buffer.alloc(36);
  h.writeUInt32BE(body.length, 0);
  createHash('sha256').update(body).digest().copy(h, 4);
  return Buffer.concat([h, body]);
}

describe('durability', () => {
  let net: TestNetwork;
  before(async () => {
    net = await startNetwork();
    const f1 = devicesContract(net.ledger, net.factory1);
    await f1.registerDevice(device('dev-a'));
    await f1.registerDevice(device('dev-b'));
    await devicesContract(net.ledger, net.certifier).certifyDevice(
      'dev-a',
      certification('dev-a', new Date(Date.now() + 1e8)),
    );
  });
  after(async () => net.cleanup());

  it('keeps state, history and blocks across a restart', async () => {
    const height = await net.ledger.height();
    const last = await net.ledger.block(height - 1);
    const before = await devicesContract(net.ledger, net.factory1).history('dev-a');
    const ledger = await net.reopen();
    assert.equal(await ledger.height(), height);
    assert.deepEqual(await ledger.block(height - 1), last);
    assert.deepEqual(await devicesContract(ledger, net.factory1).history('dev-a'), before);
    // and keeps working
    const r = await devicesContract(ledger, net.factory1).registerDevice(device('dev-c'));
    assert.equal(r.blockNumber, height);
    assert.equal((await ledger.block(height)).previousHash, last.hash);
  });

  it('refuses a block file whose record was altered', async () => {
    await net.ledger.close();
    const path = join(net.dir, 'blocks.bin');
    const original = await readFile(path);
    try {
      const recs = records(original);
      // Flip a byte inside block 2 without resealing: the record checksum catches it.
      const flipped = Buffer.from(original);
      flipped[recs[2]!.offset + 60]! ^= 1;
      await writeFile(path, flipped);
      await assert.rejects(openEmbeddedLedger(net.options()), { name: 'RecordFileCorruptError' });

      // Rewrite a validation code and reseal the record: the re-validation on open catches it.
      const parts = recs.map((r, i) => {
        if (i !== 2) return reseal(r.body);
        const block = JSON.parse(r.body.toString());
        block.metadata.validationCodes[0] = 'MVCC_READ_CONFLICT';
        return reseal(Buffer.from(JSON.stringify(block)));
      });
      await writeFile(path, Buffer.concat(parts));
      await assert.rejects(openEmbeddedLedger(net.options()), { name: 'LedgerCorruptError' });

      // Change a transaction's bytes and fix up the data hash: the next block no longer links.
      const forged = recs.map((r, i) => {
        if (i !== 2) return reseal(r.body);
        const block = JSON.parse(r.body.toString());
        block.header.dataHash = 'ff'.repeat(32);
        return reseal(Buffer.from(JSON.stringify(block)));
      });
      await writeFile(path, Buffer.concat(forged));
      await assert.rejects(openEmbeddedLedger(net.options()), { name: 'LedgerCorruptError' });
    } finally {
      await writeFile(path, original);
      await net.reopen();
    }
  });

  it('refuses to reopen with a different channel configuration', async () => {
    await net.ledger.close();
    await assert.rejects(
      openEmbeddedLedger(net.options({ endorsementPolicy: "OR('PlatformOrg.peer')" })),
      /genesis block/,
    );
    await net.reopen();
  });

  it('survives SIGKILL: the chain verifies and every acknowledged transaction is there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'c2m-crash-'));
    try {
      const child = spawn(
        process.execPath,
        [fileURLToPath(new URL('./helpers/crash-child.js', import.meta.url)), dir],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, CORE_CHAINCODE_LOGGING_LEVEL: 'CRITICAL' },
        },
      );
      const acked: string[] = [];
      let buffered = '';
      await new Promise<void>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code) =>
          acked.length >= 150 ? undefined : reject(new Error(`child exited early (${code})`)),
        );
        child.stdout!.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const l of lines) if (l.startsWith('ACK ')) acked.push(l.split(' ')[1]!);
          if (acked.length >= 150 && !child.killed) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await new Promise((r) => child.once('exit', r).once('close', r));
      const material = JSON.parse(await readFile(join(dir, 'material.json'), 'utf8')) as {
        caCertificates: Record<string, string>;
        peers: Record<string, string>;
      };
      const peers = Object.fromEntries(
        Object.entries(material.peers).map(([m, pem]) => [
          m,
          {
            mspId: m,
            certificatePem: pem,
            sign: async () => {
              throw new Error('read-only');
            },
          },
        ]),
      );
      const ledger = await openEmbeddedLedger({
        dataDir: dir,
        contracts,
        peers,
        caCertificates: material.caCertificates,
      });
      try {
        for (const txId of acked) {
          const info = await ledger.transaction(txId);
          assert.equal(info?.validationCode, 'VALID', `acknowledged ${txId} is committed`);
        }
        assert.ok((await ledger.height()) > 2);
        assert.equal((await ledger.block(1)).transactions[0]!.creatorMspId, Orgs.platform);
      } finally {
        await ledger.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
