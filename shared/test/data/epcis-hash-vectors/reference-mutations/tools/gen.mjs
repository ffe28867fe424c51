import { readFileSync, readdirSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
// Run from the repository root after `npx tsc --build shared`: node shared/test/data/epcis-hash-vectors/reference-mutations/tools/gen.mjs N SEED [OUT]
import { epcisEventHash, documentEvents } from '../../../../../dist/src/index.js';
const D = new URL('../../', import.meta.url).pathname;
const OUT = process.argv[4] ?? 'cases';
const N = Number(process.argv[2] ?? 200);
let seed = Number(process.argv[3] ?? 7);
const r = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (xs) => xs[Math.floor(r() * xs.length)];
const base = [];
for (const f of readdirSync(D).filter((f) => f.endsWith('.jsonld'))) {
  const doc = JSON.parse(readFileSync(`${D}/${f}`, 'utf8'));
  if (f.includes('IgnoreFields')) continue;
  const { context, events } = documentEvents(doc);
  for (const e of events) base.push({ context, e });
}
const CSET = "!%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz\"";
const str = (n) => Array.from({ length: 1 + Math.floor(r() * n) }, () => pick(CSET)).join('');
const digits = (n) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
const cp = () => digits(6 + Math.floor(r() * 7));
const epcEsc = (s) => s.replace(/["%&/<>?]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
function epc() {
  const c = cp();
  const k = Math.floor(r() * 12);
  switch (k) {
    case 0: return `urn:epc:id:sgtin:${c}.${digits(13 - c.length)}.${epcEsc(str(20))}`;
    case 1: return `urn:epc:id:sscc:${c}.${digits(17 - c.length)}`;
    case 2: return `urn:epc:id:sgln:${c}.${digits(12 - c.length)}.${pick(['0', epcEsc(str(20))])}`;
    case 3: return `urn:epc:class:lgtin:${c}.${digits(13 - c.length)}.${epcEsc(str(20))}`;
    case 4: return `urn:epc:idpat:sgtin:${c}.${digits(13 - c.length)}.*`;
    case 5: return `https://${pick(['id.gs1.org', 'example.com', 'id.gs1.de/x'])}/${pick(['01', 'gtin'])}/${digits(pick([8, 12, 13, 14]))}${pick(['', `/21/${encodeURIComponent(str(10))}`, `/10/L${digits(3)}`, `/10/L1/21/S${digits(2)}`, `/22/C1/21/S1`, '/22/C2'])}${pick(['', '?linkType=all', '#frag'])}`;
    case 6: return `https://id.gs1.org/00/${digits(18)}`;
    case 7: return `https://example.org/414/${digits(13)}${pick(['', '/254/' + digits(3)])}`;
    case 8: return `urn:epc:id:grai:${c}.${digits(12 - c.length)}.${digits(3)}`;
    case 9: return `urn:epc:id:giai:${c}.${str(10).replace(/[^A-Za-z0-9]/g, 'x')}`;
    case 10: return pick(['urn:epc:id:sgtin:0614141.107346.', 'urn:epc:id:sgtin:0614141.1073466.1', 'https://id.gs1.org/01/1234/21/x', 'geo:1.5,2.5', 'urn:uuid:1', '1.50', '007']);
    default: return `urn:epc:id:gsrn:${c}.${digits(17 - c.length)}`;
  }
}
function time() {
  const frac = pick(['', '.' + digits(1 + Math.floor(r() * 9))]);
  return `20${digits(2)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}T${String(Math.floor(r() * 24)).padStart(2, '0')}:${digits(1).replace(/[6-9]/, '5')}${digits(1)}:${digits(1).replace(/[6-9]/, '5')}${digits(1)}${frac}${pick(['Z', '+01:00', '-06:00', '+05:30', '+14:00'])}`;
}
function num() {
  return pick([0, -0, 1, 12.5, 12.0, 1e-5, 1.5e-7, 123456789012345680000, 0.1 + 0.2, -3.25, 1e16, 99.99, 2 ** 53 + 2, Math.round(r() * 1e6) / 1e3]);
}
function numStr() { return pick(['007', '+1.50', '1_000', '1e3', '-0', 'nan', '.5', '5.', '0x10', '1__0', ' 12 ', 'Infinity', '1.0e-5', String(num())]); }
function vocab(kind) {
  const bare = { bizStep: ['shipping', 'receiving', 'commissioning', 'other'], disposition: ['active', 'in_transit', 'unknown'] }[kind];
  const b = pick(bare);
  const prefix = { bizStep: ['urn:epcglobal:cbv:bizstep:', 'https://ref.gs1.org/cbv/BizStep-', 'cbv:BizStep-'], disposition: ['urn:epcglobal:cbv:disp:', 'https://ref.gs1.org/cbv/Disp-', 'cbv:Disp-'] }[kind];
  return pick([b, pick(prefix) + b, 'https://ns.example.com/' + b, b + 'x']);
}
function ext(ctx, depth = 0) {
  const pref = ctx.flatMap((c) => (typeof c === 'object' ? Object.keys(c) : []));
  const k = () => `${pick(pref.length ? pref : ['example'])}:${pick(['a', 'b', 'myField', 'time', 'aTime', 'sourceX'])}`;
  const v = () => pick([str(8), num(), numStr(), true, false, null, epc(), time(), depth < 2 ? ext(ctx, depth + 1) : 'x', [str(3), str(3)], 'shipping', 'in_transit', 'po']);
  const o = {}; for (let i = 0; i < 1 + Math.floor(r() * 3); i++) o[k()] = v(); return o;
}
rmSync(OUT, { recursive: true, force: true }); mkdirSync(OUT);
const mine = {};
for (let i = 0; i < N; i++) {
  const { context: ctx0, e: e0 } = pick(base);
  const context = Array.isArray(ctx0) ? ctx0 : [ctx0];
  const e = structuredClone(e0);
  const ops = 1 + Math.floor(r() * 4);
  for (let j = 0; j < ops; j++) {
    switch (Math.floor(r() * 9)) {
      case 0: e.eventTime = time(); break;
      case 1: e.epcList = Array.from({ length: 1 + Math.floor(r() * 4) }, epc); break;
      case 2: e.bizStep = vocab('bizStep'); break;
      case 3: e.disposition = vocab('disposition'); break;
      case 4: Object.assign(e, ext(context)); break;
      case 5: e.quantityList = [{ epcClass: epc(), quantity: num(), uom: pick(['KGM', 'EA', undefined]) }]; break;
      case 6: e.readPoint = { id: epc(), ...(r() < 0.3 ? ext(context) : {}) }; break;
      case 7: e.sensorElementList = [{ sensorMetadata: { time: time() }, sensorReport: [{ type: pick(['Temperature', 'gs1:Temperature', 'https://gs1.org/voc/Temperature', 'Time']), value: num(), uom: 'CEL', ...(r() < 0.3 ? { stringValue: numStr() } : {}), ...(r() < 0.2 ? ext(context) : {}) }] }]; break;
      case 8: e.bizTransactionList = [{ type: pick(['po', 'inv', 'urn:epcglobal:cbv:btt:desadv', 'https://ns.example.com/btt/x']), bizTransaction: epc() }]; break;
    }
  }
  const doc = { '@context': context, type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2026-01-01T00:00:00Z', epcisBody: { eventList: [e] } };
  const name = `case${String(i).padStart(4, '0')}.jsonld`;
  writeFileSync(`${OUT}/${name}`, JSON.stringify(doc, null, 1));
  try { mine[name] = epcisEventHash(e, context); } catch (err) { mine[name] = 'THROW ' + err.message; }
}
writeFileSync(`${OUT}/../mine.json`, JSON.stringify(mine));
console.log('generated', N);
