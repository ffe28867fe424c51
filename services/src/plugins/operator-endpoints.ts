import { createHash, timingSafeEqual } from 'node:crypto';
import { CodedError, ErrorCodes } from '@c2m/shared';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, preSerializationHookHandler } from 'fastify';
import fp from 'fastify-plugin';

export interface OperatorEndpointOptions {
  /** Bearer token for /metrics and /ready's details; undefined turns /metrics off. */
  readonly metricsToken?: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Access to the operators' endpoints, whatever their content (health.ts):
 * - /health stays public (liveness says nothing);
 * - /metrics needs `Authorization: Bearer <METRICS_TOKEN>` (Prometheus' `authorization` setting); without the
 *   variable it answers 404, as if absent: counters tell competitors about each other's volumes;
 * - /ready stays public, for load balancers and Kubernetes probes, but says only ready/unavailable and which
 *   dependency is down; the details (error texts, ledger height) need the metrics token.
 */
export default fp<OperatorEndpointOptions>(
  async (fastify: FastifyInstance, opts) => {
    const expected = opts.metricsToken === undefined ? undefined : digest(opts.metricsToken);
    const isOperator = (request: FastifyRequest) => {
      const header = request.headers.authorization;
      if (!expected || typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
      return timingSafeEqual(digest(header.slice('Bearer '.length)), expected);
    };

    const metricsGate: onRequestHookHandler = async (request) => {
      if (!expected)
        throw new CodedError(ErrorCodes.NOT_FOUND, `Route ${request.method} ${request.url} not found`, 404);
      if (!isOperator(request)) {
        throw new CodedError(ErrorCodes.UNAUTHENTICATED, 'The metrics token is required (Authorization: Bearer)', 401);
      }
    };
    const readyDetails: preSerializationHookHandler<unknown> = async (request, _reply, payload) => {
      if (isOperator(request)) return payload;
      const body = payload as { checks?: Record<string, { ok: boolean; detail: string }> };
      if (!body || typeof body !== 'object' || !body.checks) return payload;
      const checks = Object.fromEntries(Object.entries(body.checks).map(([k, c]) => [k, { ok: c.ok, detail: '' }]));
      return { ...body, checks };
    };

    fastify.addHook('onRoute', (route) => {
      const add = <T>(existing: T | T[] | undefined, hook: T): T[] =>
        existing === undefined ? [hook] : Array.isArray(existing) ? [hook, ...existing] : [hook, existing];
      if (route.url === '/metrics') route.onRequest = add(route.onRequest, metricsGate);
      if (route.url === '/ready') route.preSerialization = add(route.preSerialization, readyDetails);
    });
  },
  { name: 'operator-endpoints' },
);
