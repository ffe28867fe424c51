import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { demoTokens, startTestPlatform, type TestPlatform, waitFor } from './helpers.js';
import { certifiedDevicePerFactory } from './ingest-fixtures.js';

/** Orders after posting: versioned edits guarded by If-Match, cancellation, drafts, and what accepted work freezes. */
describe('order lifecycle', () => {
  let t: TestPlatform;
  const tokens: Record<string, string> = {};
  const as = (user: string) => ({ Authorization: `Bearer ${tokens[user]}` });
  const api = () => request(t.app.server);
  const due = new Date(Date.now() + 21 * 86400_000).toISOString().slice(0, 10);
  const body = {
    product: 'Crew sock',
    lines: [
      { sku: 'S-GRY-M', colour: 'grey', size: 'M', quantity: 600 },
      { sku: 'S-NVY-L', colour: 'navy', size: 'L', quantity: 400 },
    ],
    spec: { category: 'socks', requiredCertificates: ['OEKO-TEX 100'] },
    targetPriceMinor: 1250,
    currency: 'CNY',
    dueDate: due,
    shipTo: 'Hangzhou DC',
  };

  before(async () => {
    t = await startTestPlatform();
    Object.assign(tokens, await demoTokens(t, ['brand', 'factory1', 'factory2']));
    // Dispatch offers work only to factories with a certified device on a line.
    await certifiedDevicePerFactory(t, 'knit-01');
  });
  after(async () => {
    await t?.close();
  });

  const openOffers = async (orderId: string) => {
    const r = await api().get(`/api/orders/${orderId}`).set(as('brand')).expect(200);
    return r.body.offers.filter((o: { status: string }) => o.status === 'open');
  };

  test('an edit needs the current version, keeps the old one, withdraws open offers and re-dispatches', async () => {
    const posted = await api().post('/api/orders').set(as('brand')).send(body).expect(201);
    const id = posted.body.id;
    assert.equal(posted.body.version, 1);
    const [first] = await waitFor('an offer', async () =>
      (await openOffers(id)).length > 0 ? openOffers(id) : undefined,
    );

    const stale = await api()
      .patch(`/api/orders/${id}`)
      .set(as('brand'))
      .set('If-Match', '"7"')
      .send({ dueDate: due })
      .expect(412);
    assert.equal(stale.body.code, 'CONFLICT');
    const unknown = await api().patch(`/api/orders/${id}`).set(as('brand')).send({ discount: 5 }).expect(400);
    assert.equal(unknown.body.code, 'VALIDATION_FAILED');

    const edited = await api()
      .patch(`/api/orders/${id}`)
      .set(as('brand'))
      .set('If-Match', '"1"')
      .send({ lines: [{ sku: 'S-GRY-M', colour: 'grey', size: 'M', quantity: 800 }] })
      .expect(200);
    assert.equal(edited.body.version, 2);
    assert.equal(edited.body.totalQuantity, 800);
    assert.equal(edited.headers.etag, '"2"');

    const versions = await api().get(`/api/orders/${id}/versions`).set(as('brand')).expect(200);
    assert.equal(versions.body.items.length, 1);
    assert.equal(versions.body.items[0].order.totalQuantity, 1000, 'version 1 kept as it was');

    // The old offer cannot be accepted any more; a new one covers the new quantity.
    const factoryUser = first.factoryMspId === 'Factory1Org' ? 'factory1' : 'factory2';
    const late = await api().post(`/api/offers/${first.id}/accept`).set(as(factoryUser)).expect(409);
    assert.equal(late.body.code, 'OFFER_CLOSED');
    const fresh = await waitFor('a new offer', async () => {
      const offers = await openOffers(id);
      return offers.length > 0 ? offers : undefined;
    });
    assert.equal(
      fresh.reduce((s: number, o: { quantity: number }) => s + o.quantity, 0),
      800,
    );
    const history = await api().get(`/api/orders/${id}`).set(as('brand')).expect(200);
    assert.ok(history.body.history.some((h: { action: string }) => h.action === 'edited'));
  });

  test('cancel withdraws open offers; accepted work freezes the order', async () => {
    const a = (await api().post('/api/orders').set(as('brand')).send(body).expect(201)).body.id;
    await waitFor('an offer', async () => ((await openOffers(a)).length > 0 ? true : undefined));
    const cancelled = await api()
      .post(`/api/orders/${a}/cancel`)
      .set(as('brand'))
      .send({ reason: 'range dropped' })
      .expect(200);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.deepEqual(await openOffers(a), []);
    await api().patch(`/api/orders/${a}`).set(as('brand')).send({ shipTo: 'x' }).expect(409);

    const b = (await api().post('/api/orders').set(as('brand')).send(body).expect(201)).body.id;
    const [offer] = await waitFor('an offer', async () =>
      (await openOffers(b)).length > 0 ? openOffers(b) : undefined,
    );
    const user = offer.factoryMspId === 'Factory1Org' ? 'factory1' : 'factory2';
    await api().post(`/api/offers/${offer.id}/accept`).set(as(user)).expect(200);
    const frozen = await api().post(`/api/orders/${b}/cancel`).set(as('brand')).send({}).expect(409);
    assert.equal(frozen.body.code, 'CONFLICT');
  });

  test('a draft is not dispatched until posted', async () => {
    const { rows } = await t.platform.pool.query(
      `INSERT INTO orders (id, brand_msp, created_by, product, lines, spec, total_quantity, target_price_minor,
         currency, due_date, ship_to, status)
       VALUES ('ORD-DRAFT-1', 'BrandOrg', 'brand', 'Crew sock', $1, '{}', 500, 1250, 'CNY', $2, 'Hangzhou DC', 'draft')
       RETURNING id`,
      [JSON.stringify([{ sku: 'D1', quantity: 500 }]), due],
    );
    const id = rows[0].id;
    await t.platform.dispatcher.dispatchNow(id);
    assert.deepEqual(await openOffers(id), []);
    const posted = await api().post(`/api/orders/${id}/post`).set(as('brand')).expect(200);
    assert.equal(posted.body.status, 'posted');
    await waitFor('an offer', async () => ((await openOffers(id)).length > 0 ? true : undefined));
  });
});
