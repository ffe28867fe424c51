// Runs every package's compiled tests with node:test, one package after another
// so that a failure names its package; exits non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const packages = ['shared', 'identity', 'chaincode', 'network', 'services', 'portals'];
const failed = [];
for (const pkg of packages) {
  const dir = pkg === 'portals' ? 'portals/test' : `${pkg}/dist/test`;
  if (!existsSync(dir)) continue;
  console.log(`\n== ${pkg} ==`);
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', dir], {
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'test' },
  });
  if (r.status !== 0) failed.push(pkg);
}
if (failed.length > 0) {
  console.error(`\ntests failed in: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('\nall packages passed');
