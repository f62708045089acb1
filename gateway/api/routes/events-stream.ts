import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireRole } from '../auth.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';
import { LiveFeed } from '../live/feed.ts';
import { describeLiveEvents } from '../live/frames.ts';
import { deviceView } from './devices.ts';
import { gatewayView } from './gateway.ts';

/**
 * EventSource, the browser's client for server-sent events, cannot set request headers:
 * so on this route only, a token may come as `?token=`. A header, when present, wins;
 * request logging is off, so the token does not reach the log.
 */
async function tokenFromQuery(req: FastifyRequest): Promise<void> {
  const token = (req.query as { token?: string }).token;
  if (!req.headers.authorization && token) req.headers.authorization = `Bearer ${token}`;
}

function feedOf(ctx: ApiContext): LiveFeed {
  return new LiveFeed({
    village: ctx.village,
    bus: ctx.bus,
    onCommand: (l) => ctx.commands.onUpdate(l),
    onFrame: (l) => ctx.snapshots.onFrame(l),
    devices: () => ctx.state.all().map((s) => deviceView(ctx, s)),
    device: (id) => {
      const s = ctx.state.get(id);
      return s ? deviceView(ctx, s) : undefined;
    },
    gateway: () => gatewayView(ctx),
  });
}

/** One live stream of state, health, events and command progress (the status page's, and any client's). */
export const eventStreamRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  // Made at the first stream, not at registration: an API built without a running gateway has no bus.
  let feed: LiveFeed | undefined;
  app.addHook('preClose', async () => feed?.close());

  app.get(
    '/api/v1/events/stream',
    {
      preHandler: [tokenFromQuery, requireRole(ctx.tokens, 'reader')],
      schema: {
        tags: ['live'],
        operationId: 'getEventStream',
        summary: 'Live updates as server-sent events (text/event-stream): state, health, events, commands',
        description: `Events: ${describeLiveEvents()}. Reconnect (EventSource does) to start again from \`hello\`.`,
        security: [{ bearer: [] }],
        querystring: Type.Object({
          token: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 512,
              description:
                'the bearer token, for EventSource, which cannot send an Authorization header; prefer the header',
            }),
          ),
        }),
        response: {
          200: {
            description: 'An endless stream of server-sent events, one JSON object in each `data`',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errors(400, ...AUTH_ERRORS),
        },
      },
    },
    async (req, reply) => {
      feed ??= feedOf(ctx);
      reply.hijack();
      const res = reply.raw;
      // Headers hooks set on the reply (security headers) still go out with the stream.
      for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) res.setHeader(k, v);
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        // A reverse proxy must pass each event on at once rather than buffer the stream.
        'x-accel-buffering': 'no',
      });
      req.raw.socket.setNoDelay(true);
      await feed.add(res);
    },
  );
};
