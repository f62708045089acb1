import type { Logger } from 'pino';
import { Gateway } from '../app.ts';
import type { LoadedConfig } from '../config/load.ts';
import { loadVillageConfig } from '../config/sections.ts';
import { credentialsOf } from '../credentials/from-config.ts';
import type { Credentials } from './credentials.ts';

export interface RunOptions {
  loaded: LoadedConfig;
  log: Logger;
  credentials: Credentials;
  apiPort?: number;
  apiHost?: string;
  mqttPort?: number;
  dataDir?: string;
  influxUrl?: string;
}

/**
 * Start a gateway from a loaded config. A config that names no API tokens gets one
 * admin token, and one that names no MQTT users gets one admin user, both from the
 * environment or generated (printed once by the caller, never logged). A reload
 * (SIGHUP, the admin route) reads the same file again under the same rule.
 */
export async function runGateway(o: RunOptions): Promise<Gateway> {
  const { config, file } = o.loaded;
  const { tokens, users } = credentialsOf(config, o.credentials);
  return Gateway.start({
    config: { ...config, broker: { ...config.broker, users } },
    configFile: file,
    log: o.log,
    tokens,
    credentials: () => credentialsOf(loadVillageConfig(file).config, o.credentials),
    ...(o.apiPort !== undefined ? { apiPort: o.apiPort } : {}),
    ...(o.apiHost !== undefined ? { apiHost: o.apiHost } : {}),
    ...(o.mqttPort !== undefined ? { mqttPort: o.mqttPort } : {}),
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    ...(o.influxUrl !== undefined ? { influxUrl: o.influxUrl } : {}),
  });
}

const FORCE_AFTER_MS = 2000;

/** SIGHUP reloads certificates and credentials, as daemons do; it never stops the gateway. */
export function onReload(reload: () => void): void {
  process.on('SIGHUP', reload);
}

/** Stop cleanly on SIGINT/SIGTERM (a second signal, 2 s or more later, forces the exit). */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stoppingSince = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (stoppingSince) {
      // Ctrl-C reaches every process of the terminal's group, and a wrapper (npm, tsx)
      // relays it once more: only a signal given well after the first one forces the exit.
      if (Date.now() - stoppingSince < FORCE_AFTER_MS) return;
      log.warn(`second ${signal}: exiting now`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info(`${signal} received: stopping (polling, commands, sinks, ports)`);
    stop().then(
      () => {
        log.info('stopped cleanly');
        log.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
