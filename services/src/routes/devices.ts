import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParam } from '../schemas.js';

const Device = Type.Object({
  deviceId: Type.String(),
  factoryMspId: Type.String(),
  model: Type.String(),
  serial: Type.String(),
  line: Type.String(),
  status: Type.String(),
  certificateFingerprint: Type.String(),
  certifiedUntil: Type.Union([Type.String(), Type.Null()]),
});

const DeviceDetail = Type.Intersect([
  Device,
  Type.Object({
    history: Type.Array(Type.Object({ txId: Type.String(), timestamp: Type.String(), status: Type.String() })),
  }),
]);

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { devices } = fastify.platform;
  fastify.addHook('onRequest', fastify.authenticate);
  const secured = { security: [{ bearer: [] }] };
  const params = IdParam('deviceId');

  fastify.post(
    '/devices',
    {
      preHandler: fastify.allow(['factory']),
      schema: {
        tags: ['devices'],
        summary: "Register a device: its CSR is signed by the factory's CA and the device is recorded on the ledger",
        ...secured,
        body: Type.Object(
          {
            deviceId: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
            model: Type.String({ minLength: 1, maxLength: 100 }),
            serial: Type.String({ minLength: 1, maxLength: 100 }),
            line: Type.String({ minLength: 1, maxLength: 100 }),
            csrPem: Type.String({ minLength: 100, maxLength: 8000 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ device: Device, certificatePem: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await devices.register(request.user, request.body)),
  );

  fastify.get(
    '/devices',
    {
      preHandler: fastify.allow(['factory', 'platform']),
      schema: {
        tags: ['devices'],
        ...secured,
        response: { 200: Type.Object({ items: Type.Array(Device) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await devices.list(request.user) }),
  );

  fastify.get(
    '/devices/:deviceId',
    {
      preHandler: fastify.allow(['factory', 'platform']),
      schema: { tags: ['devices'], ...secured, params, response: { 200: DeviceDetail, ...errorResponses } },
    },
    async (request) => devices.get(request.user, request.params.deviceId as string),
  );

  fastify.post(
    '/devices/:deviceId/certify',
    {
      preHandler: fastify.allow(['platform'], ['certifier']),
      schema: {
        tags: ['devices'],
        summary: 'Certify a device on the ledger (certifiers only)',
        ...secured,
        params,
        body: Type.Optional(
          Type.Object(
            {
              validUntil: Type.Optional(Type.String({ format: 'date-time' })),
              note: Type.Optional(Type.String({ maxLength: 1000 })),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Device, ...errorResponses },
      },
    },
    async (request) => devices.certify(request.user, request.params.deviceId as string, request.body ?? {}),
  );
};

export default routes;
