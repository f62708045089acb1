import { CloneType, Type, type TSchema } from '@sinclair/typebox';

import { Id } from '../../drivers/contract/device.ts';
import { Secret } from '../../drivers/contract/secret.ts';

export const ApiTokenSchema = Type.Object(
  {
    name: Id('who holds the token; recorded as the actor of its commands'),
    role: Type.Union([Type.Literal('admin'), Type.Literal('platform'), Type.Literal('reader')], {
      description: 'admin | platform | reader',
    }),
    token: Secret({
      minLength: 16,
      description: 'a secret reference { env } or { file } to a token of 16+ characters',
    }),
  },
  { additionalProperties: false },
);

export const ApiConfigSchema = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    tokens: Type.Array(ApiTokenSchema, { default: [] }),
  },
  { additionalProperties: false, default: {} },
);

/**
 * The top level. Sections owned by a module (broker, influx, bridge, buses) take that
 * module's schema; a device takes its driver's (`device`: one branch per driver).
 */
export function villageConfigSchema(sections: {
  broker: TSchema;
  influx: TSchema;
  bridge: TSchema;
  bus: TSchema;
  device: TSchema;
}) {
  return Type.Object(
    {
      village: Id('village id; the MQTT topic prefix and the village tag'),
      site: Type.Optional(Id('default site for devices that name none')),
      dataDir: Type.String({
        default: '.data',
        description: 'where spools, audit log and snapshots live (relative to the working directory)',
      }),
      logLevel: Type.Optional(
        Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((l) => Type.Literal(l))),
      ),
      // Sections with defaults are filled in whole when absent: code never re-defaults.
      api: ApiConfigSchema,
      broker: CloneType(sections.broker, { default: {} }),
      influx: CloneType(sections.influx, { default: {} }),
      bridge: Type.Optional(sections.bridge),
      commands: Type.Object(
        {
          confirmTimeoutMs: Type.Integer({
            minimum: 100,
            maximum: 120_000,
            default: 10_000,
            description: 'how long a command may take to show in sensed state before it fails (timeout)',
          }),
          confirmPollMs: Type.Integer({
            minimum: 5,
            maximum: 1000,
            default: 50,
            description: 'how often sensed state is read back while confirming',
          }),
        },
        { additionalProperties: false, default: {} },
      ),
      evidence: Type.Object(
        {
          enabled: Type.Boolean({ default: true }),
          maxFiles: Type.Integer({ minimum: 1, default: 500 }),
          maxBytes: Type.Integer({ minimum: 1024, default: 200 * 1024 * 1024 }),
        },
        { additionalProperties: false, default: {} },
      ),
      sites: Type.Array(
        Type.Object(
          {
            id: Id('site id, as devices name it'),
            capacity: Type.Optional(Type.Integer({ minimum: 1, description: 'parking spaces' })),
          },
          { additionalProperties: false },
        ),
        { default: [] },
      ),
      buses: Type.Array(sections.bus, { default: [] }),
      devices: Type.Array(sections.device, {
        default: [],
        description: 'devices; each checked against the common fields and its driver’s options',
      }),
    },
    { additionalProperties: false, description: 'a mapping with at least `village: NAME`' },
  );
}
