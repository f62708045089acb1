import { Type, type Static } from '@sinclair/typebox';
import { Secret } from '../../drivers/contract/secret.ts';
import { TlsClientFilesSchema } from '../tls/schema.ts';

export const BridgeConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^(mqtts?|wss?|tcp)://',
      description: 'central broker, e.g. mqtts://central:8883',
    }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Secret({ description: 'already resolved from a secret reference' })),
    clientId: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'stable: the central broker keeps our session',
    }),
    forward: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'local topic filters copied to the central broker (QoS 1, in order)',
    }),
    subscribe: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'central topic filters (command topics) injected into the local broker',
    }),
    queueDir: Type.Optional(Type.String({ description: 'disk queue; default <dataDir>/bridge' })),
    maxInflight: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 16,
      description: 'unacknowledged QoS 1 messages upstream',
    }),
    maxQueueBytes: Type.Integer({ minimum: 1024, default: 256 * 1024 * 1024 }),
    qos: Type.Union([Type.Literal(1), Type.Literal(2)], {
      default: 1,
      description:
        'upstream QoS: 1 = at least once (a message may arrive twice after a cut); 2 = exactly once while the gateway runs',
    }),
    keepaliveSeconds: Type.Integer({ minimum: 5, maximum: 3600, default: 30 }),
    tls: Type.Optional(TlsClientFilesSchema),
    commandKey: Type.Optional(
      Secret({
        minLength: 16,
        description:
          "the village's shared key with the town platform: with it, commands from the uplink must carry a valid hmac",
      }),
    ),
    commandMaxAgeS: Type.Integer({
      minimum: 10,
      maximum: 86_400,
      default: 300,
      description: 'how far a signed command’s issuedAt may be from the gateway clock',
    }),
  },
  { additionalProperties: false },
);
export type BridgeConfig = Static<typeof BridgeConfigSchema>;
