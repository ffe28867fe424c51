import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CodedError, documentEvents, ErrorCodes, epcisEventHash } from '@c2m/shared';
import fc from 'fast-check';
import {
  CBV_VOCABULARIES,
  type CbvVocabulary,
  cbvUrn,
  cbvWebUri,
  isStandardCbv,
  normaliseCbv,
  normaliseEventVocabulary,
} from '../src/epcis/cbv.js';
import { validateEpcisEvent } from '../src/epcis/schema.js';

const vocabularies = Object.keys(CBV_VOCABULARIES) as CbvVocabulary[];

function refused(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CodedError);
    assert.equal(err.code, ErrorCodes.VALIDATION_FAILED);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" lacks "${f}"`);
    return true;
  });
}

test('every spelling of every standard value normalises to its bare name', () => {
  let checked = 0;
  for (const v of vocabularies) {
    for (const name of CBV_VOCABULARIES[v]) {
      const web = cbvWebUri(v, name);
      const spellings = [name, web, web.replace('https://', 'http://'), cbvUrn(v, name)];
      for (const s of spellings) assert.equal(normaliseCbv(v, s), name, `${v} ${s}`);
      assert.ok(isStandardCbv(v, web));
      checked++;
    }
  }
  assert.equal(checked, 41 + 33 + 13 + 3 + 2 + 72 + 2 + 14);
  assert.equal(cbvWebUri('bizStep', 'urn:epcglobal:cbv:bizstep:shipping'), 'https://ref.gs1.org/cbv/BizStep-shipping');
  assert.equal(cbvUrn('disposition', 'https://ref.gs1.org/cbv/Disp-in_transit'), 'urn:epcglobal:cbv:disp:in_transit');
  assert.equal(cbvWebUri('measurementType', 'gs1:Temperature'), 'https://gs1.org/voc/Temperature');
  assert.equal(normaliseCbv('bizStep', 'cbv:BizStep-packing'), 'packing');
  assert.equal(normaliseCbv('errorReason', 'urn:epcglobal:cbv:er:did_not_occur'), 'did_not_occur');
  assert.equal(normaliseCbv('component', 'https://ref.gs1.org/cbv/Comp-latitude'), 'latitude');
});

test('user-defined values stay full URIs; typos and misplaced CBV values are refused', () => {
  assert.equal(
    normaliseCbv('bizStep', 'https://ns.c2m.example/bizstep/line-cleaning'),
    'https://ns.c2m.example/bizstep/line-cleaning',
  );
  assert.equal(normaliseCbv('disposition', 'urn:example:disp:quarantined'), 'urn:example:disp:quarantined');
  assert.equal(
    normaliseCbv('measurementType', 'https://ns.c2m.example/voc/Vibration'),
    'https://ns.c2m.example/voc/Vibration',
  );
  refused(
    () => normaliseCbv('bizStep', 'shiping', 'event.bizStep'),
    'event.bizStep',
    '"shiping" is not a CBV 2.0 bizStep',
  );
  refused(() => normaliseCbv('bizStep', 'urn:epcglobal:cbv:bizstep:shiping'), 'GS1 namespace');
  refused(() => normaliseCbv('bizStep', 'https://ref.gs1.org/cbv/Disp-active'), 'not a CBV 2.0 bizStep');
  refused(() => normaliseCbv('measurementType', 'https://gs1.org/voc/Temperatur'), 'GS1 namespace');
  refused(() => normaliseCbv('disposition', ''), 'non-empty string');
  refused(() => normaliseCbv('disposition', 5), 'non-empty string');
  refused(() => normaliseCbv('disposition', `urn:x:${'a'.repeat(2000)}`), 'longer than 1024');
  refused(() => normaliseCbv('bizStep', 'SHIPPING'), 'not a CBV 2.0 bizStep');
});

test('normalisation is idempotent and any string gets a value or a VALIDATION_FAILED', () => {
  fc.assert(
    fc.property(fc.constantFrom(...vocabularies), fc.string({ maxLength: 80 }), (v, s) => {
      try {
        const n = normaliseCbv(v, s);
        assert.equal(normaliseCbv(v, n), n);
        assert.equal(normaliseCbv(v, cbvWebUri(v, n)), n);
      } catch (err) {
        assert.ok(err instanceof CodedError && err.code === ErrorCodes.VALIDATION_FAILED, String(err));
      }
    }),
    { numRuns: 500 },
  );
});

const VECTORS = new URL('../../../shared/test/data/epcis-hash-vectors/', import.meta.url);

test('canonical vocabulary keeps each reference vector event schema-valid and its event hash unchanged', () => {
  let n = 0;
  for (const f of readdirSync(VECTORS).filter((x) => x.endsWith('.jsonld'))) {
    const { context, events } = documentEvents(JSON.parse(readFileSync(new URL(f, VECTORS), 'utf8')));
    for (const e of events) {
      const canonical = normaliseEventVocabulary(e);
      assert.equal(validateEpcisEvent(canonical).valid, true, f);
      assert.equal(epcisEventHash(canonical, context), epcisEventHash(e, context), f);
      assert.deepEqual(normaliseEventVocabulary(canonical), canonical, 'idempotent');
      n++;
    }
  }
  assert.equal(n, 43);
});

test('normaliseEventVocabulary converts every CBV field and names the field it refuses', () => {
  const e = normaliseEventVocabulary({
    type: 'ObjectEvent',
    bizStep: 'urn:epcglobal:cbv:bizstep:receiving',
    disposition: 'https://ref.gs1.org/cbv/Disp-in_progress',
    persistentDisposition: { set: ['urn:epcglobal:cbv:disp:completeness_verified'], unset: ['cbv:Disp-active'] },
    bizTransactionList: [{ type: 'urn:epcglobal:cbv:btt:po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:1' }],
    sourceList: [{ type: 'https://ref.gs1.org/cbv/SDT-owning_party', source: 'urn:epc:id:pgln:0614141.00001' }],
    destinationList: [{ type: 'location', destination: 'urn:epc:id:sgln:0614141.00001.0' }],
    errorDeclaration: { declarationTime: '2026-12-07T10:00:00Z', reason: 'urn:epcglobal:cbv:er:incorrect_data' },
    sensorElementList: [
      {
        sensorReport: [
          { type: 'gs1:Temperature', exception: 'https://gs1.org/voc/ALARM_CONDITION', component: 'cbv:Comp-x' },
        ],
      },
    ],
  });
  assert.deepEqual(
    [
      e.bizStep,
      e.disposition,
      e.persistentDisposition,
      (e.bizTransactionList as { type: string }[])[0]!.type,
      (e.sourceList as { type: string }[])[0]!.type,
      (e.destinationList as { type: string }[])[0]!.type,
      (e.errorDeclaration as { reason: string }).reason,
      (e.sensorElementList as { sensorReport: unknown[] }[])[0]!.sensorReport[0],
    ],
    [
      'receiving',
      'in_progress',
      { set: ['completeness_verified'], unset: ['active'] },
      'po',
      'owning_party',
      'location',
      'incorrect_data',
      { type: 'Temperature', exception: 'ALARM_CONDITION', component: 'x' },
    ],
  );
  refused(
    () => normaliseEventVocabulary({ sensorElementList: [{ sensorReport: [{}, { type: 'Temp' }] }] }),
    'event.sensorElementList[0].sensorReport[1].type',
  );
  refused(
    () => normaliseEventVocabulary({ bizTransactionList: [{ type: 'purchase-order' }] }),
    'event.bizTransactionList[0].type',
  );
});
