import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';

const Readiness = (description: string) =>
  Type.Object(
    {
      ready: Type.Boolean(),
      checks: Type.Record(Type.String(), Type.String(), {
        description: 'config, each sink (connected, spooling, connecting…) and the uplink',
      }),
    },
    { description },
  );

export const healthRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getLiveness',
        summary: 'Liveness: the process answers',
        response: {
          200: Type.Object(
            { status: Type.Literal('ok'), village: Type.String(), uptimeS: Type.Number() },
            { description: 'The process answers' },
          ),
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
        operationId: 'getReadiness',
        summary: 'Readiness: config loaded and every sink connected or spooling',
        response: {
          200: Readiness('Ready'),
          503: Readiness('Not ready: a sink neither writes nor spools, or the gateway is stopping'),
        },
      },
    },
    async (_req, reply) => {
      const r = ctx.ready();
      return reply.status(r.ready ? 200 : 503).send(r);
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        operationId: 'getMetrics',
        summary: 'Prometheus metrics (text exposition format 0.0.4); the README lists them',
        response: {
          200: {
            description: 'Prometheus text format',
            content: { 'text/plain': { schema: Type.String() } },
          },
        },
      },
    },
    async (_req, reply) => reply.type('text/plain; version=0.0.4').send(await ctx.metrics()),
  );
};
