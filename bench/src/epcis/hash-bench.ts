/**
 * EPCIS capture's CPU cost per event: EPCIS 2.0 JSON schema validation (compiled ajv) and the CBV 2.0 event
 * hash, against the baseline of parsing the same JSON only. Capture must sustain 5,000 events/s including
 * validation and hashing (issue 13), so this is the budget those two take from one core.
 *
 *   npx tsc --build bench && node bench/dist/src/epcis/hash-bench.js [--events 20000] [--repeat 5] [--doc 1000]
 *
 * Events are generated (seeded): commissioning ObjectEvents with serials and an ILMD lot, inspecting
 * ObjectEvents with two sensor reports, AggregationEvents packing 12 serials into an SSCC, shipping
 * ObjectEvents with business transactions, source and destination, and TransformationEvents with quantities;
 * EPC URNs and Digital Links mixed, a user extension on some. Each row is the median of `repeat` passes over
 * all events after one warm-up pass (JIT); events/s = events / median pass time, on one core.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { validateEpcisDocument, validateEpcisEvent } from '@c2m/services/dist/src/epcis/schema.js';
import { epcisEventHash } from '@c2m/shared';

const CONTEXT = [
  'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
  { c2m: 'https://ns.c2m.example/epcis/' },
];

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateEvents(n: number, seed = 1): Record<string, unknown>[] {
  const r = rng(seed);
  const serial = (i: number) => `urn:epc:id:sgtin:0614141.107346.S${i}`;
  const time = (i: number) => new Date(Date.UTC(2026, 11, 7, 8) + i * 137).toISOString().replace('Z', '+01:00');
  const base = (i: number) => ({
    eventTime: time(i),
    eventTimeZoneOffset: '+01:00',
    readPoint: { id: 'urn:epc:id:sgln:0614141.00777.LINE-1' },
    bizLocation: { id: 'https://id.gs1.org/414/0614141007778' },
  });
  return Array.from({ length: n }, (_, i) => {
    const kind = Math.floor(r() * 5);
    if (kind === 0) {
      return {
        type: 'ObjectEvent',
        ...base(i),
        epcList: Array.from({ length: 4 }, (_, k) => serial(i * 4 + k)),
        action: 'ADD',
        bizStep: 'commissioning',
        disposition: 'active',
        ilmd: { 'c2m:lot': `L-20261207-${i % 7}`, 'c2m:workOrder': `WO-${i % 13}` },
      };
    }
    if (kind === 1) {
      return {
        type: 'ObjectEvent',
        ...base(i),
        epcList: [`https://id.gs1.org/01/10614141073464/21/S${i}`],
        action: 'OBSERVE',
        bizStep: 'inspecting',
        disposition: r() < 0.9 ? 'conformant' : 'non_conformant',
        sensorElementList: [
          {
            sensorMetadata: { time: time(i), deviceID: `urn:epc:id:giai:0614141.DEV${i % 20}` },
            sensorReport: [
              { type: 'Temperature', value: Math.round(200 + r() * 100) / 10, uom: 'CEL' },
              { type: 'Length', value: Math.round(r() * 1e4) / 1e3, uom: 'MMT', component: 'x' },
            ],
          },
        ],
      };
    }
    if (kind === 2) {
      return {
        type: 'AggregationEvent',
        ...base(i),
        parentID: `urn:epc:id:sscc:0614141.1${String(i).padStart(9, '0')}`,
        childEPCs: Array.from({ length: 12 }, (_, k) => serial(i * 12 + k)),
        action: 'ADD',
        bizStep: 'packing',
        disposition: 'in_progress',
      };
    }
    if (kind === 3) {
      return {
        type: 'ObjectEvent',
        ...base(i),
        epcList: [`urn:epc:id:sscc:0614141.1${String(i).padStart(9, '0')}`],
        action: 'OBSERVE',
        bizStep: 'shipping',
        disposition: 'in_transit',
        bizTransactionList: [{ type: 'po', bizTransaction: `urn:epcglobal:cbv:bt:0614141073467:PO-${i % 50}` }],
        sourceList: [{ type: 'owning_party', source: 'urn:epc:id:pgln:0614141.00001' }],
        destinationList: [{ type: 'owning_party', destination: 'urn:epc:id:pgln:0614142.00001' }],
        'c2m:carrier': 'ACME Freight',
      };
    }
    return {
      type: 'TransformationEvent',
      ...base(i),
      inputQuantityList: [{ epcClass: 'urn:epc:class:lgtin:0614141.107346.RAW-1', quantity: 12.5, uom: 'KGM' }],
      outputEPCList: [serial(i)],
      bizStep: 'commissioning',
      transformationID: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Median wall time and median CPU time (user + system of this process) of `repeat` passes. On a shared
 * machine the CPU time is the steadier figure: it leaves out the time the process waited for a core.
 */
