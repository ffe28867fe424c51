import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  CodedError,
  documentEvents,
  ErrorCodes,
  epcisEventHash,
  eventHashPreImage,
  MAX_EVENT_DEPTH,
  normaliseGs1Uri,
} from '../src/index.js';

/** The reference implementation's published vectors (see data/epcis-hash-vectors/README.md). */
const VECTORS = join(__dirname, '..', '..', 'test', 'data', 'epcis-hash-vectors');
const HASH = /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/;

interface Vector {
  file: string;
  index: number;
  event: Record<string, unknown>;
  context: unknown;
  ignoreFields?: string[];
  expected: string;
  expectedPreImage?: string;
}

function loadVectors(): Vector[] {
  const out: Vector[] = [];
  for (const file of readdirSync(VECTORS).filter((f) => f.endsWith('.jsonld'))) {
    const base = join(VECTORS, file.replace(/\.jsonld$/, ''));
    const doc = JSON.parse(readFileSync(join(VECTORS, file), 'utf8')) as Record<string, unknown>;
    const { context, events } = documentEvents(doc);
    const lines = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean) : []);
    const hashes = lines(`${base}.hashes`);
    const pre = lines(`${base}.prehashes`);
    // The reference's repository-specific ignoreFields: a prefix bound to https://repository-x.example.com/.
    let ignoreFields: string[] | undefined;
    for (const c of Array.isArray(context) ? context : []) {
      if (c === null || typeof c !== 'object') continue;
      for (const [prefix, iri] of Object.entries(c)) {
        if (iri !== 'https://repository-x.example.com/') continue;
        const body = doc.epcisBody as { queryResults?: Record<string, unknown> };
        ignoreFields = (doc[`${prefix}:ignoreFields`] ?? body.queryResults?.[`${prefix}:ignoreFields`]) as string[];
      }
    }
    assert.equal(events.length, hashes.length, `${file}: one expected hash per event`);
    events.forEach((event, index) => {
      out.push({ file, index, event, context, ignoreFields, expected: hashes[index]!, expectedPreImage: pre[index] });
    });
  }
  return out;
}

const vectors = loadVectors();

test('every event of the reference implementation JSON-LD vectors hashes as published (43 of 43)', () => {
  assert.equal(vectors.length, 43);
  const failures: string[] = [];
  for (const v of vectors) {
    const got = epcisEventHash(v.event, v.context, { ignoreFields: v.ignoreFields });
    if (got !== v.expected) {
      const pre = eventHashPreImage(v.event, v.context, { ignoreFields: v.ignoreFields });
      failures.push(`${v.file}#${v.index}\n  got ${pre}\n  exp ${v.expectedPreImage ?? '(no published pre-image)'}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('300 mutated events hash as the reference implementation itself hashed them (differential data)', () => {
  const cases = JSON.parse(readFileSync(join(VECTORS, 'reference-mutations', 'reference-mutations.json'), 'utf8')) as {
    case: string;
    context: unknown;
    event: Record<string, unknown>;
    hash: string;
  }[];
  assert.equal(cases.length, 300);
  const wrong = cases.filter((c) => epcisEventHash(c.event, c.context) !== c.hash).map((c) => c.case);
  assert.deepEqual(wrong, []);
});

test('published pre-images are reproduced character for character', () => {
  // One published .prehashes file (epcisDocWithAllGS1Keys) is garbled; compare those that hash to the published hash.
  const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  const consistent = vectors.filter(
    (x) => x.expectedPreImage !== undefined && x.expected.includes(sha(x.expectedPreImage)),
  );
  assert.ok(consistent.length >= 30, `${consistent.length} consistent published pre-images`);
  for (const v of consistent) {
    assert.equal(eventHashPreImage(v.event, v.context, { ignoreFields: v.ignoreFields }), v.expectedPreImage, v.file);
  }
});

/** Rebuilds a JSON value with every object's keys in a random order. */
function shuffled(value: unknown, order: number[]): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffled(v, order));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const perm = entries.map((e, i) => ({ e, k: order[i % order.length]! + i / 1000 })).sort((a, b) => a.k - b.k);
    return Object.fromEntries(perm.map(({ e: [k, v] }) => [k, shuffled(v, order)]));
  }
  return value;
}

test('the hash is stable under key order and JSON whitespace', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...vectors),
      fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 12 }),
      fc.constantFrom(0, 1, 2, '\t'),
      (v, order, space) => {
        const text = JSON.stringify(shuffled(v.event, order), null, space);
        const again = JSON.parse(text) as Record<string, unknown>;
        assert.equal(epcisEventHash(again, v.context, { ignoreFields: v.ignoreFields }), v.expected);
      },
    ),
    { numRuns: 200 },
  );
});

const base = {
  type: 'ObjectEvent',
  eventTime: '2026-12-07T10:00:00.000+01:00',
  eventTimeZoneOffset: '+01:00',
  epcList: ['urn:epc:id:sgtin:0614141.107346.2017'],
  action: 'OBSERVE',
  bizStep: 'shipping',
  disposition: 'in_transit',
  readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1234' },
  bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:1152' }],
  'example:lot': 'L-1',
};
const ctx = ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: 'https://ns.example.com/' }];

test('equivalent spellings of the same event hash alike', () => {
  const h = epcisEventHash(base, ctx);
  const spelled = {
    ...base,
    eventTime: '2026-12-07T09:00:00Z',
    epcList: ['https://id.gs1.org/01/10614141073464/21/2017'],
    bizStep: 'urn:epcglobal:cbv:bizstep:shipping',
    disposition: 'https://ref.gs1.org/cbv/Disp-in_transit',
    readPoint: { id: 'https://example.com/414/0614141073467/254/1234?x=1' },
    bizTransactionList: [
      // value before type: the reference's hash would follow the JSON key order here; ours does not.
      { bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:1152', type: 'https://ref.gs1.org/cbv/BTT-po' },
    ],
    eventID: 'urn:uuid:7f1c2a3e-0000-4000-8000-000000000001',
    recordTime: '2026-12-07T09:00:01Z',
    errorDeclaration: { declarationTime: '2026-12-08T00:00:00Z', reason: 'incorrect_data' },
  };
  assert.equal(epcisEventHash(spelled, ctx), h);
  assert.match(h, HASH);
});

test('changing any hashed field changes the hash', () => {
  const h = epcisEventHash(base, ctx);
  const changes: Record<string, unknown>[] = [
    { eventTime: '2026-12-07T10:00:00.001+01:00' },
    { eventTimeZoneOffset: '+02:00' },
    { epcList: ['urn:epc:id:sgtin:0614141.107346.2018'] },
    { epcList: [...base.epcList, 'urn:epc:id:sgtin:0614141.107346.2018'] },
    { action: 'ADD' },
    { bizStep: 'receiving' },
    { disposition: 'in_progress' },
    { readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1235' } },
    { bizTransactionList: [{ type: 'inv', bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:1152' }] },
    { 'example:lot': 'L-2' },
    { 'example:extra': 1 },
    { type: 'AggregationEvent' },
  ];
  for (const change of changes) assert.notEqual(epcisEventHash({ ...base, ...change }, ctx), h, JSON.stringify(change));
  // The namespace an extension is in is part of its name.
  assert.notEqual(epcisEventHash(base, [ctx[0], { example: 'https://other.example.com/' }]), h);
});

test('a change to any string leaf of any vector event changes its hash, unless the field is not hashed', () => {
  // Not hashed: identifiers and record metadata, comments, error declarations, and a Digital Link's query string.
  const notHashed = new Set(['eventID', 'recordTime', 'errorDeclaration', 'rdfs:comment', 'comment']);
  let checked = 0;
  for (const v of vectors) {
    const walk = (x: unknown, path: (string | number)[]): void => {
      if (Array.isArray(x)) {
        for (const [i, y] of x.entries()) walk(y, [...path, i]);
      } else if (x !== null && typeof x === 'object') for (const [k, y] of Object.entries(x)) walk(y, [...path, k]);
      else if (typeof x === 'string') {
        const top = String(path[0]);
        if (notHashed.has(top) || v.ignoreFields?.includes(top) || x.includes('?')) return;
        const copy = structuredClone(v.event);
        let parent = copy as Record<string | number, unknown>;
        for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
        parent[path[path.length - 1]!] = `${x}X9`; // no normalisation folds this back into the old value
        const h = epcisEventHash(copy, v.context, { ignoreFields: v.ignoreFields });
        assert.notEqual(h, v.expected, `${v.file}#${v.index} ${path.join('.')}`);
        checked++;
      }
    };
    walk(v.event, []);
  }
  assert.ok(checked > 500, `${checked} leaves changed`);
});

