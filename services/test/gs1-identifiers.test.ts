import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError, ErrorCodes, normaliseGs1Uri } from '@c2m/shared';
import fc from 'fast-check';
import {
  computeGln,
  computeSscc,
  digitalLinkToEpc,
  epcToDigitalLink,
  formatLot,
  formatSerial,
  type Gs1Key,
  gs1CheckDigit,
  hasValidCheckDigit,
  parseDigitalLink,
  parseEpcUri,
  parseGln,
  parseGs1Uri,
  parseGtin,
  parseLot,
  parseSerial,
  parseSscc,
  resolverBase,
  sglnKey,
  toDigitalLink,
  toEpcUri,
  withCheckDigit,
} from '../src/gs1/index.js';

/** Asserts a VALIDATION_FAILED refusal whose message contains every given fragment. */
function refused(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CodedError, `expected CodedError, got ${String(err)}`);
    assert.equal(err.code, ErrorCodes.VALIDATION_FAILED);
    assert.equal(err.statusCode, 400);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" lacks "${f}"`);
    return true;
  });
}

test('check digits of GS1 published examples (GTIN-8/12/13/14, GLN, SSCC)', () => {
  assert.equal(gs1CheckDigit('9638507'), 4); // GTIN-8 96385074
  assert.equal(gs1CheckDigit('61414100003'), 6); // GTIN-12 614141000036
  assert.equal(gs1CheckDigit('950600013435'), 2); // GTIN-13 9506000134352
  assert.equal(gs1CheckDigit('1061414107346'), 4); // GTIN-14 10614141073464 (CBV example)
  assert.equal(withCheckDigit('061414100000'), '0614141000005'); // GLN
  assert.equal(withCheckDigit('10614141234567890'), '106141412345678908'); // SSCC (EPCIS example)
  for (const k of ['96385074', '614141000036', '9506000134352', '10614141073464', '106141412345678908']) {
    assert.ok(hasValidCheckDigit(k), k);
  }
  assert.equal(hasValidCheckDigit('9506000134353'), false);
});

test('parseGtin normalises every GTIN length to 14 digits and names what is wrong', () => {
  assert.equal(parseGtin('96385074'), '00000096385074');
  assert.equal(parseGtin('614141000036'), '00614141000036');
  assert.equal(parseGtin('9506000134352'), '09506000134352');
  assert.equal(parseGtin('10614141073464'), '10614141073464');
  refused(() => parseGtin('9506000134353', 'sku.gtin'), 'sku.gtin', 'bad check digit 3', 'expected 2');
  refused(() => parseGtin('950600013435'), 'gtin', 'bad check digit 5'); // a GTIN-13 cut short reads as a bad GTIN-12
  refused(() => parseGtin('95060001343521'), 'bad check digit');
  refused(() => parseGtin('123456789'), '9 digits', 'expected 8, 12, 13, 14');
  refused(() => parseGtin('9506000l34352'), 'characters other than digits');
  refused(() => parseGtin('٩٥٠٦٠٠٠١٣٤٣٥٢'), 'characters other than digits'); // Arabic-Indic digits
  refused(() => parseGtin(9506000134352), 'string of digits');
  refused(() => parseGln('061414100000'), 'GLN', '12 digits');
  refused(() => parseSscc('106141412345678909'), 'SSCC', 'bad check digit 9', 'expected 8');
});

test('serial and lot follow GS1 AI 21 / AI 10: character set 82, 1 to 20 characters', () => {
  assert.equal(parseSerial(`!"%&'()*+,-./:;<=>?_`.slice(0, 20)), `!"%&'()*+,-./:;<=>?_`.slice(0, 20));
  assert.equal(parseLot('LOT-2026/12.A'), 'LOT-2026/12.A');
  refused(() => parseSerial('x'.repeat(21), 'items[3].serial'), 'items[3].serial', '21 characters', 'at most 20');
  refused(() => parseSerial(''), 'empty');
  refused(() => parseSerial('A B'), '" "', 'character set 82');
  refused(() => parseLot('Lot#1'), '"#"', 'character set 82');
  refused(() => parseLot('Lötz'), '"ö"');
  refused(() => parseSerial('a\u0000b'), 'character set 82');
  refused(() => parseSerial(42), 'must be a string');
});

const CSET82_DL = "!%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const ai82 = fc.array(fc.constantFrom(...CSET82_DL), { minLength: 1, maxLength: 20 }).map((cs) => cs.join(''));
const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
const gtin14 = digits(13).map(withCheckDigit);
const keyArb: fc.Arbitrary<Gs1Key> = fc.oneof(
  fc.record({ kind: fc.constant('sgtin' as const), gtin: gtin14, serial: ai82 }),
  fc.record({ kind: fc.constant('lgtin' as const), gtin: gtin14, lot: ai82 }),
  fc.record({ kind: fc.constant('gtin' as const), gtin: gtin14 }),
  fc.record({ kind: fc.constant('sscc' as const), sscc: digits(17).map(withCheckDigit) }),
  fc.record({ kind: fc.constant('sgln' as const), gln: digits(12).map(withCheckDigit) }),
  fc.record({ kind: fc.constant('sgln' as const), gln: digits(12).map(withCheckDigit), extension: ai82 }),
);

