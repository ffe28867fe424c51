import { CodedError, ErrorCodes, OrgKinds, Roles } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { CaptureLimits, CaptureSchemaError, type ErrorBehaviour } from '../epcis/capture.js';
import { errorResponses } from '../schemas.js';

/**
 * EPCIS 2.0 capture interface (REST binding): `POST /epcis/capture` answers 202 with the capture-job resource
 * and its Location; `GET /epcis/capture/{captureID}` and `GET /epcis/capture` read the caller's org's jobs.
 * Brand and factory users with a managing role capture (and their org admins); the location rule per event is
 * in epcis/capture.ts.
 */
const CaptureJob = Type.Object({
  captureID: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
  running: Type.Boolean(),
  success: Type.Boolean(),
  captureErrorBehaviour: Type.Union([Type.Literal('rollback'), Type.Literal('proceed')]),
  createdAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  capturedBy: Type.String(),
  ownerMspId: Type.String(),
  eventCount: Type.Integer(),
  capturedCount: Type.Integer(),
  errors: Type.Array(
    Type.Object({
      index: Type.Integer({ description: "position in the document's eventList; -1 for the whole job" }),
      eventID: Type.Union([Type.String(), Type.Null()]),
      code: Type.String(),
      message: Type.String(),
    }),
  ),
});

const SchemaErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
  errors: Type.Optional(
    Type.Array(
      Type.Object({ path: Type.String({ description: 'JSON pointer into the document' }), message: Type.String() }),
    ),
  ),
});

const EPCIS_VERSION = '2.0.0';
const CAPTURE_ROLES = [Roles.admin, Roles.brandManager, Roles.factoryManager];

/** The headers every EPCIS answer carries (EPCIS 2.0 REST binding). */
function epcisHeaders(reply: FastifyReply): void {
  reply.header('GS1-EPCIS-Version', EPCIS_VERSION);
  reply.header('GS1-CBV-Version', EPCIS_VERSION);
  reply.header('GS1-EPCIS-Capture-Limit', String(CaptureLimits.events));
  reply.header('GS1-EPCIS-Capture-File-Size-Limit', String(CaptureLimits.bytes));
}

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { epcisCapture } = fastify.platform;
  const secured = { security: [{ bearer: [] }] };
  const gate = fastify.allow([OrgKinds.brand, OrgKinds.factory], CAPTURE_ROLES);

  // The document's exact bytes are what the job stores: JSON and JSON-LD bodies reach the handler as text.
  fastify.removeContentTypeParser(['application/json']);
  fastify.addContentTypeParser(
    ['application/json', 'application/ld+json'],
    { parseAs: 'string', bodyLimit: CaptureLimits.bytes },
    (_request, body, done) => done(null, body),
  );

  fastify.post(
    '/epcis/capture',
    {
      onRequest: [fastify.authenticate],
      preHandler: gate,
      bodyLimit: CaptureLimits.bytes,
      schema: {
        tags: ['epcis'],
        summary:
          'Capture an EPCISDocument (JSON or JSON-LD): checked against the EPCIS 2.0 schema now (400 with the schema paths), its events stored by a worker; 202 with the capture job and its Location',
        ...secured,
        headers: Type.Object({
          'gs1-epcis-version': Type.Optional(Type.String({ maxLength: 16 })),
          'gs1-cbv-version': Type.Optional(Type.String({ maxLength: 16 })),
          'gs1-capture-error-behaviour': Type.Optional(
            Type.Union([Type.Literal('rollback'), Type.Literal('proceed')], {
              description: 'rollback (default): all events or none; proceed: the valid ones',
            }),
          ),
        }),
        response: { 202: CaptureJob, 400: SchemaErrorResponse, ...omit400(errorResponses) },
      },
    },
    async (request, reply) => {
      epcisHeaders(reply);
      const version = request.headers['gs1-epcis-version'];
      if (version !== undefined && !/^2\.\d+(\.\d+)?$/.test(version)) {
        throw new CodedError(ErrorCodes.VALIDATION_FAILED, `GS1-EPCIS-Version ${version} is not supported (2.0.0)`);
      }
      if (typeof request.body !== 'string') {
        throw new CodedError(
          ErrorCodes.VALIDATION_FAILED,
          'the body must be an EPCISDocument (application/json or application/ld+json)',
        );
      }
      const behaviour = (request.headers['gs1-capture-error-behaviour'] ?? 'rollback') as ErrorBehaviour;
      try {
        const job = await epcisCapture.accept(request.user, request.body, behaviour);
        reply.header('location', `/api/epcis/capture/${job.captureID}`);
        return reply.status(202).send(job);
      } catch (err) {
        if (err instanceof CaptureSchemaError) {
          return reply.status(400).send({
            statusCode: 400,
            code: err.code,
            message: err.message,
            errors: err.problems.map((p) => ({ path: p.path, schemaPath: p.schemaPath, message: p.message })),
          });
        }
        throw err;
      }
    },
  );

  fastify.get(
    '/epcis/capture/:captureID',
    {
      onRequest: [fastify.authenticate],
      preHandler: gate,
      schema: {
        tags: ['epcis'],
        summary: "One capture job of the caller's org: running, succeeded or failed, with per-event errors",
        ...secured,
        params: Type.Object({ captureID: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }) }),
        response: { 200: CaptureJob, ...errorResponses },
      },
    },
    async (request, reply) => {
      epcisHeaders(reply);
      return epcisCapture.get(request.user, request.params.captureID);
    },
  );

  fastify.get(
    '/epcis/capture',
    {
      onRequest: [fastify.authenticate],
      preHandler: gate,
      schema: {
        tags: ['epcis'],
        summary: "The caller's org's capture jobs, newest first (page with `before` = the last createdAt)",
        ...secured,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
            before: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ captureJobs: Type.Array(CaptureJob) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      epcisHeaders(reply);
      return { captureJobs: await epcisCapture.list(request.user, request.query) };
    },
  );
};

function omit400<T extends Record<number, unknown>>(r: T): Omit<T, 400> {
  const { 400: _drop, ...rest } = r as T & { 400: unknown };
  return rest as Omit<T, 400>;
}

export default routes;
