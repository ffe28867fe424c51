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

  // Prometheus text exposition format 0.0.4: counters end in _total, every family has HELP and TYPE.
  fastify.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const lines: string[] = [];
    const escapeLabel = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
    for (const family of await platform.metrics()) {
      lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
      for (const s of family.samples) {
        const labels = Object.entries(s.labels ?? {});
        const text = labels.length > 0 ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
        lines.push(`${family.name}${text} ${s.value}`);
      }
    }
    return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
};

export default routes;
