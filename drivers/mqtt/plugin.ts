import { Type } from '@sinclair/typebox';
import type { DriverPlugin } from '../contract/plugin.ts';
import { MqttDeviceDriver, MqttDriverOptionsSchema } from './driver.ts';
import { loadMqttProfile } from './profile.ts';

/** Devices that publish JSON to the village broker themselves, mapped by a profile file. */
const options = Type.Object(MqttDriverOptionsSchema.properties);

export function mqttPlugin(): DriverPlugin<typeof options> {
  return {
    driver: 'mqtt',
    kinds: ['barrier', 'probe'],
    defaultPollMs: 1000,
    options,
    check(device) {
      try {
        const profile = loadMqttProfile(device.profile);
        if (profile.kind !== device.kind)
          return `profile ${profile.name} describes a ${profile.kind}, not a ${device.kind}`;
      } catch (err) {
        return `profile: ${(err as Error).message}`;
      }
      return undefined;
    },
    create(device, env) {
      if (!env.mqtt) throw new Error('the mqtt driver needs the embedded broker');
      return new MqttDeviceDriver(
        {
          id: device.id,
          profile: loadMqttProfile(device.profile),
          prefix: env.mqtt.prefix,
          subscribe: env.mqtt.subscribe,
          ...(device.topic !== undefined ? { topic: device.topic } : {}),
          ...(device.expectedIntervalMs !== undefined
            ? { expectedIntervalMs: device.expectedIntervalMs }
            : {}),
        },
        env.context(device),
      );
    },
  };
}
