// Fails when the compiled packages have an import cycle (STYLE.md: no import cycles).

import { existsSync } from 'node:fs';
import madge from 'madge';

const roots = ['shared/dist/src', 'identity/dist/src', 'chaincode/dist/src', 'network/dist/src', 'services/dist/src'];
const present = roots.filter((r) => existsSync(r));
const res = await madge(present, { fileExtensions: ['js'] });
const cycles = res.circular();
if (cycles.length > 0) {
  console.error('Import cycles found:');
  for (const c of cycles) console.error(`  ${c.join(' -> ')}`);
  process.exit(1);
}
console.log(`no import cycles in ${Object.keys(res.obj()).length} modules`);
