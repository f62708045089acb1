import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../errors.ts';
import { FeatureStatusSchema, HealthSchema } from '../../../drivers/contract/health.ts';
import type { DeviceState } from '../../core/state.ts';
import type { ApiContext } from '../context.ts';
import { requireRole } from '../auth.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';

export const DeviceViewSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  driver: Type.String(),
  name: Type.Optional(Type.String()),
  site: Type.Optional(Type.String()),
  lane: Type.Optional(Type.String()),
  health: HealthSchema,
  features: Type.Optional(
    Type.Record(Type.String(), FeatureStatusSchema, {
      description: 'what the device can do, by feature (ok, unsupported: the device lacks it, failed)',
    }),
  ),
  info: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description:
        'what the device says about itself (board id, firmware, serial), read once at connect; `unverified` names profile mappings not yet confirmed on site',
    }),
  ),
  fields: Type.Record(Type.String(), Type.Unknown(), { description: 'latest canonical telemetry' }),
  lastSeen: Type.Optional(Type.String()),
  pollMs: Type.Optional(Type.Number()),
  errors: Type.Integer(),
  recentEvents: Type.Array(
    Type.Object(
      { type: Type.String(), detail: Type.String(), time: Type.Number() },
      { additionalProperties: true },
    ),
  ),
});

export const DeviceIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function deviceView(ctx: ApiContext, s: DeviceState) {
  const entry = ctx.registry.get(s.device.id);
  const cfg = entry?.config;
  // Status and reason are the poller's; per-check outcomes and features the driver's latest.
  const checks = entry?.driver.health()?.checks;
  const features = entry?.driver.features?.();
  const info = entry?.driver.info?.();
  return {
    id: s.device.id,
    kind: s.device.kind,
    driver: cfg?.driver ?? 'unknown',
    ...(cfg?.name ? { name: cfg.name } : {}),
    ...(s.device.site ? { site: s.device.site } : {}),
    ...(s.device.lane ? { lane: s.device.lane } : {}),
    health: checks ? { ...s.health, checks } : s.health,
    ...(features ? { features } : {}),
    ...(info ? { info } : {}),
    fields: s.fields as Record<string, unknown>,
    ...(s.lastSeen ? { lastSeen: s.lastSeen } : {}),
    ...(s.pollMs !== undefined ? { pollMs: s.pollMs } : {}),
    errors: s.errors,
    recentEvents: s.recentEvents,
  };
}

export const deviceRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.addHook('preHandler', requireRole(ctx.tokens, 'reader'));

  app.get(
    '/api/v1/devices',
    {
      schema: {
        tags: ['devices'],
        operationId: 'listDevices',
        summary: 'Every device with its latest state and health',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object(
            { village: Type.String(), devices: Type.Array(DeviceViewSchema) },
            { description: 'The village and its devices' },
          ),
          ...errors(...AUTH_ERRORS),
        },
      },
    },
    async () => ({ village: ctx.village, devices: ctx.state.all().map((s) => deviceView(ctx, s)) }),
  );

  app.get(
    '/api/v1/devices/:id',
    {
      schema: {
        tags: ['devices'],
        operationId: 'getDevice',
        summary: 'One device: latest state, health with reason, recent events',
        security: [{ bearer: [] }],
        params: DeviceIdParams,
        response: {
          200: { ...DeviceViewSchema, description: 'The device' },
          ...errors(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (req) => {
      const s = ctx.state.get(req.params.id);
      if (!s) throw new GatehouseError('GH_DEVICE_NOT_FOUND', [req.params.id]);
      return deviceView(ctx, s);
    },
  );
};
