import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../errors.ts';
import type { Role, TokenStore } from '../credentials/tokens.ts';
import type { ApiToken } from './context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: ApiToken;
  }
}

const RANK: Record<Role, number> = { reader: 0, platform: 1, admin: 2 };

/** A preHandler that requires a bearer token of at least `role`, looked up in the tokens in force now. */
export function requireRole(tokens: TokenStore, role: Role) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const found = presented ? tokens.find(presented) : { ok: false as const };
    if (!found.ok) {
      const expired = 'expired' in found ? found.expired : undefined;
      if (expired) {
        throw new GatehouseError('GH_API_TOKEN_EXPIRED', {
          name: expired.name,
          expires: new Date(expired.expiresAt!).toISOString(),
        });
      }
      throw new GatehouseError('GH_API_UNAUTHORIZED');
    }
    const tok = found.token;
    if (RANK[tok.role] < RANK[role]) {
      throw new GatehouseError('GH_API_FORBIDDEN', [
        `token "${tok.name}" has role ${tok.role}; this needs ${role}`,
      ]);
    }
    req.actor = tok;
  };
}
