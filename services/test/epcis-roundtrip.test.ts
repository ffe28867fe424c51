import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Orgs } from '@c2m/shared';
import request from 'supertest';
import { canonicalUri } from '../src/epcis/canonical.js';
import { demoTokens, startTestPlatform, type TestPlatform, waitFor } from './helpers.js';

// GS1's own example documents (fixtures/gs1-epcis/README.md names source and licence) captured over HTTP and
// queried back: the same events, with the same meaning, to the org that captured them and to nobody else.

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/gs1-epcis');
type Event = Record<string, unknown>;
const example = async (name: string) => readFile(path.join(FIXTURES, name), 'utf8');
const eventsOf = (body: string) => (JSON.parse(body) as { epcisBody: { eventList: Event[] } }).epcisBody.eventList;

describe('EPCIS capture -> query round trip', () => {
  let t: TestPlatform;
  let tokens: Record<string, string>;
  const get = (who: string, url: string) =>
    request(t.app.server).get(url).set('authorization', `Bearer ${tokens[who]}`);
  const list = (res: request.Response): Event[] => res.body.epcisBody.queryResults.resultsBody.eventList;

  async function captureAs(who: string, body: string) {
    const res = await request(t.app.server)
      .post('/api/epcis/capture')
      .set('authorization', `Bearer ${tokens[who]}`)
      .set('content-type', 'application/ld+json')
      .send(body)
      .expect(202);
    const job = await waitFor(`capture ${res.body.captureID}`, async () => {
      const r = await get(who, `/api/epcis/capture/${res.body.captureID}`).expect(200);
      return r.body.running ? undefined : r.body;
    });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.errors));
  }

  before(async () => {
    t = await startTestPlatform();
    tokens = await demoTokens(t, ['brand', 'factory1', 'factory2', 'financier', 'platform']);
    // The example documents' sites belong to factory1 (capture lets an org say only what happened at its own).
    for (const urn of [
      'urn:epc:id:sgln:0614141.07346.0',
      'urn:epc:id:sgln:0012345.11111.0',
      'urn:epc:id:sgln:4012345.00005.0',
    ]) {
      const uri = canonicalUri(urn);
      const m = /\/414\/(\d{13})$/.exec(uri);
      assert.ok(m, urn);
      await t.platform.pool.query(
        `INSERT INTO gs1_locations (uri, gln, owner_msp, kind, name) VALUES ($1, $2, $3, 'site', $4)`,
        [uri, m[1], Orgs.factory1, urn],
      );
    }
    for (const name of ['Example_9.6.1-ObjectEvent.jsonld', 'SensorDataExample1.jsonld']) {
      await captureAs('factory1', await example(name));
    }
  });
  after(async () => t?.close());

  test('GS1 example 9.6.1 comes back as captured (untranslated) and as Digital Link (the default)', async () => {
    const sent = eventsOf(await example('Example_9.6.1-ObjectEvent.jsonld'));
    const epc = encodeURIComponent('urn:epc:id:sgtin:0614141.107346.2018');
    const asCaptured = await get('factory1', `/api/epcis/events?MATCH_epc=${epc}&orderBy=eventTime&orderDirection=ASC`)
      .set('GS1-EPC-Format', 'Never_Translates')
      .expect(200);
    const got = list(asCaptured);
    assert.deepEqual(
      got.map((e) => e.eventID),
      sent.map((e) => e.eventID),
    );
    for (const [i, e] of sent.entries()) {
      // Every field sent, user extensions included, with the same value; the repository adds recordTime.
      for (const [k, v] of Object.entries(e)) assert.deepEqual(got[i]?.[k], v, `${e.eventID} ${k}`);
      assert.ok(typeof got[i]?.recordTime === 'string');
    }
    const translated = list(await get('factory1', `/api/epcis/events?MATCH_epc=${epc}`).expect(200));
    const shipping = translated.find((e) => e.bizStep === 'shipping');
    assert.deepEqual(shipping?.epcList, [
      'https://id.gs1.org/01/10614141073464/21/2017',
      'https://id.gs1.org/01/10614141073464/21/2018',
    ]);
    assert.deepEqual(shipping?.readPoint, { id: 'https://id.gs1.org/414/0614141073467/254/1234' });
  });

  test('the same events through every spelling, the EPC route and the single-event route', async () => {
    const enc = encodeURIComponent;
    const ids = async (qs: string) =>
      list(await get('factory1', `/api/epcis/events?${qs}`).expect(200)).map((e) => e.eventID);
    const [shipped, received] = eventsOf(await example('Example_9.6.1-ObjectEvent.jsonld')).map((e) => e.eventID);
    assert.deepEqual(await ids(`EQ_bizStep=${enc('urn:epcglobal:cbv:bizstep:receiving')}`), [received]);
    assert.deepEqual(await ids(`EQ_bizStep=${enc('https://ref.gs1.org/cbv/BizStep-shipping')}`), [shipped]);
    assert.deepEqual(await ids(`MATCH_epc=${enc('https://id.gs1.org/01/10614141073464/21/2017')}`), [shipped]);
    assert.deepEqual(
      await ids(`MATCH_epc=${enc('urn:epc:idpat:sgtin:0614141.107346.*')}&orderBy=eventTime&orderDirection=ASC`),
      [shipped, received],
    );
    assert.deepEqual(await ids(`EQ_readPoint=${enc('urn:epc:id:sgln:0012345.11111.400')}`), [received]);
    assert.deepEqual(
      await ids(
        `EQ_bizTransaction_po=${enc('http://transaction.acme.com/po/12345678')}&orderBy=eventTime&orderDirection=ASC`,
      ),
      [shipped, received],
    );
    const sensor = eventsOf(await example('SensorDataExample1.jsonld')).map((e) => e.eventID);
    assert.deepEqual(await ids('EQ_type=Temperature&GE_value_CEL=26'), sensor);
    assert.deepEqual(await ids('EQ_type=Temperature&GT_value_CEL=100'), []);
    const viaEpc = await get(
      'factory1',
      `/api/epcis/epcs/${enc('urn:epc:id:sgtin:0614141.107346.2017')}/events`,
    ).expect(200);
    assert.deepEqual(
      list(viaEpc).map((e) => e.eventID),
      [shipped],
    );
    const single = await get('factory1', `/api/epcis/events/${enc(received as string)}`).expect(200);
    assert.equal(
      list(single)[0]?.['example:myField'],
      eventsOf(await example('Example_9.6.1-ObjectEvent.jsonld'))[1]?.['example:myField'],
    );
  });

  test('nobody else sees what factory1 captured outside any work order; the platform does', async () => {
    const epc = encodeURIComponent('urn:epc:id:sgtin:0614141.107346.2018');
    for (const who of ['factory2', 'brand', 'financier']) {
      assert.deepEqual(list(await get(who, `/api/epcis/events?MATCH_epc=${epc}`).expect(200)), [], who);
      const id = encodeURIComponent(eventsOf(await example('Example_9.6.1-ObjectEvent.jsonld'))[0]?.eventID as string);
      await get(who, `/api/epcis/events/${id}`).expect(404);
    }
    assert.equal(list(await get('platform', `/api/epcis/events?MATCH_epc=${epc}`).expect(200)).length, 2);
  });

  test("GS1's error declaration: the original, then its declaration, both answered; EXISTS_errorDeclaration finds it", async () => {
    const doc = JSON.parse(await example('ErrorDeclarationAndCorrectiveEvent.jsonld')) as {
      epcisBody: { eventList: Event[] };
    };
    const original = structuredClone(doc);
    delete original.epcisBody.eventList[0]?.errorDeclaration;
    original.epcisBody.eventList.splice(1);
    await captureAs('factory1', JSON.stringify(original));
    await captureAs('factory1', JSON.stringify(doc));
    const declaredId = 'urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8';
    const declared = list(await get('factory1', '/api/epcis/events?EXISTS_errorDeclaration=true').expect(200));
    assert.deepEqual(
      declared.map((e) => e.eventID),
      [declaredId],
    );
    assert.equal((declared[0]?.errorDeclaration as Event | undefined)?.reason, 'incorrect_data');
    const corrective = list(
      await get(
        'factory1',
        `/api/epcis/events?EQ_correctiveEventID=${encodeURIComponent('urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8')}`,
      ).expect(200),
    );
    assert.deepEqual(
      corrective.map((e) => e.eventID),
      [declaredId],
    );
    assert.deepEqual(
      list(
        await get('factory1', '/api/epcis/events?EQ_errorReason=urn:epcglobal:cbv:er:incorrect_data').expect(200),
      ).map((e) => e.eventID),
      [declaredId],
    );
    // The single-event route answers the event and its declaration.
    const both = list(await get('factory1', `/api/epcis/events/${encodeURIComponent(declaredId)}`).expect(200));
    assert.equal(both.length, 2);
    assert.equal(both.filter((e) => e.errorDeclaration !== undefined).length, 1);
  });
});
