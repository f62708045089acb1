import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors.ts';
import type { ApiLimits } from './context.ts';

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

function refuse(reply: FastifyReply, what: string, ttlMs: number): never {
  const retryAfterS = Math.max(1, Math.ceil(ttlMs / 1000));
  void reply.header('retry-after', retryAfterS);
  throw new GatehouseError('GH_RATE_LIMITED', { what, retryAfterS });
}

/** Routes a token guesser would aim at; health, metrics and the page's files stay reachable. */
const guarded = (req: FastifyRequest) =>
  req.url.startsWith('/api/') || req.headers.authorization !== undefined;

/**
 * Failed sign-ins per source address: every 401 counts, and once an address has had
 * `failedAuth` of them in the window it gets 429 before its token is even looked at,
 * so a right guess cannot be told from a wrong one until the window ends.
 */
export function guardFailedAuth(app: FastifyInstance, limits: ApiLimits): void {
  const failures = app.createRateLimit({ max: limits.failedAuth, timeWindow: limits.windowS * 1000 });
  app.addHook('onRequest', async (req, reply) => {
    if (!guarded(req)) return;
    const seen = await failures(req, { increment: false });
    if (!seen.isAllowed && seen.remaining <= 0 && seen.ttl > 0) {
      refuse(reply, `failed sign-ins from ${req.ip}`, seen.ttl);
    }
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode === 401) await failures(req);
    return payload;
  });
}

/**
 * Gate commands per token and per source address (one preHandler: the plugin's own
 * route hooks run once per request, and these are two limits).
 */
export function commandLimits(app: FastifyInstance, limits: ApiLimits) {
  const timeWindow = limits.windowS * 1000;
  const checks: [Limiter, (req: FastifyRequest) => string][] = [
    [
      app.createRateLimit({
        max: limits.commandsPerToken,
        timeWindow,
        keyGenerator: (req) => `token:${req.actor?.name ?? ''}`,
      }),
      (req) => `commands for token "${req.actor?.name ?? ''}"`,
    ],
    [app.createRateLimit({ max: limits.commandsPerAddress, timeWindow }), (req) => `commands from ${req.ip}`],
  ];
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    for (const [limiter, what] of checks) {
      const r = await limiter(req);
      if (!r.isAllowed && r.isExceeded) refuse(reply, what(req), r.ttl);
    }
  };
}
