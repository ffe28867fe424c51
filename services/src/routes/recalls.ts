import { CodedError, ErrorCodes } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParam } from '../schemas.js';

/**
 * Recalls (services/src/epcis/recalls.ts): a brand opens one from a lot, a device and time window, or a failing
 * QC event; the recall's record is on the ledger; its scope exports as CSV and as an EPCIS query.
 */
const Recall = Type.Object({
  id: Type.String(),
  brandMsp: Type.String(),
  openedBy: Type.String(),
  start: Type.Object({
    kind: Type.String(),
    id: Type.String(),
    from: Type.Union([Type.String(), Type.Null()]),
    to: Type.Union([Type.String(), Type.Null()]),
  }),
  reason: Type.String(),
  status: Type.String({ description: 'OPEN, NOTIFIED, RETURNED, DESTROYED or CLOSED (the ledger record)' }),
  summary: Type.Record(Type.String(), Type.Unknown(), {
    description: 'the scope recorded on the ledger: start, lots, gtins, workOrders, counts',
  }),
  scopeHash: Type.String({ description: 'sha256 of the full scope (the CSV rows as canonical JSON)' }),
  workOrders: Type.Array(Type.String(), { description: 'the work orders the recall touches' }),
  ledger: Type.Object({ txId: Type.String(), blockNumber: Type.Integer() }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const RecallItem = Type.Object({
  epc: Type.String(),
  kind: Type.String(),
  lastLocation: Type.Union([Type.String(), Type.Null()]),
  lastLocationName: Type.Union([Type.String(), Type.Null()]),
  lastEventId: Type.Union([Type.String(), Type.Null()]),
  lastEventTime: Type.Union([Type.String(), Type.Null()]),
});
const params = IdParam('recallId');

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { recalls } = fastify.platform;
  fastify.addHook('onRequest', fastify.authenticate);
  const secured = { security: [{ bearer: [] }] };
  const tags = ['recalls'];

  fastify.post(
    '/recalls',
    {
      preHandler: fastify.allow(['brand']),
      schema: {
        tags,
        summary:
          'Open a recall from a lot, a device and time window, or a failing QC event: traced forward, recorded on the ledger',
        ...secured,
        body: Type.Object(
          {
            lot: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
            deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' })),
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            qcEvent: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
            reason: Type.String({ minLength: 1, maxLength: 1000 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Recall, ...errorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const starts = [b.lot, b.deviceId, b.qcEvent].filter((x) => x !== undefined).length;
      if (starts !== 1) {
        throw new CodedError(
          ErrorCodes.VALIDATION_FAILED,
          'name exactly one of lot, deviceId (with from, to), qcEvent',
          400,
        );
      }
      if (b.deviceId && (!b.from || !b.to)) {
        throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'a recall from a device needs from and to', 400);
      }
      const start = b.lot
        ? ({ kind: 'lot', lot: b.lot } as const)
        : b.deviceId
          ? ({
              kind: 'device',
              deviceId: b.deviceId,
              from: new Date(b.from as string),
              to: new Date(b.to as string),
            } as const)
          : ({ kind: 'qc', eventId: b.qcEvent as string } as const);
      return reply.status(201).send(await recalls.open(request.user, start, b.reason));
    },
  );

  fastify.get(
    '/recalls',
    {
      schema: {
        tags,
        summary:
          'Recalls the caller may see: a brand its own, financiers and the platform all, a factory those touching its work orders',
        ...secured,
        response: { 200: Type.Object({ items: Type.Array(Recall) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await recalls.list(request.user) }),
  );

  fastify.get(
    '/recalls/:recallId',
    {
      schema: {
        tags,
        summary: 'A recall, its status read from the ledger, and its affected identifiers with last known locations',
        ...secured,
        params,
        response: {
          200: Type.Object({
            recall: Recall,
            onLedger: Type.Record(Type.String(), Type.Unknown()),
            items: Type.Array(RecallItem),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { recall, items } = await recalls.items(request.user, request.params.recallId as string);
      const { onLedger, ...rest } = recall as typeof recall & { onLedger: Record<string, unknown> };
      return { recall: rest, onLedger, items };
    },
  );

  fastify.post(
    '/recalls/:recallId/status',
    {
      preHandler: fastify.allow(['brand']),
      schema: {
        tags,
        summary: 'Move the recall on (NOTIFIED, RETURNED, DESTROYED, CLOSED; forward only), on the ledger',
        ...secured,
        params,
        body: Type.Object(
          {
            status: Type.Union(['NOTIFIED', 'RETURNED', 'DESTROYED', 'CLOSED'].map((s) => Type.Literal(s))),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Recall, ...errorResponses },
      },
    },
    async (request) =>
      recalls.advance(
        request.user,
        request.params.recallId as string,
        request.body.status as 'NOTIFIED' | 'RETURNED' | 'DESTROYED' | 'CLOSED',
        request.body.note ?? '',
      ),
  );

  fastify.get(
    '/recalls/:recallId/scope.csv',
    {
      schema: {
        tags,
        summary: 'The recall scope as CSV: every identifier with its last known location',
        ...secured,
        params,
        produces: ['text/csv'],
        response: { 200: Type.String(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = await recalls.csv(request.user, request.params.recallId as string);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${request.params.recallId}-scope.csv"`)
        .send(body);
    },
  );

  fastify.get(
    '/recalls/:recallId/epcis-query',
    {
      schema: {
        tags,
        summary: 'The EPCIS query (GET /api/epcis/events parameters) that reproduces the recall scope',
        ...secured,
        params,
        response: {
          200: Type.Object({
            recallId: Type.String(),
            path: Type.String(),
            params: Type.Record(Type.String(), Type.String()),
            url: Type.String(),
            identifiers: Type.Integer(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => recalls.epcisQuery(request.user, request.params.recallId as string),
  );
};

export default routes;
