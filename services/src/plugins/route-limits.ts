import { CodedError, ErrorCodes } from '@c2m/shared';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';

export interface RouteLimitOptions {
  readonly redis: Redis;
  readonly prefix: string;
  readonly loginPerMinute: number;
  readonly proofVerifyPerMinute: number;
  readonly proofVerifyBodyLimit: number;
}

/**
 * Per-client-IP rate limits (@fastify/rate-limit, counted in Redis so every platform process shares them) and
 * body limits for the routes anyone may call without a token: sign-in and refresh (password guessing, and the
 * scrypt each attempt costs) and proof verification (a large bundle costs seconds of CPU). Kept here, by URL,
 * so the route files stay about what the routes do. Behind a reverse proxy set `trustProxy` so the client IP is
 * the real one. The per-username lockout is separate (`auth/login-throttle.ts`).
 */
export default fp<RouteLimitOptions>(
  async (fastify: FastifyInstance, opts) => {
    const perMinute = (max: number) => ({ max, timeWindow: 60_000 });
    const policies: Record<string, { rateLimit?: ReturnType<typeof perMinute>; bodyLimit?: number }> = {
      'POST /api/auth/login': { rateLimit: perMinute(opts.loginPerMinute) },
      'POST /api/auth/refresh': { rateLimit: perMinute(opts.loginPerMinute) },
      'POST /api/auth/password': { rateLimit: perMinute(opts.loginPerMinute) },
      'POST /api/proofs/verify': {
        rateLimit: perMinute(opts.proofVerifyPerMinute),
        bodyLimit: opts.proofVerifyBodyLimit,
      },
    };
    // Runs before the rate-limit plugin's own onRoute hook (registered below), which reads config.rateLimit.
    fastify.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        const policy = policies[`${method} ${route.url}`];
        if (!policy) continue;
        if (policy.bodyLimit !== undefined) route.bodyLimit = policy.bodyLimit;
        if (policy.rateLimit) route.config = { ...(route.config ?? {}), rateLimit: policy.rateLimit };
      }
    });
    await fastify.register(rateLimit, {
      global: false,
      redis: opts.redis,
      nameSpace: `${opts.prefix}:ratelimit:`,
      // A Redis outage must not lock everyone out of signing in; the username lockout then fails closed instead.
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new CodedError(
          ErrorCodes.RATE_LIMITED,
          `Too many requests; try again in ${Math.ceil(context.ttl / 1000)} s`,
          429,
          {
            retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
          },
        ),
    });
  },
  { name: 'route-limits' },
);
