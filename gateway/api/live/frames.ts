import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { FeatureStatusSchema, HealthSchema } from '../../../drivers/contract/health.ts';
import { CommandRecordSchema } from '../../commands/schema.ts';
import { DeviceViewSchema } from '../routes/devices.ts';
import { GatewayViewSchema } from '../routes/gateway.ts';

/**
 * The events of GET /api/v1/events/stream, one schema each: the stream's documentation,
 * what its tests check frames against, and what the status page reads.
 */
export const LIVE_EVENTS = {
  hello: Type.Object(
    {
      village: Type.String(),
      devices: Type.Array(DeviceViewSchema),
      gateway: GatewayViewSchema,
      heartbeatMs: Type.Integer({ description: 'a `gateway` event comes at least this often' }),
    },
    {
      description:
        'first on every connection (and reconnection): everything, so a client never merges stale state',
    },
  ),
  state: Type.Object(
    {
      device: Type.String(),
      fields: Type.Record(Type.String(), Type.Unknown(), { description: 'only the fields that changed' }),
      unknown: Type.Optional(
        Type.Array(Type.String(), {
          description:
            'fields the device has no valid reading of now: what was shown of them no longer holds',
        }),
      ),
      time: Type.Number(),
    },
    { description: "a device's canonical readings changed" },
  ),
  health: Type.Object(
    {
      device: Type.String(),
      health: HealthSchema,
      features: Type.Optional(Type.Record(Type.String(), FeatureStatusSchema)),
      errors: Type.Integer(),
    },
    { description: "a device's health (status, reason, checks) or features changed" },
  ),
  event: Type.Object(
    {
      device: Type.String(),
      type: Type.String(),
      detail: Type.String(),
      time: Type.Number(),
      data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      commandId: Type.Optional(Type.String()),
      actor: Type.Optional(Type.String()),
    },
    { description: 'something happened at a device: a passage, a fault, a command step, a health change…' },
  ),
  command: Type.Composite([CommandRecordSchema], {
    description: 'a command record, once per state: accepted → executing → confirmed | failed(reason)',
  }),
  snapshot: Type.Object(
    { device: Type.String(), etag: Type.String(), takenAt: Type.Number(), luma: Type.Number() },
    { description: 'a probe took a new picture: GET /api/v1/probes/:id/snapshot serves it under this etag' },
  ),
  gateway: Type.Composite([GatewayViewSchema], {
    description:
      "the gateway's own health, every heartbeatMs (the heartbeat: silence means the stream is stale)",
  }),
} satisfies Record<string, TSchema>;

export type LiveEventName = keyof typeof LIVE_EVENTS;
export type LiveEventData<E extends LiveEventName> = Static<(typeof LIVE_EVENTS)[E]>;

/** The event names and what each means, for the route's OpenAPI description. */
export function describeLiveEvents(): string {
  return Object.entries(LIVE_EVENTS)
    .map(([name, schema]) => `\`${name}\`: ${String(schema.description)}`)
    .join('; ');
}

/** One server-sent event. JSON has no raw newlines, so `data` is one line. */
export function frame(id: number, event: LiveEventName, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
