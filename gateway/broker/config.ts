import { Type, type Static } from '@sinclair/typebox';
import { Secret } from '../../drivers/contract/secret.ts';
import { TlsServerFilesSchema } from '../tls/schema.ts';

export const MQTT_ROLES = ['admin', 'platform', 'device', 'reader'] as const;
export type MqttRole = (typeof MQTT_ROLES)[number];

export const BrokerUserSchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128 }),
    passwordHash: Type.Optional(
      Type.String({ pattern: '^scrypt\\$', description: 'scrypt$N$r$p$salt$hash, from hashPassword()' }),
    ),
    password: Type.Optional(
      Secret({ minLength: 1, description: 'plain password, already resolved from a secret' }),
    ),
    role: Type.Union(
      MQTT_ROLES.map((r) => Type.Literal(r)),
      { description: MQTT_ROLES.join(' | ') },
    ),
    device: Type.Optional(Type.String({ minLength: 1, description: 'device id, required for role device' })),
  },
  {
    additionalProperties: false,
    description:
      'a user with neither password nor passwordHash signs in only with a client certificate whose CN is its username',
  },
);
export type BrokerUser = Static<typeof BrokerUserSchema>;

/** MQTT over TLS beside the plain listener (bind that one to 127.0.0.1 for local tools). */
export const BrokerTlsSchema = Type.Composite(
  [
    TlsServerFilesSchema,
    Type.Object({
      host: Type.Optional(Type.String({ description: 'bind address; default broker.host' })),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8883 }),
      wsPort: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: 65535,
          description: 'standalone MQTT over secure WebSocket port',
        }),
      ),
      clientCerts: Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')], {
        default: 'off',
        description:
          'off | optional | required: a client certificate signed by `ca` signs a device in as the user named by its CN',
      }),
    }),
  ],
  { additionalProperties: false },
);
export type BrokerTls = Static<typeof BrokerTlsSchema>;

export const BrokerLimitsSchema = Type.Object(
  {
    failedConnects: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'failed CONNECTs from one address within windowS before it is refused outright',
    }),
    commandsPerUser: Type.Integer({
      minimum: 1,
      default: 60,
      description: 'gate commands one MQTT user (the uplink included) may send within windowS',
    }),
    windowS: Type.Integer({ minimum: 1, maximum: 86_400, default: 60 }),
  },
  { additionalProperties: false, default: {} },
);
export type BrokerLimits = Static<typeof BrokerLimitsSchema>;

export const BrokerConfigSchema = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 1883 }),
    wsPath: Type.String({ default: '/mqtt', pattern: '^/' }),
    wsPort: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 65535, description: 'standalone MQTT-over-WebSocket port' }),
    ),
    allowAnonymousLoopback: Type.Boolean({
      default: false,
      description: 'demo only: anonymous clients from 127.0.0.1/::1 get the reader role',
    }),
    users: Type.Array(BrokerUserSchema, { default: [] }),
    tls: Type.Optional(BrokerTlsSchema),
    limits: BrokerLimitsSchema,
  },
  { additionalProperties: false },
);
export type BrokerConfig = Static<typeof BrokerConfigSchema>;

/** Every topic of a village lives under this prefix. */
export function topicPrefix(village: string): string {
  return `gatehouse/v1/${village}`;
}
