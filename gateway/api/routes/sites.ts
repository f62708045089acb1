import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../errors.ts';
import type { ApiContext } from '../context.ts';
import { requireRole } from '../auth.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';

const SiteSchema = Type.Object({
  site: Type.String(),
  occupancy: Type.Integer({ description: 'vehicles inside, from counted entries and exits' }),
  capacity: Type.Optional(Type.Integer()),
  free: Type.Optional(Type.Integer()),
  entries: Type.Integer(),
  exits: Type.Integer(),
  barriers: Type.Array(Type.String()),
  since: Type.String({ description: 'when the baseline was last set' }),
});

export const siteRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/api/v1/sites',
    {
      preHandler: requireRole(ctx.tokens, 'reader'),
      schema: {
        tags: ['sites'],
        operationId: 'listSites',
        summary: 'Parking occupancy per site, from the barriers’ vehicle counters',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({ sites: Type.Array(SiteSchema) }, { description: 'Every site with barriers' }),
          ...errors(...AUTH_ERRORS),
        },
      },
    },
    async () => ({ sites: ctx.occupancy.all() }),
  );

  app.put(
    '/api/v1/sites/:site/occupancy',
    {
      preHandler: requireRole(ctx.tokens, 'platform'),
      schema: {
        tags: ['sites'],
        operationId: 'setSiteOccupancy',
        summary: 'Set the number of vehicles inside (a count made at the lot); counting goes on from it',
        security: [{ bearer: [] }],
        params: Type.Object({ site: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: Type.Object(
          { occupancy: Type.Integer({ minimum: 0, maximum: 100_000 }) },
          { additionalProperties: false },
        ),
        response: {
          200: { ...SiteSchema, description: 'The site, counting on from the new number' },
          ...errors(400, ...AUTH_ERRORS, 404, 413),
        },
      },
    },
    async (req) => {
      const known =
        ctx.occupancy.get(req.params.site) ?? ctx.state.all().some((s) => s.device.site === req.params.site);
      if (!known) throw new GatehouseError('GH_API_NOT_FOUND', [`no site "${req.params.site}" has barriers`]);
      return ctx.occupancy.set(req.params.site, req.body.occupancy);
    },
  );
};