test('hostile input: any JSON object hashes without throwing, deterministically', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue(), (event, context) => {
      const h = epcisEventHash(event, context);
      assert.match(h, HASH);
      assert.equal(epcisEventHash(structuredClone(event), context), h);
    }),
    { numRuns: 300 },
  );
});

test('hostile input: nesting deeper than MAX_EVENT_DEPTH is refused with VALIDATION_FAILED, not a stack overflow', () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 10_000; i++) deep = i % 2 ? [deep] : { 'example:n': deep };
  for (const event of [
    { type: 'ObjectEvent', 'example:deep': deep },
    { type: 'ObjectEvent', readPoint: deep },
  ]) {
    assert.throws(
      () => epcisEventHash(event as Record<string, unknown>),
      (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.VALIDATION_FAILED,
    );
  }
  let ok: unknown = 'x';
  for (let i = 0; i < MAX_EVENT_DEPTH - 2; i++) ok = { 'example:n': ok };
  assert.match(epcisEventHash({ type: 'ObjectEvent', 'example:ok': ok }), HASH);
});

test('EPC URIs and Digital Link URIs normalise to one canonical Digital Link URI', () => {
  const cases: [string, string | undefined][] = [
    ['urn:epc:id:sgtin:4012345.011111.987', 'https://id.gs1.org/01/04012345111118/21/987'],
    ['urn:epc:class:lgtin:4012345.011111.LOT-1', 'https://id.gs1.org/01/04012345111118/10/LOT-1'],
    ['urn:epc:idpat:sgtin:4012345.011111.*', 'https://id.gs1.org/01/04012345111118'],
    ['urn:epc:id:sscc:4012345.0000000001', 'https://id.gs1.org/00/040123450000000016'],
    ['urn:epc:id:sgln:4012345.00001.0', 'https://id.gs1.org/414/4012345000016'],
    ['urn:epc:id:sgln:4012345.00001.7', 'https://id.gs1.org/414/4012345000016/254/7'],
    ['https://brand.example/gtin/4012345111118/lot/A/ser/1?x=y', 'https://id.gs1.org/01/04012345111118/21/1'],
    ['https://id.gs1.org/01/4012345111118', 'https://id.gs1.org/01/04012345111118'],
    ['urn:epcglobal:cbv:bizstep:shipping', undefined],
    ['not a uri', undefined],
  ];
  for (const [input, expected] of cases) assert.equal(normaliseGs1Uri(input), expected, input);
});
