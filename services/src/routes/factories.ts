import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, errorResponses } from '../schemas.js';

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const Names = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 });

const Profile = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    location: Type.Object(
      {
        city: Type.String({ minLength: 1, maxLength: 100 }),
        province: Type.Optional(Type.String({ maxLength: 100 })),
        lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
        lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
      },
      { additionalProperties: false },
    ),
    capabilities: Type.Object(
      { categories: Names, processes: Names, materials: Names },
      { additionalProperties: false },
    ),
    certificates: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 100 }),
          number: Type.Optional(Type.String({ maxLength: 100 })),
          validUntil: Day,
        },
        { additionalProperties: false },
      ),
      { maxItems: 50 },
    ),
    lines: Type.Array(
      Type.Object(
        {
          id: Type.String({ minLength: 1, maxLength: 100, description: 'the `line` devices are registered on' }),
          name: Type.Optional(Type.String({ maxLength: 200 })),
          unitsPerDay: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
          workDays: Type.Optional(
            Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
              maxItems: 7,
              uniqueItems: true,
              description: 'ISO weekdays, 1 = Monday; default Monday to Saturday',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
    shutdowns: Type.Array(
      Type.Object({ from: Day, to: Day, reason: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
      { maxItems: 100 },
    ),
    minBatch: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
    costCurve: Type.Array(
      Type.Object(
        {
          upToShare: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
          unitCostMinor: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10, description: 'marginal unit cost by share of weekly capacity, increasing' },
    ),
  },
  { additionalProperties: false },
);

const Quality = Type.Object({
  firstPassYield: Type.Union([Type.Number(), Type.Null()]),
  defectPpm: Type.Union([Type.Number(), Type.Null()]),
  inspections: Type.Integer(),
  unitsProduced: Type.Integer(),
  score: Type.Number(),
});

const ProfileView = Type.Object({
  mspId: Type.String(),
  version: Type.Integer(),
  updatedAt: Type.String(),
  profile: Profile,
  quality: Quality,
  lines: Type.Array(Type.Object({ id: Type.String(), certifiedDevices: Type.Integer() })),
  capacity: Type.Array(
    Type.Object({
      week: Type.String({ description: 'Monday of the week' }),
      units: Type.Integer({ description: 'all lines' }),
      certifiedUnits: Type.Integer({ description: 'lines with a certified device: what dispatch counts' }),
    }),
  ),
});

const MspParam = Type.Object({ mspId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }) });

/** Factory profiles: a factory edits its own; brands and the platform read them. Quality is computed, never sent. */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { factories } = fastify.platform;
  fastify.addHook('onRequest', fastify.authenticate);
  const secured = { security: [{ bearer: [] }] };

  fastify.get(
    '/factories',
    {
      preHandler: fastify.allow(['brand', 'platform']),
      schema: {
        tags: ['factories'],
        ...secured,
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                mspId: Type.String(),
                name: Type.Union([Type.String(), Type.Null()]),
                city: Type.Union([Type.String(), Type.Null()]),
                categories: Type.Array(Type.String()),
                quality: Quality,
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async () => ({ items: await factories.listFactories() }),
  );

  fastify.get(
    '/factories/:mspId/profile',
    {
      preHandler: fastify.allow(['brand', 'platform', 'factory']),
      schema: {
        tags: ['factories'],
        summary: 'A factory profile with its capacity calendar and its quality score from anchored QC events',
        ...secured,
        params: MspParam,
        response: { 200: ProfileView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const view = await factories.getProfile(request.user, request.params.mspId);
      return reply.header('etag', `"${view.version}"`).send(view);
    },
  );

  fastify.put(
    '/factories/:mspId/profile',
    {
      preHandler: fastify.allow(['factory']),
      schema: {
        tags: ['factories'],
        summary: "Replace the caller's own factory profile (If-Match: the version last read)",
        ...secured,
        params: MspParam,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String({ pattern: '^(W/)?"?[0-9]+"?$' })) }),
        body: Profile,
        response: { 200: ProfileView, ...errorResponses, 412: ErrorResponse },
      },
    },
    async (request, reply) => {
      const ifMatch = request.headers['if-match'];
      const view = await factories.putProfile(
        request.user,
        request.params.mspId,
        request.body,
        ifMatch === undefined ? undefined : Number(ifMatch.replace(/\D/g, '')),
      );
      await fastify.platform.dispatcher.retryWaiting('profile');
      return reply.header('etag', `"${view.version}"`).send(view);
    },
  );
};

export default routes;
