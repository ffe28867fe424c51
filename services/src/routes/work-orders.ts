import { Milestones } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParam } from '../schemas.js';
import { ProofBundleSchema } from '../trace/proof-bundle.js';
import { WorkOrder } from './orders.js';

const DeviceEvent = Type.Object({
  deviceId: Type.String(),
  seq: Type.Integer(),
  eventTime: Type.String(),
  type: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
  batchId: Type.Union([Type.String(), Type.Null()]),
  receivedAt: Type.String(),
});

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { orders, trace, milestones } = fastify.platform;
  fastify.addHook('onRequest', fastify.authenticate);
  const secured = { security: [{ bearer: [] }] };
  const params = IdParam('workOrderId');

  fastify.get(
    '/work-orders',
    {
      schema: {
        tags: ['work orders'],
        ...secured,
        response: { 200: Type.Object({ items: Type.Array(WorkOrder) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await orders.listWorkOrders(request.user) }),
  );

  fastify.get(
    '/work-orders/:workOrderId',
    { schema: { tags: ['work orders'], ...secured, params, response: { 200: WorkOrder, ...errorResponses } } },
    async (request) => orders.getWorkOrder(request.user, request.params.workOrderId as string),
  );

  fastify.get(
    '/work-orders/:workOrderId/events',
    {
      schema: {
        tags: ['work orders'],
        ...secured,
        params,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(DeviceEvent) }), ...errorResponses },
      },
    },
    async (request) => {
      const wo = await orders.getWorkOrder(request.user, request.params.workOrderId as string);
      return { items: await trace.events(wo.id, request.query.limit ?? 200) };
    },
  );

  fastify.get(
    '/work-orders/:workOrderId/production',
    {
      schema: {
        tags: ['work orders'],
        summary: 'Units produced per hour (or minute), from device production counts',
        ...secured,
        params,
        querystring: Type.Object(
          { bucket: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('minute')])) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ series: Type.Array(Type.Object({ hour: Type.String(), units: Type.Integer() })) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const wo = await orders.getWorkOrder(request.user, request.params.workOrderId as string);
      return { series: await trace.production(wo.id, request.query.bucket) };
    },
  );

  fastify.get(
    '/work-orders/:workOrderId/proof',
    {
      schema: {
        tags: ['proofs'],
        summary:
          'Proof bundle that proves itself offline: full (a page of events, or one batch) or summary (every anchor with its committed totals, plus a sample of events)',
        ...secured,
        params,
        querystring: Type.Object(
          {
            form: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('summary')])),
            offset: Type.Optional(Type.Integer({ minimum: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
            batchId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            sample: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ProofBundleSchema, ...errorResponses },
      },
    },
    async (request) => {
      const wo = await orders.getWorkOrder(request.user, request.params.workOrderId as string);
      return trace.buildProofBundle(wo.id, request.query);
    },
  );

  const Milestone = Type.Object({
    milestone: Type.String(),
    recordedBy: Type.String(),
    evidence: Type.Record(Type.String(), Type.Unknown()),
    txId: Type.String(),
    blockNumber: Type.Integer(),
    recordedAt: Type.String(),
  });

  fastify.post(
    '/work-orders/:workOrderId/milestones',
    {
      preHandler: fastify.allow(['factory', 'brand']),
      schema: {
        tags: ['work orders'],
        summary:
          'Record a milestone on the ledger: PRODUCED, QC_PASSED, SHIPPED (factory; production and QC proven by anchored events), DELIVERED (brand)',
        ...secured,
        params,
        body: Type.Object(
          {
            milestone: Type.Union(Milestones.map((m) => Type.Literal(m))),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Milestone, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await milestones.record(
            request.user,
            request.params.workOrderId as string,
            request.body.milestone,
            request.body,
          ),
        ),
  );

  fastify.get(
    '/work-orders/:workOrderId/milestones',
    {
      schema: {
        tags: ['work orders'],
        ...secured,
        params,
        response: { 200: Type.Object({ items: Type.Array(Milestone) }), ...errorResponses },
      },
    },
    async (request) => {
      const wo = await orders.getWorkOrder(request.user, request.params.workOrderId as string);
      return { items: await milestones.list(wo.id) };
    },
  );
};

export default routes;
