export {
  ModbusBusConfigSchema,
  ModbusDeviceOptionsSchema,
  createModbusDrivers,
  createBus,
} from './config.ts';
export type { ModbusBusConfig, ModbusDeviceOptions, ModbusDrivers } from './config.ts';
export { ModbusBarrierDriver } from './driver.ts';
export { ModbusBus } from './bus.ts';
export { loadProfile, parseProfile, listProfiles, DEFAULT_PROFILE_DIR, COMMANDS } from './profile.ts';
export type { Profile, CommandName } from './profile.ts';
