import { ModbusBusConfigSchema } from '../../drivers/modbus/config.ts';
import { BridgeConfigSchema } from '../bridge/config.ts';
import { BrokerConfigSchema } from '../broker/config.ts';
import { InfluxSinkConfigSchema, InfluxTargetSchema } from '../sinks/influx/config.ts';
import { createDriverPlugins } from '../plugins.ts';
import { loadConfig, parseConfig, type ConfigSections, type LoadedConfig } from './load.ts';

/** Each module owns the schema of its config section; the village config is their sum. */
export const SECTIONS: ConfigSections = {
  broker: BrokerConfigSchema,
  influx: InfluxSinkConfigSchema,
  influxTarget: InfluxTargetSchema,
  bridge: BridgeConfigSchema,
  bus: ModbusBusConfigSchema,
};

export function loadVillageConfig(file: string): LoadedConfig {
  return loadConfig(file, SECTIONS, createDriverPlugins());
}

export function parseVillageConfig(text: string, file: string): LoadedConfig {
  return parseConfig(text, file, SECTIONS, createDriverPlugins());
}
