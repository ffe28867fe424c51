import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DeclineReasons, OfferStatuses, OrderStatuses, WorkOrderStatuses } from '../orders/orders-service.js';
import { ErrorResponse, errorResponses, IdParam, LedgerRef } from '../schemas.js';

const Line = Type.Object(
  {
    sku: Type.String({ minLength: 1, maxLength: 64 }),
    colour: Type.Optional(Type.String({ maxLength: 64 })),
    size: Type.Optional(Type.String({ maxLength: 32 })),
    quantity: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
  },
  { additionalProperties: false },
);

const Order = Type.Object({
  id: Type.String(),
  brandMspId: Type.String(),
  product: Type.String(),
  lines: Type.Array(Line),
  spec: Type.Record(Type.String(), Type.Unknown()),
  totalQuantity: Type.Integer(),
  targetPriceMinor: Type.Integer(),
  currency: Type.String(),
  dueDate: Type.String(),
  shipTo: Type.String(),
  status: Type.Enum(OrderStatuses),
  version: Type.Integer(),
  createdAt: Type.String(),
});

const Spec = Type.Object(
  {
    category: Type.Optional(Type.String({ maxLength: 100, description: 'product category factories must make' })),
    materials: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50 })),
    processes: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50 })),
    requiredCertificates: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50 })),
    notes: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);

const IfMatch = Type.Object({
  'if-match': Type.Optional(
    Type.String({ pattern: '^(W/)?"?[0-9]+"?$', description: 'the order version last read, e.g. "3"' }),
  ),
});
const versionOf = (h: string | undefined) => (h === undefined ? undefined : Number(h.replace(/\D/g, '')));
const withPrecondition = { ...errorResponses, 412: ErrorResponse } as const;

export const Offer = Type.Object({
  id: Type.String(),
  orderId: Type.String(),
  factoryMspId: Type.String(),
  product: Type.String(),
  quantity: Type.Integer(),
  lines: Type.Array(Line),
  priceMinor: Type.Integer(),
  currency: Type.String(),
  dueDate: Type.String(),
  status: Type.Enum(OfferStatuses),
  expiresAt: Type.String(),
  declineReason: Type.Union([Type.Enum(DeclineReasons), Type.Null()]),
  schedule: Type.Array(
    Type.Object({
      week: Type.String({ description: 'Monday of the production week' }),
      sku: Type.String(),
      colour: Type.Optional(Type.String()),
      size: Type.Optional(Type.String()),
      quantity: Type.Integer(),
    }),
  ),
  explanation: Type.Union([
    Type.Object({
      solver: Type.Object({
        status: Type.String(),
        objectiveMinor: Type.Number(),
        boundMinor: Type.Number(),
        millis: Type.Number(),
      }),
      factory: Type.Object({
        qualityScore: Type.Number(),
        firstPassYield: Type.Union([Type.Number(), Type.Null()]),
        defectPpm: Type.Union([Type.Number(), Type.Null()]),
        unitCostMinor: Type.Number(),
        minBatch: Type.Integer(),
      }),
      why: Type.String(),
      binding: Type.Array(Type.Object({ constraint: Type.String(), detail: Type.String() })),
      weeks: Type.Array(Type.Object({ week: Type.String(), quantity: Type.Integer(), late: Type.Boolean() })),
      alternatives: Type.Array(
        Type.Object({ factoryMspId: Type.String(), reason: Type.String(), detail: Type.String() }),
      ),
    }),
    Type.Null(),
  ]),
});

export const WorkOrder = Type.Object({
  id: Type.String(),
  orderId: Type.String(),
  offerId: Type.String(),
  brandMspId: Type.String(),
  factoryMspId: Type.String(),
  product: Type.String(),
  quantity: Type.Integer(),
  status: Type.Enum(WorkOrderStatuses),
  producedUnits: Type.Integer(),
  termsHash: Type.String(),
  ledger: LedgerRef,
  acceptedAt: Type.String(),
});

