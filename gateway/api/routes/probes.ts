import { STATUS_CODES } from 'node:http';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { fromDriverError, GatehouseError } from '../../errors.ts';
import { DeviceError, isDriverError } from '../../../drivers/contract/errors.ts';
import { IrModeSchema } from '../../../drivers/contract/canonical.ts';
import { CommandRecordSchema } from '../../commands/schema.ts';
import type { ApiContext } from '../context.ts';
import { requireRole } from '../auth.ts';
import { DeviceIdParams } from './devices.ts';
import type { CachedSnapshot } from '../../core/snapshots.ts';
import { sendSnapshot } from '../http-cache.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';

function probe(ctx: ApiContext, id: string) {
  const entry = ctx.registry.get(id);
  if (!entry) throw new GatehouseError('GH_DEVICE_NOT_FOUND', [id]);
  if (entry.ref.kind !== 'probe') {
    throw new GatehouseError('GH_COMMAND_UNSUPPORTED', [
      `device "${id}" is a ${entry.ref.kind}, not a probe`,
    ]);
  }
  return entry;
}

/** A device that fails is a 502 (504 on a timeout) with its health reason, not a gateway error. */
const upstream =
  (id: string) =>
  (err: unknown): never => {
    throw isDriverError(err) ? fromDriverError(err, id) : err;
  };

/** A device failure answered with the catalogue's code and message, plus the health reason. */
function deviceFailure(reply: FastifyReply, err: DeviceError, id: string) {
  const e = fromDriverError(err, id);
  return reply.status(e.statusCode).send({
    statusCode: e.statusCode,
    code: e.code,
    error: STATUS_CODES[e.statusCode] ?? 'Error',
    message: e.message,
    reason: err.reason,
  });
}

export const probeRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.put(
    '/api/v1/probes/:id/ir-mode',
    {
      preHandler: requireRole(ctx.tokens, 'platform'),
      schema: {
        tags: ['probes'],
        operationId: 'setProbeIrMode',
        summary:
          'Set the IR illuminator mode (on, off, auto); answers with the mode read back from the camera',
        security: [{ bearer: [] }],
        params: DeviceIdParams,
        body: Type.Object(
          { mode: IrModeSchema, reason: Type.String({ minLength: 1, maxLength: 500 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { mode: Type.String({ description: 'as read back' }), command: CommandRecordSchema },
            { description: 'The mode the camera reports now, and the audited command' },
          ),
          ...errors(400, ...AUTH_ERRORS, 404, 409, 413, 422, 502, 504),
        },
      },
    },
    async (req) => {
      probe(ctx, req.params.id);
      const { record, result } = await ctx.commands
        .runDeviceCommand(
          req.params.id,
          { action: 'set-ir-mode', mode: req.body.mode },
          `api:${req.actor?.name ?? '?'}`,
          req.body.reason,
        )
        .catch(upstream(req.params.id));
      return { mode: String((result as { mode?: string }).mode), command: record };
    },
  );

  app.get(
    '/api/v1/probes/:id/snapshot',
    {
      preHandler: requireRole(ctx.tokens, 'reader'),
      schema: {
        tags: ['probes'],
        operationId: 'getProbeSnapshot',
        summary:
          "The probe's latest snapshot (image/jpeg) from the gateway's cache, refreshed on the probe's poll; headers x-luma and x-snapshot-ms describe it. A camera that fails answers 502 (504 on a timeout) with code, reason and what to check",
        description:
          'The camera is asked only when the cache holds no picture from its last poll interval, once for everyone asking. ' +
          'ETag and Cache-Control (max-age: until the next poll is due) let a client ask again with If-None-Match and get 304 while the picture is the same.',
        security: [{ bearer: [] }],
        params: DeviceIdParams,
        response: {
          200: {
            description: 'The picture, as the camera encoded it',
            headers: {
              'x-luma': Type.String({ description: 'mean luma 0-255, one decimal' }),
              'x-snapshot-ms': Type.String({ description: 'how long the camera took, ms' }),
              'x-snapshot-time': Type.String({ format: 'date-time', description: 'when it was taken' }),
              etag: Type.String({ description: "the picture's entity tag, for If-None-Match" }),
            },
            content: { 'image/jpeg': { schema: Type.String({ format: 'binary' }) } },
          },
          ...errors(400, ...AUTH_ERRORS, 404, 422, 502, 504),
        },
      },
    },
    async (req, reply) => {
      const entry = probe(ctx, req.params.id);
      let shot: CachedSnapshot;
      try {
        shot = await ctx.snapshots.get(entry);
      } catch (err) {
        if (err instanceof DeviceError) return deviceFailure(reply, err, req.params.id);
        return upstream(req.params.id)(err);
      }
      return sendSnapshot(req, reply, shot);
    },
  );
};
