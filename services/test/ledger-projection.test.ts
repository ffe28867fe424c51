import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { contracts } from '@c2m/chaincode';
import { openIdentityStore } from '@c2m/identity';
import { anchorsContract, devicesContract, openEmbeddedLedger, orgsContract, workOrdersContract } from '@c2m/network';
import { type Ledger, type LedgerIdentity, Orgs } from '@c2m/shared';
import type pg from 'pg';
import pino from 'pino';
import { createPool, dropDatabase, ensureDatabase, migrate } from '../src/db/database.js';
import { createLedgerProjection, type LedgerProjection } from '../src/ledger/projection.js';

const BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting for the projection');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const publicKeyPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('ledger read-model projection', () => {
  let dir: string;
  let databaseUrl: string;
  let pool: pg.Pool;
  let ledger: Ledger;
  let factory: LedgerIdentity;
  let brand: LedgerIdentity;
  let admin: LedgerIdentity;
  let projection: LedgerProjection;
  const logger = pino({ level: 'silent' });

  const rows = async () => ({
    devices: (await pool.query('SELECT * FROM ledger_devices ORDER BY device_id')).rows,
    workOrders: (await pool.query('SELECT * FROM ledger_work_orders ORDER BY work_order_id')).rows,
    anchors: (await pool.query('SELECT * FROM ledger_anchors ORDER BY batch_id')).rows,
    checkpoint: (await pool.query('SELECT projection, block_number, tx_id FROM ledger_checkpoint')).rows,
  });
  const atCheckpoint = (txId: string) => async () => (await projection.status()).checkpoint?.txId === txId;
  const registerDevice = (deviceId: string) =>
    devicesContract(ledger, factory).registerDevice({
      deviceId,
      model: 'KM-1',
      serial: deviceId,
      line: 'line-1',
      certificateFingerprint: randomBytes(32).toString('hex'),
      publicKeyPem: publicKeyPem(),
    });

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'c2m-projection-'));
    const url = new URL(BASE_URL);
    url.pathname = `/c2m_projection_${randomBytes(4).toString('hex')}`;
    databaseUrl = url.toString();
    await ensureDatabase(databaseUrl);
    await migrate(databaseUrl);
    pool = createPool(databaseUrl);
    const identity = await openIdentityStore({ dataDir: path.join(dir, 'identity') });
    ledger = await openEmbeddedLedger({
      dataDir: path.join(dir, 'ledger'),
      contracts,
      peers: Object.fromEntries(identity.orgs().map((o) => [o.mspId, identity.peerIdentity(o.mspId)])),
      caCertificates: identity.caCertificates(),
      blockTimeoutMs: 5,
    });
    admin = identity.userIdentity('platform');
    factory = identity.userIdentity('factory1');
    brand = identity.userIdentity('brand');
    const orgs = orgsContract(ledger, admin);
    for (const o of identity.orgs()) {
      if (o.mspId !== Orgs.platform) await orgs.registerOrg({ mspId: o.mspId, kind: o.kind, name: o.mspId });
    }
    projection = createLedgerProjection({ pool, ledger, logger, retryDelayMs: 50 });
  });

  after(async () => {
    await projection?.close();
    await ledger?.close();
    await pool?.end();
    if (databaseUrl) await dropDatabase(databaseUrl);
    await rm(dir, { recursive: true, force: true });
  });

  it('turns committed device, work-order and anchor events into rows, with the checkpoint in step', async () => {
    await projection.start();
    await registerDevice('dev-p1');
    const wo = workOrdersContract(ledger, brand);
    await wo.commitWorkOrder({ workOrderId: 'wo-p1', orderId: 'o-p1', factoryMspId: Orgs.factory1, terms: { q: 1 } });
    await workOrdersContract(ledger, factory).acceptWorkOrder('wo-p1');
    await workOrdersContract(ledger, factory).recordMilestone('wo-p1', 'PRODUCED', { units: 10 });
    const t = new Date('2026-11-01T08:00:00Z');
    const anchor = await anchorsContract(ledger, admin).anchorBatch({
      batchId: 'batch-p1',
      factoryMspId: Orgs.factory1,
      merkleRootHex: 'cd'.repeat(32),
      eventCount: 12,
      firstEventTime: t,
      lastEventTime: t,
    });
    await waitFor(atCheckpoint(anchor.txId));

    const r = await rows();
    assert.equal(r.devices.length, 1);
    assert.equal(r.devices[0].device_id, 'dev-p1');
    assert.equal(r.devices[0].owner_msp, Orgs.factory1);
    assert.equal(r.devices[0].status, 'REGISTERED');
    assert.equal(r.workOrders.length, 1);
    assert.equal(r.workOrders[0].status, 'PRODUCED');
    assert.equal(r.workOrders[0].brand_msp, Orgs.brand);
    assert.deepEqual(
      r.workOrders[0].milestones.map((m: { milestone: string }) => m.milestone),
      ['PRODUCED'],
    );
    assert.equal(r.workOrders[0].revision, 3);
    assert.equal(r.anchors.length, 1);
    assert.equal(r.anchors[0].merkle_root, 'cd'.repeat(32));
    assert.equal(r.anchors[0].event_count, 12);
    assert.equal(r.anchors[0].tx_id, anchor.txId);
    assert.equal(Number(r.anchors[0].block_number), anchor.blockNumber);
    const status = await projection.status();
    assert.deepEqual(status.checkpoint, { blockNumber: anchor.blockNumber, txId: anchor.txId });
    assert.equal(status.lagBlocks, (await ledger.height()) - 1 - anchor.blockNumber);
  });

  it('resumes from its checkpoint after a restart: new events apply, applied ones are not replayed', async () => {
    await projection.close();
    // Marks a row; replaying the events before the checkpoint would overwrite the mark.
    await pool.query(`UPDATE ledger_devices SET status = 'MARK' WHERE device_id = 'dev-p1'`);
    const missed = await registerDevice('dev-p2');
    projection = createLedgerProjection({ pool, ledger, logger, retryDelayMs: 50 });
    await projection.start();
    await waitFor(atCheckpoint(missed.txId));
    const later = await registerDevice('dev-p3');
    await waitFor(atCheckpoint(later.txId));

    const r = await rows();
    assert.deepEqual(
      r.devices.map((d) => [d.device_id, d.status]),
      [
        ['dev-p1', 'MARK'],
        ['dev-p2', 'REGISTERED'],
        ['dev-p3', 'REGISTERED'],
      ],
    );
    assert.equal(r.checkpoint.length, 1);
  });

  it('rebuilds from block 0 into the rows the ledger implies', async () => {
    await pool.query(`UPDATE ledger_devices SET status = 'REGISTERED' WHERE device_id = 'dev-p1'`);
    const before = await rows();
    await pool.query(`UPDATE ledger_work_orders SET status = 'TAMPERED'`);
    await pool.query('DELETE FROM ledger_anchors');
    await projection.rebuild();
    assert.deepEqual(await rows(), before);
    assert.equal((await projection.status()).running, true);
  });
});
