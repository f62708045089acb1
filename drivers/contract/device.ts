import { Type, type Static } from '@sinclair/typebox';
import { DEVICE_KINDS } from './canonical.ts';

/** An id that goes into topics, tags and URLs. */
export const Id = (description: string) =>
  Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9_-]*$', description });

/** Fields every device has, whatever its driver; driver options are checked by the driver's own schema. */
export const DeviceCommonSchema = Type.Object({
  id: Id('unique device id; used in topics, tags and URLs'),
  kind: Type.Union(
    DEVICE_KINDS.map((k) => Type.Literal(k)),
    { description: DEVICE_KINDS.join(' | ') },
  ),
  driver: Type.String({ minLength: 1, description: 'modbus | onvif | onvif-relay | mqtt' }),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  site: Type.Optional(Id('parking site the device belongs to (InfluxDB tag)')),
  lane: Type.Optional(Id('lane within the site (InfluxDB tag); pairs barriers with probes')),
  pollMs: Type.Optional(
    Type.Integer({
      minimum: 100,
      maximum: 3_600_000,
      description: 'poll interval, ms (default: the driver’s)',
    }),
  ),
});
export type DeviceCommon = Static<typeof DeviceCommonSchema>;

/** A device as the config gives it: the common fields plus the driver's own options. */
export type DeviceConfig<Options = Record<string, unknown>> = DeviceCommon & Options;
