import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';

export const healthRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), village: Type.String(), uptimeS: Type.Number() }),
        },
      },
    },
    async () => ({ status: 'ok' as const, village: ctx.village, uptimeS: Math.round(process.uptime()) }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: config loaded and every sink connected or spooling',
        response: {
          200: Type.Object({ ready: Type.Boolean(), checks: Type.Record(Type.String(), Type.String()) }),
          503: Type.Object({ ready: Type.Boolean(), checks: Type.Record(Type.String(), Type.String()) }),
        },
      },
    },
    async (_req, reply) => {
      const r = ctx.ready();
      return reply.status(r.ready ? 200 : 503).send(r);
    },
  );

  app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics' } }, async (_req, reply) =>
    reply.type('text/plain; version=0.0.4').send(await ctx.metrics()),
  );
};
