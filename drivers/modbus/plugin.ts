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
export function modbusPlugin(): DriverPlugin {
  const live = new Map<string, ModbusBus>();
  return {
    driver: 'modbus',
    kinds: ['barrier'],
    defaultPollMs: 1000,
    options: Type.Omit(ModbusDeviceOptionsSchema, ['id', 'pollMs']),
    check(device) {
      try {
        loadProfile(String(device.profile));
      } catch (err) {
        return `profile: ${(err as Error).message}`;
      }
      return undefined;
    },
    create(device, env) {
      const ctx = env.context(device);
      const busId = String(device.bus);
      let bus = live.get(busId);
      if (!bus) {
        bus = createBus(env.buses.get(busId) as ModbusBusConfig, ctx);
        live.set(busId, bus);
      }
      return new ModbusBarrierDriver(
        device.id,
        bus,
        Number(device.unit),
        loadProfile(String(device.profile)),
        ctx,
        {
          backoffMs: device.backoffMs as number | undefined,
          backoffMaxMs: device.backoffMaxMs as number | undefined,
        },
      );
    },
    async closeAll() {
      await Promise.allSettled([...live.values()].map((b) => b.close()));
      live.clear();
    },
  };
}
