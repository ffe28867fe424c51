import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParam } from '../schemas.js';

/**
 * Product identity on GS1 keys (services/src/epcis/identity-service.ts): the caller's org's company prefix,
 * GTINs for a brand's SKUs, the org's sites, lines and warehouses (GLN / SGLN), SSCCs for cartons and pallets,
 * and the lots a factory starts a work order under.
 */
const Prefix = Type.Object({ mspId: Type.String(), companyPrefix: Type.Union([Type.String(), Type.Null()]) });
const Product = Type.Object({ gtin: Type.String(), sku: Type.String(), name: Type.String(), uri: Type.String() });
const Location = Type.Object({
  uri: Type.String({ description: 'canonical GS1 Digital Link of the GLN (with /254/ extension for an SGLN)' }),
  gln: Type.String(),
  extension: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  parentUri: Type.Union([Type.String(), Type.Null()]),
  line: Type.Union([Type.String(), Type.Null()]),
});
const Lot = Type.Object({
  gtin: Type.String(),
  lot: Type.String(),
  quantity: Type.Integer(),
  serialFrom: Type.Integer(),
  serialTo: Type.Integer(),
  nextSerial: Type.Integer({ description: 'the next serial a commissioning event assigns' }),
  uri: Type.String({ description: 'the lot as a GS1 Digital Link (/01/{gtin}/10/{lot})' }),
  firstSerialUri: Type.String(),
});
const Cset82 = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '^[!-"%-?A-Z_a-z]+$' });

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { gs1 } = fastify.platform;
  fastify.addHook('onRequest', fastify.authenticate);
  const secured = { security: [{ bearer: [] }] };
  const tags = ['gs1'];

  fastify.get(
    '/gs1/company-prefix',
    {
      schema: {
        tags,
        summary: "The caller's org's GS1 company prefix",
        ...secured,
        response: { 200: Prefix, ...errorResponses },
      },
    },
    async (request) => ({ mspId: request.user.mspId, companyPrefix: (await gs1.prefixOf(request.user.mspId)) ?? null }),
  );

  fastify.put(
    '/gs1/company-prefix',
    {
      preHandler: fastify.allow(['brand', 'factory', 'platform']),
      schema: {
        tags,
        summary: "Set the caller's org's GS1 company prefix (fixed once keys are issued from it)",
        ...secured,
        body: Type.Object(
          { companyPrefix: Type.String({ pattern: '^[0-9]{6,12}$' }) },
          { additionalProperties: false },
        ),
        response: { 200: Prefix, ...errorResponses },
      },
    },
    async (request) => gs1.setCompanyPrefix(request.user, request.body.companyPrefix),
  );

  fastify.get(
    '/gs1/products',
    {
      preHandler: fastify.allow(['brand']),
      schema: {
        tags,
        summary: "The brand's SKUs with their GTINs",
        ...secured,
        response: { 200: Type.Object({ items: Type.Array(Product) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await gs1.listProducts(request.user) }),
  );

  fastify.post(
    '/gs1/products',
    {
      preHandler: fastify.allow(['brand']),
      schema: {
        tags,
        summary: 'Give a SKU its GTIN: the one sent (check digit and prefix checked) or the next free one',
        ...secured,
        body: Type.Object(
          {
            sku: Type.String({ minLength: 1, maxLength: 100 }),
            gtin: Type.Optional(Type.String({ pattern: '^[0-9]{8,14}$' })),
            name: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Product, ...errorResponses },
      },
    },
    async (request) => gs1.assignGtin(request.user, request.body),
  );

  fastify.get(
    '/gs1/locations',
    {
      schema: {
        tags,
        summary: "The org's sites, lines and warehouses",
        ...secured,
        response: { 200: Type.Object({ items: Type.Array(Location) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await gs1.listLocations(request.user) }),
  );

  fastify.post(
    '/gs1/locations',
    {
      preHandler: fastify.allow(['brand', 'factory', 'platform']),
      schema: {
        tags,
        summary: 'Register a site, line or warehouse (a GLN of the org, or an SGLN extension of one)',
        ...secured,
        body: Type.Object(
          {
            kind: Type.Union([
              Type.Literal('site'),
              Type.Literal('line'),
              Type.Literal('warehouse'),
              Type.Literal('store'),
              Type.Literal('other'),
            ]),
            name: Type.Optional(Type.String({ maxLength: 200 })),
            gln: Type.Optional(Type.String({ pattern: '^[0-9]{13}$' })),
            extension: Type.Optional(Cset82(20)),
            parentUri: Type.Optional(Type.String({ maxLength: 200 })),
            line: Type.Optional(
              Type.String({ minLength: 1, maxLength: 100, description: 'the `line` its devices report' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Location, ...errorResponses },
      },
    },
    async (request) => gs1.addLocation(request.user, request.body),
  );

  fastify.post(
    '/gs1/sscc',
    {
      preHandler: fastify.allow(['brand', 'factory', 'platform']),
      schema: {
        tags,
        summary: "Allocate SSCCs for cartons or pallets from the org's prefix",
        ...secured,
        body: Type.Object({ count: Type.Integer({ minimum: 1, maximum: 1000 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ items: Type.Array(Type.Object({ sscc: Type.String(), uri: Type.String() })) }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({ items: await gs1.allocateSscc(request.user, request.body.count) }),
  );

  fastify.get(
    '/work-orders/:workOrderId/lots',
    {
      schema: {
        tags,
        summary: "The lots and serial ranges a work order's units carry",
        ...secured,
        params: IdParam('workOrderId'),
        response: { 200: Type.Object({ items: Type.Array(Lot) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await gs1.lots(request.user, request.params.workOrderId) }),
  );

  fastify.post(
    '/work-orders/:workOrderId/start',
    {
      preHandler: fastify.allow(['factory']),
      schema: {
        tags,
        summary: 'Start production: allocate a lot and serials per SKU, recorded on the ledger (idempotent)',
        ...secured,
        params: IdParam('workOrderId'),
        response: { 200: Type.Object({ items: Type.Array(Lot) }), ...errorResponses },
      },
    },
    async (request) => {
      const started = await gs1.start(request.user, request.params.workOrderId);
      if (started.outboxId !== null) await fastify.platform.outbox.processEntry(started.outboxId).catch(() => {});
      return { items: started.lots };
    },
  );
};

export default routes;
