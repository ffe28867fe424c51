import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { createPool, dropDatabase, ensureDatabase, migrate, withTransaction } from '../src/db/database.js';
import { type EventRow, indexEvent, insertEvents } from '../src/epcis/store.js';

const url = `postgres://postgres@127.0.0.1:5432/c2m_store_${randomBytes(4).toString('hex')}`;
let pool: pg.Pool;
before(async () => {
  await ensureDatabase(url);
  await migrate(url);
  pool = createPool(url);
});
after(async () => {
  await pool.end();
  await dropDatabase(url);
});

const same = (u: string) => u;
const packing = {
  type: 'AggregationEvent',
  eventTime: '2026-12-01T10:00:00.000Z',
  eventTimeZoneOffset: '+08:00',
  parentID: 'https://id.gs1.org/00/069414100000000015',
  childEPCs: ['https://id.gs1.org/01/06941410000012/21/1', 'https://id.gs1.org/01/06941410000012/21/2'],
  childQuantityList: [{ epcClass: 'https://id.gs1.org/01/06941410000012/10/L1', quantity: 3 }],
  action: 'ADD',
  bizStep: 'packing',
  disposition: 'in_progress',
  readPoint: { id: 'https://id.gs1.org/414/6941410000007/254/1' },
  bizTransactionList: [
    { type: 'po', bizTransaction: 'urn:epc:id:gdti:0614141.00001.1618034' },
    { bizTransaction: 'x' },
  ],
  sensorElementList: [
    {
      sensorReport: [
        { type: 'Temperature', value: 20 },
        { type: 'Humidity', value: 40 },
      ],
    },
  ],
  'example:ext': { a: 1 },
};

function row(event: Record<string, unknown>, eventId: string): EventRow {
  return {
    eventId,
    eventHash: `ni:///sha-256;${eventId}?ver=CBV2.0`,
    event,
    index: indexEvent(event, same),
    ownerMsp: 'Factory1Org',
    source: 'capture',
    recordTime: new Date().toISOString(),
    message: JSON.stringify(event),
    signature: 'sig',
    signerCertificate: 'cert',
    leafHash: '00',
  };
}

test('indexEvent reads the columns the query filters on', () => {
  const i = indexEvent(packing, same);
  assert.equal(i.eventType, 'AggregationEvent');
  assert.equal(i.readPoint, 'https://id.gs1.org/414/6941410000007/254/1');
  assert.deepEqual(i.bizTransactions, ['po urn:epc:id:gdti:0614141.00001.1618034', ' x']);
  assert.deepEqual(i.measurementTypes, ['Humidity', 'Temperature']);
  assert.deepEqual(
    i.epcs.map((e) => e.role),
    ['child', 'child', 'childEpcClass', 'parent'],
  );
});

test('insertEvents stores once per eventID, indexes EPCs and marks error-declared originals', async () => {
  const first = await withTransaction(pool, (c) =>
    insertEvents(c, [row(packing, 'e1'), row({ ...packing, action: 'OBSERVE' }, 'e2')]),
  );
  assert.deepEqual(
    first.map((r) => r.inserted),
    [true, true],
  );
  const again = await withTransaction(pool, (c) => insertEvents(c, [row(packing, 'e1')]));
  assert.deepEqual(
    again.map((r) => [r.inserted, r.id]),
    [[false, first[0]?.id]],
  );
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM epcis_event_epcs WHERE epc LIKE 'https://id.gs1.org/01/06941410000012/21/%'`,
  );
  assert.equal(rows[0].n, 4);
  const declaration = {
    ...packing,
    errorDeclaration: { declarationTime: '2026-12-02T00:00:00Z', reason: 'incorrect_data' },
  };
  const [d] = await withTransaction(pool, (c) => insertEvents(c, [row(declaration, 'e1')]));
  assert.equal(d?.inserted, true);
  const { rows: orig } = await pool.query(
    `SELECT error_declared_by FROM epcis_events WHERE event_id = 'e1' AND error_declaration IS NULL`,
  );
  assert.equal(Number(orig[0].error_declared_by), d?.id);
});
