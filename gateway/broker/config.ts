import { Type, type Static } from '@sinclair/typebox';
import { Secret } from '../../drivers/contract/secret.ts';

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
  { additionalProperties: false },
);
export type BrokerUser = Static<typeof BrokerUserSchema>;

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
  },
  { additionalProperties: false },
);
export type BrokerConfig = Static<typeof BrokerConfigSchema>;

/** Every topic of a village lives under this prefix. */
export function topicPrefix(village: string): string {
  return `gatehouse/v1/${village}`;
}
