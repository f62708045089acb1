import { Type } from '@sinclair/typebox';
import type { DriverPlugin } from '../contract/plugin.ts';
import { MqttDeviceDriver, MqttDriverOptionsSchema } from './driver.ts';
import { loadMqttProfile } from './profile.ts';

/** Devices that publish JSON to the village broker themselves, mapped by a profile file. */
export function mqttPlugin(): DriverPlugin {
  return {
    driver: 'mqtt',
    kinds: ['barrier', 'probe'],
    defaultPollMs: 1000,
    options: Type.Object(MqttDriverOptionsSchema.properties),
    check(device) {
      try {
        const profile = loadMqttProfile(String(device.profile));
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
          profile: loadMqttProfile(String(device.profile)),
          prefix: env.mqtt.prefix,
          subscribe: env.mqtt.subscribe,
          ...(typeof device.topic === 'string' ? { topic: device.topic } : {}),
          ...(typeof device.expectedIntervalMs === 'number'
            ? { expectedIntervalMs: device.expectedIntervalMs }
            : {}),
        },
        env.context(device),
      );
    },
  };
}
