import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../schemas.js';

/**
 * The trace graph (services/src/epcis/trace-graph.ts): `GET /api/trace/{epc}` where {epc} is a URL-encoded EPC
 * URN or GS1 Digital Link URI, or a Digital Link path (`/api/trace/01/{gtin}/21/{serial}`), a device URI or a
 * line's SGLN (forward only). Same visibility as the EPCIS query: what the caller may not see is not there.
 */
const EventRef = Type.Object({
  eventID: Type.String(),
  eventType: Type.String(),
  action: Type.Union([Type.String(), Type.Null()]),
  bizStep: Type.Union([Type.String(), Type.Null()]),
  disposition: Type.Union([Type.String(), Type.Null()]),
  eventTime: Type.String(),
  readPoint: Type.Union([Type.String(), Type.Null()]),
  bizLocation: Type.Union([Type.String(), Type.Null()]),
  proof: Type.String({ description: 'the event proof bundle route' }),
});
const Node = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  label: Type.String(),
  uri: Type.Optional(Type.String()),
  events: Type.Array(Type.String(), { description: 'eventIDs, details in `events`' }),
  data: Type.Record(Type.String(), Type.Unknown()),
  lastLocation: Type.Optional(
    Type.Union([
      Type.Object({
        uri: Type.String(),
        name: Type.Optional(Type.String()),
        eventID: Type.String(),
        eventTime: Type.String(),
      }),
      Type.Null(),
    ]),
  ),
});
const Edge = Type.Object({
  from: Type.String(),
  to: Type.String(),
  kind: Type.String(),
  eventID: Type.Optional(Type.String()),
  since: Type.Optional(Type.String()),
  until: Type.Optional(Type.String()),
});
export const TraceGraphSchema = Type.Object({
  root: Type.String(),
  direction: Type.String(),
  window: Type.Object({ from: Type.Union([Type.String(), Type.Null()]), to: Type.Union([Type.String(), Type.Null()]) }),
  nodes: Type.Array(Node),
  edges: Type.Array(Edge),
  events: Type.Record(Type.String(), EventRef),
  truncated: Type.Boolean(),
  queries: Type.Integer(),
});

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { traceGraph } = fastify.platform;
  fastify.get(
    '/trace/*',
    {
      onRequest: [fastify.authenticate],
      schema: {
        tags: ['trace'],
        summary:
          'Trace graph from a serial, lot or SSCC (backward: work order, factory, line, devices, QC, inputs, cartons, shipments) or forward from a lot, device or line in [from, to): every lot, serial, carton and shipment affected with its last known location',
        security: [{ bearer: [] }],
        params: Type.Object({ '*': Type.String({ minLength: 1, maxLength: 1024 }) }),
        querystring: Type.Object(
          {
            direction: Type.Optional(Type.Union([Type.Literal('backward'), Type.Literal('forward')])),
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: TraceGraphSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { direction, from, to } = request.query;
      return traceGraph.trace(request.user, request.params['*'], {
        direction: direction ?? 'backward',
        ...(from ? { from: new Date(from) } : {}),
        ...(to ? { to: new Date(to) } : {}),
      });
    },
  );
};

export default routes;
