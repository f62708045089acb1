import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../errors.ts';
import { CommandRecordSchema, CommandRequestSchema } from '../../commands/schema.ts';
import type { ApiContext } from '../context.ts';
import { requireRole } from '../auth.ts';
import { commandLimits } from '../limits.ts';
import { DeviceIdParams } from './devices.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';

/** A command body is a few hundred bytes; anything near this is not one. */
const COMMAND_BODY_LIMIT = 4 * 1024;

export const commandRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.post(
    '/api/v1/barriers/:id/commands',
    {
      preHandler: [requireRole(ctx.tokens, 'platform'), commandLimits(app as never, ctx.limits!)],
      bodyLimit: COMMAND_BODY_LIMIT,
      schema: {
        tags: ['commands'],
        operationId: 'commandBarrier',
        summary: 'Command a barrier (open, close, hold-open, release, stop, reset-fault)',
        description:
          'Checked against interlocks, written to the controller and confirmed from its sensed state. ' +
          'The same requestId never actuates twice: a repeat returns the first command. ' +
          'With ?waitMs=N the answer waits up to N ms for the final state (200), else 202 with the record so far. ' +
          'Limited per token and per address (`api.limits`) and per barrier (`commands.maxQueuedPerBarrier`): 429 with Retry-After.',
        security: [{ bearer: [] }],
        params: DeviceIdParams,
        querystring: Type.Object({ waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })) }),
        body: CommandRequestSchema,
        response: {
          200: { ...CommandRecordSchema, description: 'The command reached its final state within waitMs' },
          202: { ...CommandRecordSchema, description: 'Accepted; GET the Location header for its progress' },
          ...errors(400, ...AUTH_ERRORS, 404, 409, 413, 503),
        },
      },
    },
    async (req, reply) => {
      const actor = req.actor?.name ?? 'unknown';
      let rec = await ctx.commands.submit(req.params.id, req.body, `api:${actor}`);
      if (req.query.waitMs) rec = (await ctx.commands.wait(rec.id, req.query.waitMs)) ?? rec;
      const final = rec.state === 'confirmed' || rec.state === 'failed';
      return reply
        .status(final ? 200 : 202)
        .header('location', `/api/v1/commands/${rec.id}`)
        .send(rec);
    },
  );

  app.get(
    '/api/v1/commands/:id',
    {
      preHandler: requireRole(ctx.tokens, 'reader'),
      schema: {
        tags: ['commands'],
        operationId: 'getCommand',
        summary: 'A command and its history (accepted → executing → confirmed | failed)',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: {
          200: { ...CommandRecordSchema, description: 'The command record' },
          ...errors(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (req) => {
      const rec = ctx.commands.get(req.params.id);
      if (!rec) throw new GatehouseError('GH_COMMAND_NOT_FOUND', [req.params.id]);
      return rec;
    },
  );

  app.get(
    '/api/v1/commands',
    {
      preHandler: requireRole(ctx.tokens, 'reader'),
      schema: {
        tags: ['commands'],
        operationId: 'listCommands',
        summary: 'Recent commands, newest first',
        security: [{ bearer: [] }],
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: {
          200: Type.Object(
            { commands: Type.Array(CommandRecordSchema) },
            { description: 'Up to limit records, newest first' },
          ),
          ...errors(400, ...AUTH_ERRORS),
        },
      },
    },
    async (req) => ({ commands: ctx.commands.list(req.query.limit) }),
  );
};
