import { CloneType, Type, type TSchema } from '@sinclair/typebox';

import { Id } from '../../drivers/contract/device.ts';
import { Secret } from '../../drivers/contract/secret.ts';
import { TOKEN_HASH_PATTERN } from '../credentials/tokens.ts';
import { TlsServerFilesSchema } from '../tls/schema.ts';

const tokenCommon = {
  name: Id('who holds the token; recorded as the actor of its commands'),
  role: Type.Union([Type.Literal('admin'), Type.Literal('platform'), Type.Literal('reader')], {
    description: 'admin | platform | reader',
  }),
  expires: Type.Optional(
    Type.String({
      pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2}))?$',
      description: 'a date or ISO time (2027-06-30, 2027-06-30T18:00:00Z) from which the token is refused',
    }),
  ),
};

/** A token is named by its hash (`gatehouse hash-token`) or, as before, by a secret reference. */
export const ApiTokenSchema = Type.Union([
  Type.Object(
    {
      ...tokenCommon,
      tokenHash: Type.String({
        pattern: TOKEN_HASH_PATTERN,
        description: 'sha256$<64 hex> from `gatehouse hash-token`; the token itself stays with its holder',
      }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      ...tokenCommon,
      token: Secret({
        minLength: 16,
        description: 'a secret reference { env } or { file } to a token of 16+ characters',
      }),
    },
    { additionalProperties: false },
  ),
]);

export const ApiLimitsSchema = Type.Object(
  {
    failedAuth: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'requests with a bad token from one address within windowS before it gets 429',
    }),
    commandsPerToken: Type.Integer({
      minimum: 1,
      default: 60,
      description: 'gate commands per token within windowS',
    }),
    commandsPerAddress: Type.Integer({
      minimum: 1,
      default: 120,
      description: 'gate commands per source address within windowS',
    }),
    windowS: Type.Integer({ minimum: 1, maximum: 86_400, default: 60 }),
  },
  { additionalProperties: false, default: {} },
);

export const ApiConfigSchema = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    tokens: Type.Array(ApiTokenSchema, { default: [] }),
    tls: Type.Optional(TlsServerFilesSchema),
    limits: ApiLimitsSchema,
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
  influxTarget: TSchema;
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
      influxTargets: Type.Array(sections.influxTarget, {
        default: [],
        description:
          'more InfluxDBs written beside `influx` (e.g. the town’s), each with its own connection and spool',
      }),
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
          maxQueuedPerBarrier: Type.Integer({
            minimum: 1,
            maximum: 100,
            default: 4,
            description:
              'commands one barrier may have waiting or under way; more are refused (429), never queued for minutes',
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
