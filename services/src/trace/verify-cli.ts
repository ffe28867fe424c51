#!/usr/bin/env node
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ProofBundle } from './proof-bundle.js';
import { verifyProofBundle } from './verify-bundle.js';

/*
 * Stand-alone proof verifier: no server, no database, no ledger connection.
 *
 *   node services/dist/src/trace/verify-cli.js bundle.json --ca-dir <dir with <MspId>.pem files>
 *
 * With --ca-dir the consortium's CA certificates are pinned (get them once, out
 * of band, from each org); without it the bundle's own are used, and the output
 * says so. Exit code 0 when the bundle verifies, 1 when it does not.
 */
const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'ca-dir': { type: 'string' } } });
const file = positionals[0];
if (!file) {
  console.error('usage: verify-cli <bundle.json> [--ca-dir <dir of <MspId>.pem>]');
  process.exit(2);
}
const bundle = JSON.parse(await readFile(file, 'utf8')) as ProofBundle;
let trusted: Record<string, string> | undefined;
if (values['ca-dir']) {
  trusted = {};
  for (const f of await readdir(values['ca-dir'])) {
    if (f.endsWith('.pem')) trusted[path.basename(f, '.pem')] = await readFile(path.join(values['ca-dir'], f), 'utf8');
  }
}
const result = await verifyProofBundle(bundle, { trustedCaCertificates: trusted });
for (const c of result.checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
console.log(
  result.valid ? `VERIFIED: ${bundle.events.length} events of work order ${bundle.workOrder.id}` : 'NOT VERIFIED',
);
process.exit(result.valid ? 0 : 1);
