import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors.ts';
import type { ApiToken, Role } from './context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: ApiToken;
  }
}

const RANK: Record<Role, number> = { reader: 0, platform: 1, admin: 2 };

function matches(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A preHandler that requires a bearer token of at least `role`. */
export function requireRole(tokens: readonly ApiToken[], role: Role) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const tok = presented ? tokens.find((t) => matches(t.token, presented)) : undefined;
    if (!tok) throw new GatehouseError('GH_API_UNAUTHORIZED');
    if (RANK[tok.role] < RANK[role]) {
      throw new GatehouseError('GH_API_FORBIDDEN', [
        `token "${tok.name}" has role ${tok.role}; this needs ${role}`,
      ]);
    }
    req.actor = tok;
  };
}
