import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { epcisEventHash, documentEvents } from '../../../../../dist/src/index.js';
const CASES = process.env.CASES ?? 'cases';
const out = {};
for (const f of readdirSync(CASES)) {
  const { context, events } = documentEvents(JSON.parse(readFileSync(`${CASES}/${f}`, 'utf8')));
  out[f] = epcisEventHash(events[0], context);
}
writeFileSync('mine.json', JSON.stringify(out));
const r = JSON.parse(readFileSync('ref.json', 'utf8'));
let ok = 0; const bad = []; let err = 0;
for (const k of Object.keys(out)) { const [h] = r[k] ?? [null]; if (h === null || String(h).startsWith('ERR')) { err++; continue; } if (h === out[k]) ok++; else bad.push(k); }
console.log({ ok, bad: bad.length, refErrorsOrDropped: err }); console.log(bad.slice(0, 12).join(' '));
