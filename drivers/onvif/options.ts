import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DriverError } from '../contract/errors.ts';
import { Secret } from '../contract/secret.ts';

export const RelayOptionsSchema = Type.Object(
  {
    token: Type.String({ minLength: 1, description: 'RelayOutputToken of the output wired to the barrier' }),
    closeToken: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'monostable only: a second output whose pulse closes the arm',
      }),
    ),
    mode: Type.Union([Type.Literal('bistable'), Type.Literal('monostable')], {
      default: 'bistable',
      description: 'bistable: relay held active while the arm is to stay open; monostable: a pulse opens',
    }),
    pulseMs: Type.Integer({ minimum: 50, maximum: 10_000, default: 500 }),
    travelMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 60_000,
        description:
          'how long the arm takes to come down: the relay cannot tell, so the arm reads closing that long after a close and the gateway supervises the whole descent (absent: closed at once)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RelayOptions = Static<typeof RelayOptionsSchema>;

/** Options of one ONVIF device in the village config (probe, or barrier on a probe's relay). */
export const OnvifDeviceOptionsSchema = Type.Object(
  {
    url: Type.String({ description: 'device service URL, e.g. http://10.0.0.21/onvif/device_service' }),
    username: Type.String({ default: '' }),
    password: Secret({
      default: '',
      description:
        'secret reference (env/file); the gateway resolves it and hands the driver the plain value',
    }),
    pollMs: Type.Integer({ minimum: 200, default: 5000 }),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 3000 }),
    snapshot: Type.Boolean({
      default: true,
      description: 'take a snapshot every poll (snapshot_ms, luma, IR check)',
    }),
    snapshotUrl: Type.Optional(Type.String({ description: 'override the media service snapshot URI' })),
    stream: Type.Boolean({ default: true, description: 'check the RTSP stream with DESCRIBE every poll' }),
    streamUrl: Type.Optional(Type.String({ description: 'override the media service stream URI' })),
    irLumaThreshold: Type.Number({ minimum: 0, maximum: 255, default: 25 }),
    irFaultChecks: Type.Integer({ minimum: 1, default: 3 }),
    skewThresholdS: Type.Number({ minimum: 0, default: 5 }),
    events: Type.Boolean({ default: true }),
    eventLeaseS: Type.Integer({ minimum: 2, maximum: 86_400, default: 60 }),
    eventPullS: Type.Integer({ minimum: 1, maximum: 60, default: 5 }),
    relay: Type.Optional(RelayOptionsSchema),
  },
  { additionalProperties: false },
);
export type OnvifDeviceOptions = Static<typeof OnvifDeviceOptionsSchema>;
export type OnvifDeviceOptionsInput = Partial<OnvifDeviceOptions> & { url: string };

/** Defaults applied and validated; throws naming the offending field. */
export function resolveOnvifOptions(input: OnvifDeviceOptionsInput): OnvifDeviceOptions {
  const v = Value.Default(OnvifDeviceOptionsSchema, structuredClone(input));
  if (input.relay) Value.Default(RelayOptionsSchema, (v as OnvifDeviceOptions).relay);
  const err = Value.Errors(OnvifDeviceOptionsSchema, v).First();
  if (err) throw new DriverError('invalid-config', `onvif options: ${err.path || '/'} ${err.message}`);
  return v as OnvifDeviceOptions;
}
