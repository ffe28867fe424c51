import { DeviceStatuses } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BULK_MAX_ROWS, BulkJobStates, BulkRowStatuses, parseFleetCsv } from '../iot/device-bulk.js';
import { DeviceHistoryStatuses } from '../iot/devices-service.js';
import { errorResponses, IdParam } from '../schemas.js';

const Device = Type.Object({
  deviceId: Type.String(),
  factoryMspId: Type.String(),
  model: Type.String(),
  serial: Type.String(),
  line: Type.String(),
  status: Type.Enum(DeviceStatuses),
  certificateFingerprint: Type.String(),
  certifiedUntil: Type.Union([Type.String(), Type.Null()]),
  keyVersion: Type.Integer(),
});

const DeviceDetail = Type.Intersect([
  Device,
  Type.Object({
    history: Type.Array(
      Type.Object({
        txId: Type.String(),
        timestamp: Type.String(),
        status: Type.Enum(DeviceHistoryStatuses),
        action: Type.Union([Type.String(), Type.Null()]),
        by: Type.Union([Type.String(), Type.Null()]),
        note: Type.String(),
        keyVersion: Type.Integer(),
        certificateFingerprint: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
  }),
]);

const DeviceWithCertificate = Type.Object({ device: Device, certificatePem: Type.String() });

const Challenge = Type.Object({
  challengeId: Type.String(),
  deviceId: Type.String(),
  challenge: Type.String({ description: 'The exact text the device signs (ES256, r||s, base64url)' }),
  issuedAt: Type.String(),
  expiresAt: Type.String(),
});

const CertificationAnswer = Type.Object({
  deviceId: Type.String(),
  at: Type.String(),
  certified: Type.Boolean(),
  status: Type.Union([Type.String(), Type.Null()]),
  validUntil: Type.Union([Type.String(), Type.Null()]),
});

const DEVICE_ID = { pattern: '^[A-Za-z0-9._-]{1,64}$' };
const Note = Type.Object({ note: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false });

const BulkRow = Type.Object(
  {
    deviceId: Type.String({ maxLength: 128 }),
    model: Type.String({ maxLength: 200 }),
    serial: Type.String({ maxLength: 200 }),
    line: Type.String({ maxLength: 200 }),
    csrPem: Type.String({ maxLength: 8000 }),
  },
  { additionalProperties: false },
);

const BulkReport = Type.Object({
  jobId: Type.String(),
  factoryMspId: Type.String(),
  state: Type.Enum(BulkJobStates),
  total: Type.Integer(),
  done: Type.Integer(),
  failed: Type.Integer(),
  pending: Type.Integer(),
  progress: Type.Integer(),
  createdAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  rows: Type.Array(
    Type.Object({
      row: Type.Integer(),
      deviceId: Type.String(),
      status: Type.Enum(BulkRowStatuses),
      code: Type.Union([Type.String(), Type.Null()]),
      message: Type.Union([Type.String(), Type.Null()]),
      certificateFingerprint: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { devices, deviceBulk } = fastify.platform;
  fastify.addHook('onRequest', fastify.authenticate);
  // Fleet files come as CSV; the parser lives in this plugin only (encapsulated).
  fastify.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 20 * 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );
  const secured = { security: [{ bearer: [] }] };
  const params = IdParam('deviceId');
  const certifierOnly = fastify.allow(['platform'], ['certifier']);

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
            deviceId: Type.String(DEVICE_ID),
            model: Type.String({ minLength: 1, maxLength: 100 }),
            serial: Type.String({ minLength: 1, maxLength: 100 }),
            line: Type.String({ minLength: 1, maxLength: 100 }),
            csrPem: Type.String({ minLength: 100, maxLength: 8000 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: DeviceWithCertificate, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await devices.register(request.user, request.body)),
  );

  fastify.post(
    '/devices/bulk',
    {
      preHandler: fastify.allow(['factory']),
      bodyLimit: 20 * 1024 * 1024,
      schema: {
        tags: ['devices'],
        summary:
          'Register a fleet: text/csv with header deviceId,model,serial,line,csrPem (PEM quoted), or JSON { rows }. Runs as a job',
        ...secured,
        body: Type.Union([
          Type.String({ minLength: 1 }),
          Type.Object(
            { rows: Type.Array(BulkRow, { minItems: 1, maxItems: BULK_MAX_ROWS }) },
            { additionalProperties: false },
          ),
        ]),
        response: { 202: BulkReport, ...errorResponses },
      },
    },
    async (request, reply) => {
      const rows = typeof request.body === 'string' ? parseFleetCsv(request.body) : request.body.rows;
      const report = await deviceBulk.submit(request.user, rows);
      return reply.status(202).header('location', `/api/devices/bulk/${report.jobId}`).send(report);
    },
  );

  fastify.get(
    '/devices/bulk/:jobId',
    {
      preHandler: fastify.allow(['factory', 'platform']),
      schema: {
        tags: ['devices'],
        summary: "A fleet upload's progress and row-level report",
        ...secured,
        params: Type.Object({ jobId: Type.String({ pattern: '^bulk-[0-9a-f-]{36}$' }) }),
        response: { 200: BulkReport, ...errorResponses },
      },
    },
    async (request) => deviceBulk.report(request.user, request.params.jobId),
  );

  fastify.post(
    '/devices/bulk/:jobId/retry',
    {
      preHandler: fastify.allow(['factory']),
      schema: {
        tags: ['devices'],
        summary: 'Run a fleet upload again: finished rows are skipped, issued certificates reused',
        ...secured,
        params: Type.Object({ jobId: Type.String({ pattern: '^bulk-[0-9a-f-]{36}$' }) }),
        response: { 202: BulkReport, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(202).send(await deviceBulk.retry(request.user, request.params.jobId)),
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
    '/devices/:deviceId/challenges',
    {
      preHandler: certifierOnly,
      schema: {
        tags: ['devices'],
        summary: 'Issue a single-use proof-of-possession challenge for the device to sign (certifiers only)',
        ...secured,
        params,
        response: { 201: Challenge, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await devices.issueChallenge(request.user, request.params.deviceId as string)),
  );

  fastify.post(
    '/devices/:deviceId/certify',
    {
      preHandler: certifierOnly,
      schema: {
        tags: ['devices'],
        summary:
          "Certify a device on the ledger with its signature over a fresh challenge, checked against the ledger's key",
        ...secured,
        params,
        body: Type.Object(
          {
            challengeId: Type.String({ minLength: 1, maxLength: 64 }),
            signature: Type.String({ pattern: '^[A-Za-z0-9_-]{80,90}$', description: 'ES256 r||s, base64url' }),
            validUntil: Type.Optional(Type.String({ format: 'date-time' })),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Device, ...errorResponses },
      },
    },
    async (request) => devices.certify(request.user, request.params.deviceId as string, request.body),
  );

  for (const [action, summary] of [
    ['suspend', 'Suspend a certified device, e.g. recalibration due (certifiers only)'],
    ['reactivate', 'Reactivate a suspended device (certifiers only)'],
    ['revoke', 'Revoke a device for good, e.g. tampering (certifiers only)'],
  ] as const) {
    fastify.post(
      `/devices/:deviceId/${action}`,
      {
        preHandler: certifierOnly,
        // The note is optional, and so is the whole body: a bare POST is a valid request.
        preValidation: async (request) => {
          request.body ??= {};
        },
        schema: {
          tags: ['devices'],
          summary,
          ...secured,
          params,
          body: Note,
          response: { 200: Device, ...errorResponses },
        },
      },
      async (request) => devices[action](request.user, request.params.deviceId as string, request.body),
    );
  }

  fastify.post(
    '/devices/:deviceId/rotate-key',
    {
      preHandler: fastify.allow(['factory']),
      schema: {
        tags: ['devices'],
        summary:
          "Replace the device's key (owning factory): a new certificate from the factory CA; the device must be re-certified",
        ...secured,
        params,
        body: Type.Object(
          {
            csrPem: Type.String({ minLength: 100, maxLength: 8000 }),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: DeviceWithCertificate, ...errorResponses },
      },
    },
    async (request) => devices.rotateKey(request.user, request.params.deviceId as string, request.body),
  );

  fastify.get(
    '/devices/:deviceId/certified-at',
    {
      preHandler: fastify.allow(['factory', 'platform', 'brand', 'finance']),
      schema: {
        tags: ['devices'],
        summary: 'Was the device certified at this time? Answered by the chaincode from the ledger history',
        ...secured,
        params,
        querystring: Type.Object({ time: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
        response: { 200: CertificationAnswer, ...errorResponses },
      },
    },
    async (request) => devices.certifiedAt(request.user, request.params.deviceId as string, request.query.time),
  );
};

export default routes;
