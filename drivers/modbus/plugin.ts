import { Type } from '@sinclair/typebox';
import type { DriverPlugin } from '../contract/plugin.ts';
import type { ModbusBus } from './bus.ts';
import {
  createBus,
  ModbusBusConfigSchema,
  profileFor,
  ModbusDeviceOptionsSchema,
  type ModbusBusConfig,
} from './config.ts';
import { ModbusBarrierDriver } from './driver.ts';
import { listProfiles, loadProfile } from './profile.ts';
import { describer, recogniser } from './recognise.ts';
import { sweep } from './scan.ts';

export { ModbusBusConfigSchema };

/** A silent unit costs a sweep this long; a controller on the line answers well within it. */
const SWEEP_TIMEOUT_MS = 150;
/** At most one sweep request per 20 ms: a sweep never floods a line or a serial device server. */
const SWEEP_GAP_MS = 20;

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
        profileFor(device);
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
      return new ModbusBarrierDriver(device.id, bus, device.unit, profileFor(device), ctx, {
        backoffMs: device.backoffMs,
        backoffMaxMs: device.backoffMaxMs,
      });
    },
    async closeAll() {
      await Promise.allSettled([...live.values()].map((b) => b.close()));
      live.clear();
    },
    async closeBus(busId) {
      const bus = live.get(busId);
      live.delete(busId);
      await bus?.close();
    },
    async scan(request, env) {
      let bus = live.get(request.bus);
      if (!bus) {
        // A bus no device uses yet (just added for commissioning): opened now, shared from then on.
        bus = createBus(env.buses.get(request.bus) as ModbusBusConfig, { log: env.log });
        live.set(request.bus, bus);
      }
      const line = bus;
      const timeoutMs = request.timeoutMs ?? SWEEP_TIMEOUT_MS;
      const profiles = listProfiles().map((name) => loadProfile(name));
      return sweep(
        (unit, pdu, phase) =>
          line.request(
            unit,
            pdu,
            phase === 'presence'
              ? { priority: 'background', timeoutMs, retries: 0 }
              : { priority: 'background' },
          ),
        {
          units: request.units,
          recognise: recogniser(profiles),
          describe: describer(profiles),
          minGapMs: SWEEP_GAP_MS,
          ...(request.onProgress ? { onProgress: request.onProgress } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        },
      );
    },
  };
}
