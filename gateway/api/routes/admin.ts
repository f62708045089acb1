import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../errors.ts';
import type { ApiContext } from '../context.ts';
import { requireRole } from '../auth.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';

export const adminRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.post(
    '/api/v1/admin/reload-credentials',
    {
      preHandler: requireRole(ctx.tokens, 'admin'),
      bodyLimit: 1024,
      schema: {
        tags: ['admin'],
        operationId: 'reloadCredentials',
        summary: "Re-read the config file's API tokens and MQTT users (as SIGHUP does)",
        description:
          'Revoked tokens are refused from the next request on; MQTT clients of removed or changed users ' +
          'are disconnected. Polling, devices and other MQTT clients are not touched. An invalid file ' +
          'changes nothing (422).',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object(
            {
              tokens: Type.Integer({ description: 'API tokens now in force' }),
              mqttUsers: Type.Integer({ description: 'MQTT users now in force' }),
              disconnected: Type.Array(Type.String(), {
                description: 'MQTT users whose clients were disconnected',
              }),
            },
            { description: 'Reloaded' },
          ),
          ...errors(...AUTH_ERRORS, 422),
        },
      },
    },
    async () => {
      if (!ctx.reloadCredentials) {
        throw new GatehouseError('GH_CREDENTIALS_RELOAD', {
          detail: 'this gateway has no config file to read',
        });
      }
      return ctx.reloadCredentials();
    },
  );
};
