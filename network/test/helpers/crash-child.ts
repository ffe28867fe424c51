/**
 * Child process for the crash test: opens a ledger, writes its MSP material
 * so the parent can reopen it, then registers devices as fast as it can and
 * prints each acknowledged transaction id until it is killed.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contracts } from '@c2m/chaincode';
import { Orgs, Roles } from '@c2m/shared';
import { devicesContract, openEmbeddedLedger, orgsContract } from '../../src/index.js';
import { createTestConsortium } from './pki.js';

const dir = process.argv[2]!;
const mspIds = [Orgs.platform, Orgs.brand, Orgs.factory1];
const orgs = await createTestConsortium(mspIds);
const caCertificates = Object.fromEntries(mspIds.map((m) => [m, orgs[m]!.caPem]));
const peers = Object.fromEntries(mspIds.map((m) => [m, orgs[m]!.peer]));
await writeFile(
  join(dir, 'material.json'),
  JSON.stringify({ caCertificates, peers: Object.fromEntries(mspIds.map((m) => [m, orgs[m]!.peer.certificatePem])) }),
);
const ledger = await openEmbeddedLedger({
  dataDir: dir,
  contracts,
  peers,
  caCertificates,
  blockSize: 10,
  blockTimeoutMs: 2,
});
const admin = await orgs[Orgs.platform]!.user('admin', Roles.admin);
await orgsContract(ledger, admin).registerOrg({ mspId: Orgs.factory1, kind: 'factory', name: 'F1' });
const factory = devicesContract(ledger, await orgs[Orgs.factory1]!.user('f1', Roles.factoryManager));
let n = 0;
const worker = async () => {
  for (;;) {
    const id = `dev-${n++}`;
    const r = await factory.registerDevice({
      deviceId: id,
      model: 'm',
      serial: id,
      line: 'l',
      certificateFingerprint: '01'.repeat(32),
      publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
    });
    process.stdout.write(`ACK ${r.txId} ${id}\n`);
  }
};
await Promise.all(Array.from({ length: 8 }, worker));
