import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext, Role } from '../context.ts';
import { requireRole } from '../auth.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';

const ROLES = ['admin', 'platform', 'reader'] as const satisfies readonly Role[];

/** Who a token belongs to: the status page offers gate buttons only to a role the API lets command. */
export const whoamiRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/api/v1/whoami',
    {
      preHandler: requireRole(ctx.tokens, 'reader'),
      schema: {
        tags: ['status page'],
        operationId: 'getWhoami',
        summary: "The token's holder and role (platform and admin may command barriers)",
        security: [{ bearer: [] }],
        response: {
          200: Type.Object(
            { name: Type.String(), role: Type.Union(ROLES.map((r) => Type.Literal(r))) },
            { description: 'The token is valid' },
          ),
          ...errors(...AUTH_ERRORS),
        },
      },
    },
    async (req) => ({ name: req.actor!.name, role: req.actor!.role }),
  );
};
