import type { Logger } from 'pino';
import { Gateway } from '../app.ts';
import type { ApiToken } from '../api/context.ts';
import type { LoadedConfig } from '../config/load.ts';
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
 * environment or generated (printed once by the caller, never logged).
 */
export async function runGateway(o: RunOptions): Promise<Gateway> {
  const { config } = o.loaded;
  const tokens: ApiToken[] = config.api.tokens.map((t) => ({ name: t.name, role: t.role, token: t.token }));
  if (tokens.length === 0) tokens.push({ name: 'admin', role: 'admin', token: o.credentials.apiToken });
  const broker = { ...config.broker };
  if (broker.users.length === 0) {
    broker.users = [
      { username: o.credentials.mqttUser, password: o.credentials.mqttPassword, role: 'admin' },
    ];
  }
  return Gateway.start({
    config: { ...config, broker },
    configFile: o.loaded.file,
    log: o.log,
    tokens,
    ...(o.apiPort !== undefined ? { apiPort: o.apiPort } : {}),
    ...(o.apiHost !== undefined ? { apiHost: o.apiHost } : {}),
    ...(o.mqttPort !== undefined ? { mqttPort: o.mqttPort } : {}),
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    ...(o.influxUrl !== undefined ? { influxUrl: o.influxUrl } : {}),
  });
}

const FORCE_AFTER_MS = 2000;

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