const OrderDetail = Type.Intersect([
  Order,
  Type.Object({
    offers: Type.Array(Offer),
    workOrders: Type.Array(WorkOrder),
    history: Type.Array(
      Type.Object({ at: Type.String(), actor: Type.String(), action: Type.String(), data: Type.Unknown() }),
    ),
  }),
]);

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { orders } = fastify.platform;
  fastify.addHook('onRequest', fastify.authenticate);
  const secured = { security: [{ bearer: [] }] };

  fastify.post(
    '/orders',
    {
      preHandler: fastify.allow(['brand']),
      schema: {
        tags: ['orders'],
        summary: 'Post a custom order; it is dispatched to factories at once',
        ...secured,
        body: Type.Object(
          {
            product: Type.String({ minLength: 1, maxLength: 200 }),
            lines: Type.Array(Line, { minItems: 1, maxItems: 500 }),
            spec: Type.Optional(Spec),
            targetPriceMinor: Type.Integer({ minimum: 0, description: 'unit price in minor units (fen)' }),
            currency: Type.String({ pattern: '^[A-Z]{3}$' }),
            dueDate: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
            shipTo: Type.String({ minLength: 1, maxLength: 300 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Order, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await orders.createOrder(request.user, request.body)),
  );

  fastify.get(
    '/orders',
    {
      preHandler: fastify.allow(['brand', 'platform']),
      schema: {
        tags: ['orders'],
        ...secured,
        response: { 200: Type.Object({ items: Type.Array(Order) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await orders.listOrders(request.user) }),
  );

  fastify.get(
    '/orders/:orderId',
    {
      preHandler: fastify.allow(['brand', 'platform']),
      schema: {
        tags: ['orders'],
        ...secured,
        params: IdParam('orderId'),
        response: { 200: OrderDetail, ...errorResponses },
      },
    },
    async (request) => orders.getOrder(request.user, request.params.orderId as string),
  );

  fastify.patch(
    '/orders/:orderId',
    {
      preHandler: fastify.allow(['brand']),
      schema: {
        tags: ['orders'],
        summary:
          'Edit an order before any of it is accepted: a new version; open offers are withdrawn and it is re-dispatched',
        ...secured,
        params: IdParam('orderId'),
        headers: IfMatch,
        body: Type.Object(
          {
            lines: Type.Optional(Type.Array(Line, { minItems: 1, maxItems: 500 })),
            spec: Type.Optional(Spec),
            targetPriceMinor: Type.Optional(Type.Integer({ minimum: 0 })),
            dueDate: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
            shipTo: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Order, ...withPrecondition },
      },
    },
    async (request, reply) => {
      const order = await orders.updateOrder(
        request.user,
        request.params.orderId as string,
        request.body,
        versionOf(request.headers['if-match']),
      );
      return reply.header('etag', `"${order.version}"`).send(order);
    },
  );

  fastify.post(
    '/orders/:orderId/post',
    {
      preHandler: fastify.allow(['brand']),
      schema: {
        tags: ['orders'],
        summary: 'Post a draft order: it is dispatched from now on',
        ...secured,
        params: IdParam('orderId'),
        headers: IfMatch,
        response: { 200: Order, ...withPrecondition },
      },
    },
    async (request) =>
      orders.postOrder(request.user, request.params.orderId as string, versionOf(request.headers['if-match'])),
  );

  fastify.post(
    '/orders/:orderId/cancel',
    {
      preHandler: fastify.allow(['brand']),
      schema: {
        tags: ['orders'],
        summary: 'Cancel an order nothing of which is accepted yet; open offers are withdrawn',
        ...secured,
        params: IdParam('orderId'),
        headers: IfMatch,
        body: Type.Optional(
          Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }),
        ),
        response: { 200: Order, ...withPrecondition },
      },
    },
    async (request) => {
      const order = await orders.cancelOrder(
        request.user,
        request.params.orderId as string,
        request.body?.reason,
        versionOf(request.headers['if-match']),
      );
      // Its withdrawn offers gave capacity back.
      await fastify.platform.dispatcher.retryWaiting('cancelled');
      return order;
    },
  );

  fastify.post(
    '/orders/:orderId/close',
    {
      preHandler: fastify.allow(['brand']),
      schema: {
        tags: ['orders'],
        summary: 'Close a delivered order (the brand): the end of its lifecycle',
        ...secured,
        params: IdParam('orderId'),
        response: { 200: Order, ...errorResponses },
      },
    },
    async (request) => {
      await fastify.platform.milestones.closeOrder(request.user, request.params.orderId as string);
      return orders.getOrder(request.user, request.params.orderId as string);
    },
  );

  fastify.get(
    '/orders/:orderId/versions',
    {
      preHandler: fastify.allow(['brand', 'platform']),
      schema: {
        tags: ['orders'],
        summary: 'Earlier versions of an order, each as it was before an edit',
        ...secured,
        params: IdParam('orderId'),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                version: Type.Integer(),
                order: Order,
                changedBy: Type.String(),
                changedAt: Type.String(),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({ items: await orders.listVersions(request.user, request.params.orderId as string) }),
  );

  fastify.get(
    '/offers',
    {
      preHandler: fastify.allow(['factory']),
      schema: {
        tags: ['offers'],
        ...secured,
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Union(OfferStatuses.map((s) => Type.Literal(s)))),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Offer) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await orders.listOffers(request.user, request.query.status) }),
  );

  fastify.post(
    '/offers/:offerId/accept',
    {
      preHandler: fastify.allow(['factory']),
      schema: {
        tags: ['offers'],
        summary: 'Accept an offer; the work order is committed on the ledger',
        ...secured,
        params: IdParam('offerId'),
        response: { 200: Type.Object({ offer: Offer, workOrder: WorkOrder }), ...errorResponses },
      },
    },
    async (request) => orders.acceptOffer(request.user, request.params.offerId as string),
  );

  fastify.post(
    '/offers/:offerId/decline',
    {
      preHandler: fastify.allow(['factory']),
      schema: {
        tags: ['offers'],
        summary: 'Decline an offer with a reason; the remainder is re-dispatched',
        ...secured,
        params: IdParam('offerId'),
        body: Type.Object(
          {
            reason: Type.Union(DeclineReasons.map((r) => Type.Literal(r))),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ offer: Offer }), ...errorResponses },
      },
    },
    async (request) =>
      orders.declineOffer(request.user, request.params.offerId as string, request.body.reason, request.body.note),
  );
};

export default routes;
