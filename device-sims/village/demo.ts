import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../harness/child.ts';
import { launchInfluxd } from '../harness/influxd.ts';
import { hasCommand } from '../harness/which.ts';
import { PROBE_PASSWORD_ENV, villageYaml } from './config.ts';
import { devicesUp, startGatewayProcess } from './gateway-proc.ts';
import { launchVillage } from './launch.ts';
import { launchTown } from './town.ts';

const USAGE = `usage: npm run demo -- [options]

A whole demo village on this machine: simulated barrier controllers (Modbus TCP, and
Modbus RTU on a socat pseudo-terminal pair when socat is installed), simulated ONVIF
probes, InfluxDB when influxd is installed (else the disk spool only), and the
gateway with its MQTT broker, each its own process. Prints one line containing
"ready" once every device is online. Ctrl-C stops everything.

options:
  --api-port N       HTTP API and status page (default 8080)
  --mqtt-port N      MQTT broker (default 1883)
  --influx-url URL   use this InfluxDB 1.x instead of starting influxd
  --data-dir DIR     where the demo keeps its data (default .data/demo)
  --barriers N       simulated barriers (default 4)
  --probes N         simulated probes (default 4)
  --no-traffic       no simulated cars
  --villages N       a town instead: N villages (2-9), each with its simulators and
                     gateway, a central mosquitto and a central influxd (needs both);
                     API ports from --api-port up, the town broker on --mqtt-port
  -h, --help         this text

environment:
  GATEHOUSE_API_TOKEN, GATEHOUSE_MQTT_USER, GATEHOUSE_MQTT_PASSWORD
                     the demo's credentials (else generated and printed once)`;

function usageError(msg: string): never {
  console.error(`${msg}\n\n${USAGE}`);
  process.exit(2);
}

function count(v: string | undefined, flag: string, dflt: number): number {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 64) usageError(`${flag} must be 0-64, got "${v}"`);
  return n;
}

function portFlag(v: string | undefined, flag: string, dflt: number): number {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) usageError(`${flag} must be a port 0-65535, got "${v}"`);
  return n;
}

/** 8086 when free (so the influx CLI finds it by default), else another free port. */
async function freePort8086(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => void freePort().then(resolve));
    srv.listen(8086, '127.0.0.1', () => srv.close(() => resolve(8086)));
  });
}

const FORCE_AFTER_MS = 2000;

export async function run(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'api-port': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'influx-url': { type: 'string' },
        'data-dir': { type: 'string' },
        barriers: { type: 'string' },
        probes: { type: 'string' },
        'no-traffic': { type: 'boolean' },
        villages: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    usageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const apiPort = portFlag(values['api-port'], '--api-port', 8080);
  const mqttPort = portFlag(values['mqtt-port'], '--mqtt-port', 1883);
  const nBarriers = count(values.barriers, '--barriers', 4);
  const nProbes = count(values.probes, '--probes', 4);
  const dataDir = path.resolve(values['data-dir'] ?? '.data/demo');
  mkdirSync(dataDir, { recursive: true });
  const say = (line: string) => console.log(line);

  const cleanup: (() => Promise<unknown>)[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
    })());
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches every process of the terminal's group and npm relays it once
    // more: only a signal well after the first forces the exit.
    if (firstSignalAt) {
      if (Date.now() - firstSignalAt >= FORCE_AFTER_MS) process.exit(1);
      return;
    }
    firstSignalAt = Date.now();
    say(`${signal}: stopping the gateway, then the simulators`);
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const villages = count(values.villages, '--villages', 1);
  if (villages > 9) usageError(`--villages must be 1-9, got "${values.villages}"`);
  try {
    if (villages > 1) {
      await launchTown({
        villages,
        apiPort,
        mqttPort,
        dataDir,
        noTraffic: values['no-traffic'] ?? false,
        say,
        cleanup,
      });
      return;
    }
    say('starting simulated devices…');
    const village = await launchVillage({
      barriers: nBarriers,
      probes: nProbes,
      traffic: values['no-traffic'] ? 'off' : 'random',
      log: (l) => say(`  ${l}`),
    });
    cleanup.push(() => village.stop());

    let influxUrl = values['influx-url'];
    if (!influxUrl && hasCommand('influxd')) {
      say('starting influxd…');
      const influxd = await launchInfluxd(path.join(dataDir, 'influxdb'), { httpPort: await freePort8086() });
      cleanup.push(() => influxd.proc.stop(10_000));
      influxUrl = influxd.url;
    } else if (!influxUrl) {
      say('influxd is not installed: telemetry goes to the disk spool only (apt-get install influxdb)');
    }

    const configFile = path.join(dataDir, 'village.yaml');
    writeFileSync(configFile, villageYaml(village, { brokerHost: '127.0.0.1' }));
    const generated: string[] = [];
    const secret = (name: string) =>
      process.env[name] || (generated.push(name), randomBytes(18).toString('base64url'));
    const token = secret('GATEHOUSE_API_TOKEN');
    const mqttUser = process.env.GATEHOUSE_MQTT_USER || 'gatehouse';
    const mqttPassword = secret('GATEHOUSE_MQTT_PASSWORD');

    say('starting the gateway…');
    const gateway = startGatewayProcess({
      configFile,
      apiPort,
      mqttPort,
      dataDir,
      ...(influxUrl ? { influxUrl } : {}),
      echo: true,
      env: {
        GATEHOUSE_API_TOKEN: token,
        GATEHOUSE_MQTT_USER: mqttUser,
        GATEHOUSE_MQTT_PASSWORD: mqttPassword,
        [PROBE_PASSWORD_ENV]: village.probes[0]?.password ?? 'unused',
      },
    });
    // The gateway goes first on the way down, so it sees its devices until the end.
    cleanup.push(() => gateway.stop(15_000));
    void gateway.exited.then(({ code, signal }) => {
      if (!stopping) {
        console.error(`the gateway exited (${code ?? signal}); stopping the demo`);
        void stopAll().then(() => process.exit(1));
      }
    });
    await gateway.waitFor(/gateway ready:/, 60_000);
    const api = `http://127.0.0.1:${apiPort}`;
    const devices = await devicesUp(api, token);
    if (generated.length > 0) {
      say('generated credentials, shown only now:');
      if (generated.includes('GATEHOUSE_API_TOKEN'))
        say(`  API token (admin):  ${token}   (set GATEHOUSE_API_TOKEN to choose it)`);
      if (generated.includes('GATEHOUSE_MQTT_PASSWORD'))
        say(
          `  MQTT user (admin):  ${mqttUser} / ${mqttPassword}   (set GATEHOUSE_MQTT_PASSWORD to choose it)`,
        );
    }
    say(
      [
        `ready: demo village with ${devices} devices online (${village.barriers.length} barriers, ${village.probes.length} probes)`,
        `  status page  ${api}/#token=${token}`,
        `  API          ${api}/api/v1/devices   (Authorization: Bearer ${token})`,
        `  API docs     ${api}/docs`,
        `  MQTT         mqtt://127.0.0.1:${mqttPort}  user ${mqttUser}  topics gatehouse/v1/demo/#`,
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
