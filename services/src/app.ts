import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import type { Platform } from './platform.js';
import auth from './plugins/auth.js';
import errorHandler from './plugins/error-handler.js';
import operatorEndpoints from './plugins/operator-endpoints.js';
import routeLimits from './plugins/route-limits.js';
import securityHeaders from './plugins/security-headers.js';
import authRoutes from './routes/auth.js';
import demandRoutes from './routes/demand.js';
import deviceRoutes from './routes/devices.js';
import epcisCaptureRoutes from './routes/epcis-capture.js';
import epcisProofRoutes from './routes/epcis-proof.js';
import epcisQueryRoutes from './routes/epcis-query.js';
import factoryRoutes from './routes/factories.js';
import gs1Routes from './routes/gs1.js';
import healthRoutes from './routes/health.js';
import ledgerRoutes from './routes/ledger.js';
import orderRoutes from './routes/orders.js';
import recallRoutes from './routes/recalls.js';
import resolverRoutes, { publicRoutes } from './routes/resolver.js';
import traceRoutes from './routes/trace.js';
import traceGraphRoutes from './routes/trace-graph.js';
import userRoutes from './routes/users.js';
import workOrderRoutes from './routes/work-orders.js';

declare module 'fastify' {
  interface FastifyInstance {
    platform: Platform;
  }
}

/**
 * Builds the HTTP app on an opened platform. `server.ts` only boots it, so the
 * tests build exactly the same app. External plugins first, then ours; each
 * route file is an encapsulated plugin with TypeBox schemas for every input and
 * response.
 */
export interface BuildAppOptions {
  /** Sees every route as it is added (the authorisation matrix test lists them this way). */
  readonly onRoute?: (route: RouteOptions) => void;
}

export async function buildApp(platform: Platform, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: platform.logger as FastifyBaseLogger,
    // Unknown fields are rejected, not silently dropped: a typo must not change meaning.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    bodyLimit: 1024 * 1024,
    // Path parameters carry EPCIS identifiers (eventIDs, EPCs as URL-encoded URN or Digital Link), which may be
    // longer than the router's default 100 characters; the routes' own schemas bound them.
    routerOptions: { maxParamLength: 2048 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('platform', platform);
  const { config } = platform;
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  await app.register(securityHeaders);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'C2M Network platform API',
        version: '1.0.0',
        description: 'Orders and dispatch, devices, traceability and proofs of the C2M Network.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  // The explorer and its document: on in demo and development, off in production unless API_DOCS=1.
  if (config.docs) {
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
    });
  }
  await app.register(errorHandler);
  // These three add onRoute hooks, so they come before every route.
  await app.register(auth, {
    secret: Buffer.from(platform.identity.apiTokenSecret()),
    sessions: platform.auth.sessions,
    accessTokenTtlSec: config.accessTokenTtlSec,
  });
  await app.register(operatorEndpoints, { metricsToken: config.metricsToken });
  await app.register(routeLimits, {
    redis: platform.auth.redis,
    prefix: config.redisPrefix,
    loginPerMinute: config.loginRatePerMinute,
    proofVerifyPerMinute: config.proofVerifyRatePerMinute,
    proofVerifyBodyLimit: config.proofVerifyBodyLimit,
  });

  await app.register(healthRoutes);
  // The GS1 Digital Link resolver lives at the root, where a product's QR code points.
  await app.register(resolverRoutes);
  await app.register(
    async (api) => {
      await api.register(authRoutes);
      await api.register(userRoutes);
      await api.register(orderRoutes);
      await api.register(factoryRoutes);
      await api.register(workOrderRoutes);
      await api.register(deviceRoutes);
      await api.register(traceRoutes);
      await api.register(ledgerRoutes);
      await api.register(demandRoutes);
      await api.register(gs1Routes);
      await api.register(traceGraphRoutes);
      await api.register(recallRoutes);
      await api.register(publicRoutes);
      await api.register(epcisCaptureRoutes);
      await api.register(epcisProofRoutes);
      await api.register(epcisQueryRoutes);
    },
    { prefix: '/api' },
  );

  const portals = existsSync(platform.config.portalsDir);
  if (portals) await app.register(fastifyStatic, { root: platform.config.portalsDir, wildcard: false });
  app.setNotFoundHandler((request, reply) => {
    // The portals are a single-page app: unknown non-API paths get its index.html.
    if (portals && request.method === 'GET' && !/^\/(api|docs|metrics)(\/|$)/.test(request.url)) {
      return reply.sendFile('index.html');
    }
    return reply
      .status(404)
      .send({ statusCode: 404, code: 'NOT_FOUND', message: `Route ${request.method} ${request.url} not found` });
  });
  return app;
}