test('round trips: key -> Digital Link -> EPC URI -> Digital Link, for every company prefix length', () => {
  fc.assert(
    fc.property(keyArb, fc.integer({ min: 6, max: 12 }), (generated, cpLen) => {
      const key = { ...generated }; // fast-check records have a null prototype
      const link = toDigitalLink(key);
      assert.deepEqual(parseDigitalLink(link), key);
      const urn = digitalLinkToEpc(link, cpLen);
      const parsed = parseEpcUri(urn);
      assert.deepEqual(parsed.key, key);
      assert.equal(parsed.companyPrefixLength, cpLen);
      assert.equal(epcToDigitalLink(urn), link);
      assert.deepEqual(parseGs1Uri(urn), key);
    }),
    { numRuns: 400 },
  );
});

test('EPC URIs agree with the event hash normaliser (the reference implementation) on the Digital Link', () => {
  // Without characters the reference leaves %-encoded differently, its normalised DL equals ours.
  const plain = fc
    .array(fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-._'), {
      minLength: 1,
      maxLength: 20,
    })
    .map((c) => c.join(''));
  const keys: fc.Arbitrary<Gs1Key> = fc.oneof(
    fc.record({ kind: fc.constant('sgtin' as const), gtin: gtin14, serial: plain }),
    fc.record({ kind: fc.constant('lgtin' as const), gtin: gtin14, lot: plain }),
    fc.record({ kind: fc.constant('sscc' as const), sscc: digits(17).map(withCheckDigit) }),
    fc.record({ kind: fc.constant('sgln' as const), gln: digits(12).map(withCheckDigit), extension: plain }),
  );
  fc.assert(
    fc.property(keys, fc.integer({ min: 6, max: 12 }), (generated, cpLen) => {
      const key = { ...generated };
      const urn = toEpcUri(key, cpLen);
      const expected =
        key.kind === 'sgln' && key.extension === '0'
          ? toDigitalLink({ kind: 'sgln', gln: key.gln })
          : toDigitalLink(key);
      assert.equal(normaliseGs1Uri(urn), expected, urn);
    }),
    { numRuns: 300 },
  );
});

test('known EPC URIs from the CBV/EPCIS standards convert as published', () => {
  assert.equal(
    toEpcUri({ kind: 'sgtin', gtin: '10614141073464', serial: '2017' }, 7),
    'urn:epc:id:sgtin:0614141.107346.2017',
  );
  assert.equal(toEpcUri({ kind: 'sscc', sscc: '106141412345678908' }, 7), 'urn:epc:id:sscc:0614141.1234567890');
  assert.equal(
    toEpcUri({ kind: 'sgln', gln: '0614141073467', extension: '1234' }, 7),
    'urn:epc:id:sgln:0614141.07346.1234',
  );
  assert.equal(toEpcUri({ kind: 'sgln', gln: '0614141073467' }, 7), 'urn:epc:id:sgln:0614141.07346.0');
  assert.equal(
    toEpcUri({ kind: 'lgtin', gtin: '04012345123456', lot: 'Lot987' }, 7),
    'urn:epc:class:lgtin:4012345.012345.Lot987',
  );
  assert.equal(toEpcUri({ kind: 'gtin', gtin: '10614141073464' }, 7), 'urn:epc:idpat:sgtin:0614141.107346.*');
  assert.equal(
    toEpcUri({ kind: 'sgtin', gtin: '10614141073464', serial: 'A/B%"<>?&' }, 7),
    'urn:epc:id:sgtin:0614141.107346.A%2FB%25%22%3C%3E%3F%26',
  );
  assert.equal(toEpcUri({ kind: 'sgln', gln: '0614141123452' }, 12), 'urn:epc:id:sgln:061414112345..0');
  assert.equal(
    epcToDigitalLink('urn:epc:id:sgtin:0614141.107346.2017', 'https://id.c2m.example/'),
    'https://id.c2m.example/01/10614141073464/21/2017',
  );
  assert.deepEqual(parseDigitalLink('https://brand.example/shop/01/9506000134352/10/L1/21/S1?linkType=all'), {
    kind: 'sgtin',
    gtin: '09506000134352',
    serial: 'S1',
  });
});

