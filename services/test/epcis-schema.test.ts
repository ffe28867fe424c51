import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  BIZ_STEPS,
  BIZ_TRANSACTION_TYPES,
  COMPONENTS,
  CodedError,
  DISPOSITIONS,
  documentEvents,
  ERROR_REASONS,
  ErrorCodes,
  MEASUREMENT_TYPES,
  SENSOR_ALERT_TYPES,
  SOURCE_DESTINATION_TYPES,
} from '@c2m/shared';
import fc from 'fast-check';
import schema from '../src/epcis/data/epcis-json-schema.json' with { type: 'json' };
import {
  assertEpcisDocument,
  assertEpcisEvent,
  MAX_ERRORS,
  validateEpcisDocument,
  validateEpcisEvent,
} from '../src/epcis/schema.js';

/** The reference implementation's EPCIS documents (shared/test/data/epcis-hash-vectors, MIT). */
const VECTORS = new URL('../../../shared/test/data/epcis-hash-vectors/', import.meta.url);
const docs = readdirSync(VECTORS)
  .filter((f) => f.endsWith('.jsonld'))
  .map((f) => ({ file: f, doc: JSON.parse(readFileSync(new URL(f, VECTORS), 'utf8')) as Record<string, unknown> }));

const event = () => ({
  type: 'ObjectEvent',
  eventTime: '2026-12-07T10:00:00.000+01:00',
  eventTimeZoneOffset: '+01:00',
  epcList: ['https://id.gs1.org/01/10614141073464/21/2017'],
  action: 'OBSERVE',
  bizStep: 'shipping',
  disposition: 'in_transit',
  readPoint: { id: 'https://id.gs1.org/414/0614141073467' },
});
const documentOf = (...events: unknown[]) => ({
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2026-12-07T10:00:00Z',
  epcisBody: { eventList: events },
});

test('every EPCIS document of the reference vectors and each of their events match the schema', () => {
  assert.equal(docs.length, 22);
  for (const { file, doc } of docs) {
    assert.deepEqual(validateEpcisDocument(doc), { valid: true, errors: [] }, file);
    for (const e of documentEvents(doc).events) assert.equal(validateEpcisEvent(e).valid, true, file);
  }
});

test('our CBV vocabulary lists are exactly the schema enums', () => {
  const defs = schema.definitions as Record<string, { anyOf?: { enum?: string[] }[]; enum?: string[] }>;
  const enumOf = (name: string) => {
    const d = defs[name]!;
    return (d.enum ?? d.anyOf?.find((a) => a.enum)?.enum ?? []).slice().sort();
  };
  const sorted = (l: readonly string[]) => [...l].sort();
  assert.deepEqual(enumOf('bizStep'), sorted(BIZ_STEPS));
  assert.deepEqual(enumOf('disposition'), sorted(DISPOSITIONS));
  assert.deepEqual(enumOf('bizTransaction-type'), sorted(BIZ_TRANSACTION_TYPES));
  assert.deepEqual(enumOf('source-dest-type'), sorted(SOURCE_DESTINATION_TYPES));
  assert.deepEqual(enumOf('error-reason'), sorted(ERROR_REASONS));
  assert.deepEqual(enumOf('measurementType'), sorted(MEASUREMENT_TYPES));
  assert.deepEqual(enumOf('sensorAlertType'), sorted(SENSOR_ALERT_TYPES));
  assert.deepEqual(enumOf('component'), sorted(COMPONENTS));
});

