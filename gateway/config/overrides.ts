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
  return {
    ...config,
    api: { ...config.api, ...defined({ port: o.apiPort, host: o.apiHost }) },
    broker: { ...config.broker, ...defined({ port: o.mqttPort }) },
    influx: { ...config.influx, ...defined({ url: o.influxUrl }) },
    ...defined({ dataDir: o.dataDir }),
  };
}

/** Only the keys that carry a value: an absent flag leaves the config's value alone. */
function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
