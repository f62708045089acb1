import { Type } from '@sinclair/typebox';
import type { DriverPlugin } from '../contract/plugin.ts';
import type { ModbusBus } from './bus.ts';
import {
  createBus,
  ModbusBusConfigSchema,
  ModbusDeviceOptionsSchema,
  type ModbusBusConfig,
} from './config.ts';
import { ModbusBarrierDriver } from './driver.ts';
import { loadProfile } from './profile.ts';

export { ModbusBusConfigSchema };

/** Modbus barriers for the gateway: devices on a shared line share one bus (one transaction at a time). */
const options = Type.Omit(ModbusDeviceOptionsSchema, ['id', 'pollMs']);

export function modbusPlugin(): DriverPlugin<typeof options> {
  const live = new Map<string, ModbusBus>();
  return {
    driver: 'modbus',
    kinds: ['barrier'],
    defaultPollMs: 1000,
    options,
    check(device) {
      try {
        loadProfile(device.profile);
      } catch (err) {
        return `profile: ${(err as Error).message}`;
      }
      return undefined;
    },
    create(device, env) {
      const ctx = env.context(device);
      let bus = live.get(device.bus);
      if (!bus) {
        // The config loader checked the bus against ModbusBusConfigSchema and filled its defaults.
        bus = createBus(env.buses.get(device.bus) as ModbusBusConfig, ctx);
        live.set(device.bus, bus);
      }
      return new ModbusBarrierDriver(device.id, bus, device.unit, loadProfile(device.profile), ctx, {
        backoffMs: device.backoffMs,
        backoffMaxMs: device.backoffMaxMs,
      });
    },
    async closeAll() {
      await Promise.allSettled([...live.values()].map((b) => b.close()));
      live.clear();
    },
  };
}
