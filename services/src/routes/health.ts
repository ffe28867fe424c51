import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { platform } = fastify;

  fastify.get(
    '/health',
    {
      schema: { tags: ['health'], summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  const Checks = Type.Object({
    status: Type.String(),
    checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.String() })),
  });
  fastify.get(
    '/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: PostgreSQL, Redis, MQTT and the ledger answer',
        response: { 200: Checks, 503: Checks },
      },
    },
    async (_request, reply) => {
      const checks = await platform.readiness();
      const ok = Object.values(checks).every((c) => c.ok);
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', checks });
    },
  );

  // Prometheus text format: counters a dashboard or an alert can use.
  fastify.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const m = platform.metrics();
    const lines: string[] = [];
    for (const [name, value] of Object.entries(m)) {
      if (typeof value === 'number') lines.push(`# TYPE c2m_${name} gauge`, `c2m_${name} ${value}`);
      else for (const [label, v] of Object.entries(value)) lines.push(`c2m_${name}{reason="${label}"} ${v}`);
    }
    return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
};

export default routes;
