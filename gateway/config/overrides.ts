import type { VillageConfig } from './load.ts';

/** What the command line may override in a loaded config (flags of `gatehouse start`). */
export interface ConfigOverrides {
  apiPort?: number;
  apiHost?: string;
  mqttPort?: number;
  dataDir?: string;
  influxUrl?: string;
}

/** The config with command-line flags applied: flags win over the file. */
export function withOverrides(config: VillageConfig, o: ConfigOverrides): VillageConfig {
  const api = { ...config.api };
  if (o.apiPort !== undefined) api.port = o.apiPort;
  if (o.apiHost !== undefined) api.host = o.apiHost;
  const broker: Record<string, unknown> = { ...((config.broker as object | undefined) ?? {}) };
  if (o.mqttPort !== undefined) broker.port = o.mqttPort;
  const influx: Record<string, unknown> = { ...((config.influx as object | undefined) ?? {}) };
  if (o.influxUrl !== undefined) influx.url = o.influxUrl;
  return {
    ...config,
    api,
    broker,
    influx,
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
  };
}