test('allocation: serials, lots, SSCCs and GLNs carry valid check digits and refuse what does not fit', () => {
  assert.equal(formatSerial(42, { prefix: 'WO7-', width: 6 }), 'WO7-000042');
  assert.equal(formatSerial(12345678901234567890n), '12345678901234567890');
  assert.equal(formatLot(['L', '20261207', 'F1']), 'L-20261207-F1');
  assert.equal(computeSscc('0614141', 1, 234567890), '106141412345678908');
  assert.equal(computeGln('0614141', 7346), '0614141073467');
  assert.equal(computeGln('061414112345', 0), '0614141123452');
  assert.deepEqual(sglnKey('0614141073467', 'LINE-2'), { kind: 'sgln', gln: '0614141073467', extension: 'LINE-2' });
  refused(() => formatSerial(1, { prefix: 'WO 7-' }), 'character set 82');
  refused(() => formatSerial(1, { prefix: 'x'.repeat(20) }), 'at most 20');
  refused(() => formatSerial(-1), 'non-negative integer');
  refused(() => formatSerial(1.5), 'non-negative integer');
  refused(() => computeSscc('0614141', 10, 1), 'extensionDigit');
  refused(() => computeSscc('0614141', 1, 1234567890), 'serialReference', 'leaves 9');
  refused(() => computeSscc('06141', 1, 1), 'companyPrefix', '6 to 12 digits');
  refused(() => computeGln('0614141', 123456), 'locationReference');
  fc.assert(
    fc.property(digits(7), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 999_999_999 }), (cp, ext, ref) => {
      const sscc = computeSscc(cp, ext, ref);
      assert.equal(parseSscc(sscc), sscc);
      assert.equal(parseEpcUri(toEpcUri({ kind: 'sscc', sscc }, 7)).companyPrefix, cp);
    }),
  );
});

test('resolver base: http(s) host and path only', () => {
  assert.equal(resolverBase('https://id.c2m.example/'), 'https://id.c2m.example');
  assert.equal(resolverBase('https://resolver.example/gs1/'), 'https://resolver.example/gs1');
  refused(() => resolverBase('ftp://x.example'), 'http(s)');
  refused(() => resolverBase('https://x.example/?a=1'), 'without query');
  refused(() => resolverBase('https://u:p@x.example'), 'credentials');
  refused(() => resolverBase('not a url'), 'not a URL');
});

test('hostile strings: every parse refuses with VALIDATION_FAILED, never another error', () => {
  const hostile = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 50 }),
    fc.constantFrom(
      'urn:epc:id:sgtin:0614141.107346.',
      'urn:epc:id:sgtin:0614141.1073466.1',
      'urn:epc:id:sgtin:06141.1073466.1',
      'urn:epc:id:sgln:0614141.07346',
      'urn:epc:id:sscc:0614141.12345678901',
      'urn:epc:idpat:sgtin:0614141.*.*',
      'urn:epc:id:sgtin:0614141.107346.%zz',
      'urn:epc:id:sgtin:0614141.107346.a%20b',
      'https://id.gs1.org/01/10614141073464/21/',
      'https://id.gs1.org/01/10614141073464/21/a%ZZ',
      'https://id.gs1.org/01/10614141073464/21/%E2%82%AC',
      'https://id.gs1.org/8004/0614141ABC',
      'https://id.gs1.org/00/10614141234567890',
      `https://id.gs1.org/01/10614141073464/21/${'a'.repeat(3000)}`,
      'javascript:alert(1)',
      'https://id.gs1.org/01/10614141073464/21/x y',
    ),
    fc.webUrl(),
  );
  fc.assert(
    fc.property(hostile, (s) => {
      for (const parse of [parseGs1Uri, parseDigitalLink, (v: unknown) => parseEpcUri(v), parseGtin, parseSerial]) {
        try {
          parse(s);
        } catch (err) {
          assert.ok(err instanceof CodedError, `${String(err)} for ${JSON.stringify(s)}`);
          assert.equal(err.code, ErrorCodes.VALIDATION_FAILED);
        }
      }
    }),
    { numRuns: 500 },
  );
  refused(() => parseGs1Uri('https://id.gs1.org/01/10614141073465/21/x'), 'AI 01', 'bad check digit');
  refused(
    () => parseGs1Uri(`https://id.gs1.org/8018/${withCheckDigit('06141411234567890')}`),
    'AI 8018',
    'not one this network uses',
  );
  refused(() => parseGs1Uri('https://id.gs1.org/01/10614141073464/21/%E2%82%AC'), 'GS1 DL grammar');
  refused(() => parseGs1Uri(['urn:epc:id:sgtin:0614141.107346.1']), 'must be a string');
  refused(() => toDigitalLink({ kind: 'sgtin', gtin: '10614141073464', serial: 'a"b' }), '%22');
  refused(() => toDigitalLink({ kind: 'pallet' } as unknown as Gs1Key), 'unknown GS1 key kind');
  refused(() => toEpcUri({ kind: 'gtin', gtin: '10614141073464' }, 13), 'company prefix length');
});
