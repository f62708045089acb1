import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchVillage } from '../../device-sims/village/launch.ts';
import { PROBE_PASSWORD_ENV, villageYaml } from '../../device-sims/village/config.ts';
import { createLogger } from '../logger.ts';
import { loadVillageConfig } from '../config/sections.ts';
import { freePort, eventually } from '../util/child.ts';
import { hasCommand } from '../util/which.ts';
import { launchInfluxd, type InfluxdProcess } from '../util/influxd.ts';
import { parse, port } from './args.ts';
import { credentialsFromEnv } from './credentials.ts';
import { onShutdown, runGateway } from './run-gateway.ts';
import { announceCredentials } from './announce.ts';
import type { Gateway } from '../app.ts';

const USAGE = `usage: npm run demo -- [options]

A whole demo village on this machine: simulated barrier controllers (Modbus TCP, and
Modbus RTU on a socat pseudo-terminal pair when socat is installed), simulated ONVIF
probes, the gateway with its MQTT broker, and InfluxDB when influxd is installed
(else the disk spool only). Prints one line containing "ready" once every device is
online. Ctrl-C stops everything.

options:
  --api-port N       HTTP API and status page (default 8080)
  --mqtt-port N      MQTT broker (default 1883)
  --influx-url URL   use this InfluxDB 1.x instead of starting influxd
  --data-dir DIR     where the demo keeps its data (default .data/demo)
  --barriers N       simulated barriers (default 4)
  --probes N         simulated probes (default 4)
  --no-traffic       no simulated cars
  -h, --help         this text`;

function count(v: string | undefined, flag: string, dflt: number): number {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new Error(`${flag} must be 0-64, got "${v}"`);
  return n;
}

export async function demo(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      'api-port': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'influx-url': { type: 'string' },
      'data-dir': { type: 'string' },
      barriers: { type: 'string' },
      probes: { type: 'string' },
      'no-traffic': { type: 'boolean' },
    },
    USAGE,
  );
  const dataDir = path.resolve(values['data-dir'] ?? '.data/demo');
  mkdirSync(dataDir, { recursive: true });
  const log = createLogger({ pretty: process.stdout.isTTY });
  const say = (line: string) => console.log(line);
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  };
  let gw: Gateway | undefined;
  onShutdown(log, stopAll);
  try {
    say('starting simulated devices…');
    const village = await launchVillage({
      barriers: count(values.barriers, '--barriers', 4),
      probes: count(values.probes, '--probes', 4),
      traffic: values['no-traffic'] ? 'off' : 'random',
      log: (l) => say(`  ${l}`),
    });
    cleanup.push(() => village.stop());

    let influxUrl = values['influx-url'];
    if (!influxUrl && hasCommand('influxd')) {
      say('starting influxd…');
      const influxPort = (await freePort8086()) ?? undefined;
      const influxd: InfluxdProcess = await launchInfluxd(path.join(dataDir, 'influxdb'), {
        httpPort: influxPort,
      });
      cleanup.push(async () => void (await influxd.proc.stop(10_000)));
      influxUrl = influxd.url;
    } else if (!influxUrl) {
      say('influxd is not installed: telemetry goes to the disk spool only (apt-get install influxdb)');
    }

    const configFile = path.join(dataDir, 'village.yaml');
    writeFileSync(configFile, villageYaml(village));
    process.env[PROBE_PASSWORD_ENV] = village.probes[0]?.password ?? 'unused';
    const loaded = loadVillageConfig(configFile);
    loaded.config.broker = { ...(loaded.config.broker as object), host: '127.0.0.1' };
    const credentials = credentialsFromEnv();
    gw = await runGateway({
      loaded,
      log,
      credentials,
      apiPort: port(values['api-port'], '--api-port') ?? 8080,
      // A demo stays on this machine: loopback only.
      apiHost: '127.0.0.1',
      mqttPort: port(values['mqtt-port'], '--mqtt-port') ?? 1883,
      dataDir,
      ...(influxUrl ? { influxUrl } : {}),
    });
    const running = gw;
    cleanup.push(() => running.stop());
    announceCredentials(credentials, {});

    const devices = running.registry.all().length;
    await eventually(() => running.state.all().every((s) => s.health.status !== 'offline'), {
      timeoutMs: 120_000,
      intervalMs: 250,
      what: 'every device online',
    });
    const token = credentials.apiToken;
    say(
      [
        `ready: demo village with ${devices} devices online (${village.barriers.length} barriers, ${village.probes.length} probes)`,
        `  status page  ${running.apiUrl}/#token=${token}`,
        `  API          ${running.apiUrl}/api/v1/devices   (Authorization: Bearer ${token})`,
        `  API docs     ${running.apiUrl}/docs`,
        `  MQTT         mqtt://127.0.0.1:${running.mqttPort}  user ${credentials.mqttUser}  topics gatehouse/v1/demo/#`,
        `  InfluxDB     ${influxUrl ?? 'none (spooling to disk)'}${influxUrl ? '  database gatehouse' : ''}`,
        `  config       ${configFile}`,
        'Ctrl-C to stop.',
      ].join('\n'),
    );
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** 8086 when free (so the influx CLI finds it by default), else another free port. */
async function freePort8086(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => void freePort().then(resolve));
    srv.listen(8086, '127.0.0.1', () => srv.close(() => resolve(8086)));
  });
}
