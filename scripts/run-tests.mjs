// Runs every package's compiled tests with node:test, one package after another
// so that a failure names its package; exits non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Every temporary folder a test makes (data dirs, device keys, private brokers) goes under one folder of this
// run, removed at the end whatever the tests left behind.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'c2m-tests-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const packages = ['shared', 'identity', 'chaincode', 'network', 'services', 'portals'];
const failed = [];
for (const pkg of packages) {
  const dir = pkg === 'portals' ? 'portals/test' : `${pkg}/dist/test`;
  if (!existsSync(dir)) continue;
  console.log(`\n== ${pkg} ==`);
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', dir], {
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'test', TMPDIR: tmp },
  });
  if (r.status !== 0) failed.push(pkg);
}
if (failed.length > 0) {
  console.error(`\ntests failed in: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('\nall packages passed');
