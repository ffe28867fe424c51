#!/usr/bin/env node
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ProofBundleV2 } from '@c2m/shared';
import { verifyProofBundle } from './verify-bundle.js';

/*
 * Stand-alone proof verifier: no server, no database, no ledger connection.
 *
 *   node services/dist/src/trace/verify-cli.js bundle.json --ca-dir <dir> [--policy "<Fabric policy>"]
 *
 * The trust is pinned by the verifier, obtained once, out of band, from the consortium: --ca-dir holds one
 * <MspId>.pem per org and, optionally, endorsement-policy.txt (the channel's policy; --policy overrides it;
 * without either, the consortium default over the pinned orgs). Every anchor, the work order and each device
 * history is proven from the committed transactions, block headers and orderer signatures in the bundle.
 * Exit code 0 only when everything verifies (VERIFIED); 1 when anything failed or was not checked; 2 on usage.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'ca-dir': { type: 'string' }, policy: { type: 'string' } },
});
const file = positionals[0];
if (!file) {
  console.error(
    'usage: verify-cli <bundle.json> --ca-dir <dir of <MspId>.pem [+ endorsement-policy.txt]> [--policy <text>]',
  );
  process.exit(2);
}
let bundle: ProofBundleV2;
try {
  bundle = JSON.parse(await readFile(file, 'utf8')) as ProofBundleV2;
} catch (err) {
  console.error(`cannot read ${file}: ${(err as Error).message}`);
  process.exit(2);
}
let trusted: Record<string, string> | undefined;
let policy = values.policy;
if (values['ca-dir']) {
  trusted = {};
  for (const f of (await readdir(values['ca-dir'])).sort()) {
    const full = path.join(values['ca-dir'], f);
    if (f.endsWith('.pem')) trusted[path.basename(f, '.pem')] = await readFile(full, 'utf8');
    if (f === 'endorsement-policy.txt') policy ??= (await readFile(full, 'utf8')).trim();
  }
}
const result = await verifyProofBundle(bundle, {
  ...(trusted ? { trustedCaCertificates: trusted } : {}),
  ...(policy ? { endorsementPolicy: policy } : {}),
});
for (const c of result.checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
const anchors = Object.keys(bundle.anchors ?? {}).length;
console.log(
  result.valid
    ? bundle.workOrder
      ? `VERIFIED: work order ${bundle.workOrder.id}: ${anchors} anchors proven offline, ${bundle.events.length} full events, ${bundle.epcisEvents?.length ?? 0} EPCIS events, ${result.totals.units} units in committed totals`
      : `VERIFIED: ${bundle.epcisEvents?.length ?? 0} EPCIS events, ${anchors} anchors proven offline, ${bundle.events.length} source device messages`
    : `NOT VERIFIED: ${result.checks
        .filter((c) => !c.ok)
        .map((c) => c.name)
        .join('; ')}`,
);
process.exit(result.valid ? 0 : 1);