function timePasses(repeat: number, pass: () => void): { wall: number; cpu: number } {
  pass(); // warm-up
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let k = 0; k < repeat; k++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    pass();
    walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '20000' },
      repeat: { type: 'string', default: '5' },
      doc: { type: 'string', default: '1000' },
    },
  });
  const n = Number(values.events);
  const repeat = Number(values.repeat);
  const docSize = Number(values.doc);
  const events = generateEvents(n);
  const texts = events.map((e) => JSON.stringify(e));
  const bytes = texts.reduce((s, t) => s + t.length, 0);

  for (const e of events.slice(0, 50)) {
    const r = validateEpcisEvent(e);
    if (!r.valid) throw new Error(`generated event invalid: ${JSON.stringify(r.errors.slice(0, 3))}`);
  }

  let sink = 0;
  const rows: [string, { wall: number; cpu: number }][] = [];
  rows.push([
    'baseline: JSON.parse only',
    timePasses(repeat, () => {
      for (const t of texts) sink += (JSON.parse(t) as object) ? 1 : 0;
    }),
  ]);
  rows.push([
    'parse + validate (event schema)',
    timePasses(repeat, () => {
      for (const t of texts) sink += validateEpcisEvent(JSON.parse(t)).valid ? 1 : 0;
    }),
  ]);
  rows.push([
    'parse + hash',
    timePasses(repeat, () => {
      for (const t of texts) sink += epcisEventHash(JSON.parse(t), CONTEXT).length;
    }),
  ]);
  rows.push([
    'parse + validate + hash',
    timePasses(repeat, () => {
      for (const t of texts) {
        const e = JSON.parse(t) as Record<string, unknown>;
        if (validateEpcisEvent(e).valid) sink += epcisEventHash(e, CONTEXT).length;
      }
    }),
  ]);
  const nodeSha = { sha256: (b: Uint8Array) => createHash('sha256').update(b).digest() };
  rows.push([
    'parse + validate + hash (node:crypto SHA-256)',
    timePasses(repeat, () => {
      for (const t of texts) {
        const e = JSON.parse(t) as Record<string, unknown>;
        if (validateEpcisEvent(e).valid) sink += epcisEventHash(e, CONTEXT, nodeSha).length;
      }
    }),
  ]);
  // A capture request: one EPCISDocument of docSize events, validated whole, then every event hashed.
  const docs: string[] = [];
  for (let i = 0; i < n; i += docSize) {
    docs.push(
      JSON.stringify({
        '@context': CONTEXT,
        type: 'EPCISDocument',
        schemaVersion: '2.0',
        creationDate: '2026-12-07T10:00:00Z',
        epcisBody: { eventList: events.slice(i, i + docSize) },
      }),
    );
  }
  rows.push([
    `documents of ${docSize}: parse + validate + hash (node:crypto)`,
    timePasses(repeat, () => {
      for (const d of docs) {
        const doc = JSON.parse(d) as { '@context': unknown; epcisBody: { eventList: Record<string, unknown>[] } };
        if (!validateEpcisDocument(doc).valid) throw new Error('document invalid');
        for (const e of doc.epcisBody.eventList) sink += epcisEventHash(e, doc['@context'], nodeSha).length;
      }
    }),
  ]);

  const baseline = rows[0]![1];
  console.log(`EPCIS validate + hash, ${n} events (${(bytes / n).toFixed(0)} bytes JSON each), median of ${repeat}`);
  console.log(
    '| path | wall ms per pass | wall events/s | CPU µs per event | CPU-bound events/s (one core) | × baseline CPU |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const [name, t] of rows) {
    console.log(
      `| ${name} | ${t.wall.toFixed(0)} | ${Math.round(n / (t.wall / 1000)).toLocaleString('en-US')} | ${((t.cpu * 1000) / n).toFixed(1)} | ${Math.round(n / (t.cpu / 1000)).toLocaleString('en-US')} | ${(t.cpu / baseline.cpu).toFixed(1)} |`,
    );
  }
  if (sink === -1) console.log(sink);
}

main();