test('errors name the instance path and the schema path', () => {
  assert.equal(validateEpcisEvent(event()).valid, true);
  const bad = { ...event(), action: 'LOOK', eventTime: 'yesterday' };
  const r = validateEpcisDocument(documentOf(event(), bad));
  assert.equal(r.valid, false);
  const action = r.errors.find((e) => e.path === '/epcisBody/eventList/1/action' && e.schemaPath.endsWith('/enum'));
  assert.ok(action, JSON.stringify(r.errors));
  assert.match(action.message, /allowed values: OBSERVE, ADD, DELETE/);
  assert.ok(r.errors.some((e) => e.path === '/epcisBody/eventList/1/eventTime' && /date-time/.test(e.message)));
  assert.ok(r.errors.every((e) => e.schemaPath.startsWith('#') || e.schemaPath.startsWith('https://')));
  assert.ok(!r.errors.some((e) => e.path.startsWith('/epcisBody/eventList/0/')), 'the valid event has no errors');

  const missing = validateEpcisEvent({ type: 'ObjectEvent', action: 'OBSERVE', epcList: [] });
  assert.ok(
    missing.errors.some((e) => e.path === '' && e.message.includes('(eventTime)')),
    JSON.stringify(missing),
  );
  // EPCIS 2.0 JSON takes bare CBV names or Web URIs; CBV 1.2 URNs are schema errors.
  const urn = validateEpcisEvent({ ...event(), bizStep: 'urn:epcglobal:cbv:bizstep:shipping' });
  assert.ok(urn.errors.some((e) => e.path === '/bizStep'));
  assert.equal(validateEpcisEvent({ ...event(), bizStep: 'https://ref.gs1.org/cbv/BizStep-shipping' }).valid, true);
  // A document needs its @context and header fields.
  const { '@context': _, ...noContext } = documentOf(event());
  assert.ok(validateEpcisDocument(noContext).errors.some((e) => e.message.includes('(@context)')));
});

test('all five event types validate, and an unknown field without a namespace prefix does not', () => {
  const common = { eventTime: '2026-12-07T10:00:00Z', eventTimeZoneOffset: '+00:00' };
  const events = [
    { type: 'ObjectEvent', ...common, action: 'ADD', epcList: ['urn:epc:id:sgtin:0614141.107346.1'] },
    {
      type: 'AggregationEvent',
      ...common,
      action: 'ADD',
      parentID: 'urn:epc:id:sscc:0614141.1234567890',
      childEPCs: ['urn:epc:id:sgtin:0614141.107346.1'],
    },
    {
      type: 'TransactionEvent',
      ...common,
      action: 'ADD',
      bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:1' }],
      epcList: ['urn:epc:id:sgtin:0614141.107346.1'],
    },
    {
      type: 'TransformationEvent',
      ...common,
      inputEPCList: ['urn:epc:id:sgtin:0614141.107346.1'],
      outputQuantityList: [{ epcClass: 'urn:epc:class:lgtin:0614141.107346.L1', quantity: 12.5, uom: 'KGM' }],
    },
    {
      type: 'AssociationEvent',
      ...common,
      action: 'ADD',
      parentID: 'urn:epc:id:grai:0614141.12345.400',
      childEPCs: ['urn:epc:id:giai:0614141.A1'],
    },
  ];
  for (const e of events) assert.deepEqual(validateEpcisEvent(e), { valid: true, errors: [] }, e.type);
  assert.equal(validateEpcisDocument(documentOf(...events)).valid, true);
  assert.equal(validateEpcisEvent({ ...events[0], 'example:field': 'x' }).valid, true);
  assert.equal(validateEpcisEvent({ ...events[0], field: 'x' }).valid, false);
});

test('assert* throw VALIDATION_FAILED with the error list as details', () => {
  assert.doesNotThrow(() => assertEpcisDocument(documentOf(event())));
  assert.throws(
    () => assertEpcisEvent({ ...event(), disposition: 7 }),
    (err: unknown) => {
      assert.ok(err instanceof CodedError);
      assert.equal(err.code, ErrorCodes.VALIDATION_FAILED);
      assert.equal(err.statusCode, 400);
      assert.match(err.message, /\/disposition/);
      const details = err.details as { errors: { path: string }[] };
      assert.ok(details.errors.some((e) => e.path === '/disposition'));
      return true;
    },
  );
});

test('hostile input: any JSON value gets a result, never an exception, with at most MAX_ERRORS errors', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
      for (const r of [validateEpcisDocument(v), validateEpcisEvent(v)]) {
        assert.equal(typeof r.valid, 'boolean');
        assert.ok(r.errors.length <= MAX_ERRORS);
        assert.equal(r.valid, r.errors.length === 0);
      }
    }),
    { numRuns: 300 },
  );
  // A valid event with one field replaced by anything: still a result (and the schema decides).
  fc.assert(
    fc.property(fc.constantFrom(...Object.keys(event())), fc.jsonValue({ maxDepth: 3 }), (key, value) => {
      const r = validateEpcisEvent({ ...event(), [key]: value });
      assert.equal(r.valid, r.errors.length === 0);
    }),
    { numRuns: 300 },
  );
  const many = documentOf(...Array.from({ length: 200 }, () => ({ type: 'ObjectEvent' })));
  assert.equal(validateEpcisDocument(many).errors.length, MAX_ERRORS);
});
