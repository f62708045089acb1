import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../harness/child.ts';
import { launchInfluxd } from '../harness/influxd.ts';
import { startMosquitto } from '../harness/mosquitto.ts';
import { hasCommand } from '../harness/which.ts';
import { PROBE_PASSWORD_ENV, villageYaml } from './config.ts';
import { devicesUp, startGatewayProcess } from './gateway-proc.ts';
import { launchVillage } from './launch.ts';

const NAMES = ['ashby', 'brook', 'carden', 'dunmore', 'elswick', 'fenwick', 'garth', 'hollin', 'ingram'];

export interface TownOptions {
  villages: number;
  apiPort: number;
  mqttPort: number;
  dataDir: string;
  noTraffic: boolean;
  say(line: string): void;
  /** Where the launcher registers what to stop, in start order. */
  cleanup: (() => Promise<unknown>)[];
}

/**
 * A town of N villages on this machine, scaled out on existing engines: a central
 * mosquitto (the town broker) and a central influxd (the town's store), and per
 * village its simulators and its own gateway process. Each gateway writes its own
 * database and the town's, and bridges its topics to the town broker.
 */
export async function launchTown(o: TownOptions): Promise<void> {
  for (const cmd of ['mosquitto', 'mosquitto_passwd', 'influxd']) {
    if (!hasCommand(cmd)) throw new Error(`--villages needs ${cmd} (apt-get install mosquitto influxdb)`);
  }
  const villages = NAMES.slice(0, o.villages);
  const secret = () => randomBytes(12).toString('base64url');
  const uplinkPassword = secret();
  const townPassword = process.env.GATEHOUSE_TOWN_PASSWORD || secret();
  const token = process.env.GATEHOUSE_API_TOKEN || secret();

  o.say('starting the town broker and the town InfluxDB…');
  const central = await startMosquitto({
    port: o.mqttPort,
    users: [
      ...villages.map((v) => ({ username: `village-${v}`, password: uplinkPassword })),
      { username: 'town', password: townPassword },
    ],
    acl: [
      ...villages.flatMap((v) => [`user village-${v}`, `topic readwrite gatehouse/v1/${v}/#`]),
      'user town',
      'topic readwrite gatehouse/#',
    ],
  });
  o.cleanup.push(() => central.stop());
  const townDb = await launchInfluxd(path.join(o.dataDir, 'town-influxdb'), { httpPort: await freePort() });
  o.cleanup.push(() => townDb.proc.stop(10_000));
  const villageDb = await launchInfluxd(path.join(o.dataDir, 'village-influxdb'), {
    httpPort: await freePort(),
  });
  o.cleanup.push(() => villageDb.proc.stop(10_000));

  const lines: string[] = [];
  let devices = 0;
  for (const [i, name] of villages.entries()) {
    o.say(`village ${name}: starting simulated devices…`);
    const village = await launchVillage({
      barriers: 2,
      probes: 1,
      rtu: false,
      traffic: o.noTraffic ? 'off' : 'random',
      log: (l) => o.say(`  ${l}`),
    });
    o.cleanup.push(() => village.stop());
    const dir = path.join(o.dataDir, name);
    mkdirSync(dir, { recursive: true });
    const P = `gatehouse/v1/${name}`;
    const configFile = path.join(dir, 'village.yaml');
    writeFileSync(
      configFile,
      villageYaml(village, {
        village: name,
        brokerHost: '127.0.0.1',
        extra: {
          influx: { url: villageDb.url, database: `gatehouse_${name}` },
          influxTargets: [{ name: 'town', url: townDb.url, database: 'gatehouse' }],
          bridge: {
            url: `mqtt://127.0.0.1:${central.port}`,
            clientId: `gatehouse-${name}`,
            username: `village-${name}`,
            password: { env: 'GATEHOUSE_UPLINK_PASSWORD' },
            qos: 2,
            forward: [`${P}/+/state`, `${P}/+/availability`, `${P}/+/events`, `${P}/+/cmd/result`],
            subscribe: [`${P}/+/cmd`],
          },
        },
      }),
    );
    const apiPort = o.apiPort + i;
    const gateway = startGatewayProcess({
      configFile,
      apiPort,
      mqttPort: await freePort(),
      dataDir: dir,
      env: {
        GATEHOUSE_API_TOKEN: token,
        GATEHOUSE_MQTT_PASSWORD: secret(),
        GATEHOUSE_UPLINK_PASSWORD: uplinkPassword,
        [PROBE_PASSWORD_ENV]: village.probes[0]?.password ?? 'unused',
      },
    });
    o.cleanup.push(() => gateway.stop(15_000));
    await gateway.waitFor(/gateway ready:/, 60_000);
    const api = `http://127.0.0.1:${apiPort}`;
    devices += await devicesUp(api, token);
    lines.push(`  ${name.padEnd(8)} ${api}/#token=${token}   database gatehouse_${name}`);
  }
  o.say(
    [
      `ready: demo town with ${villages.length} villages, ${devices} devices online`,
      ...lines,
      `  town MQTT    mqtt://127.0.0.1:${central.port}  user town / ${townPassword}  topics gatehouse/v1/+/#`,
      `  town Influx  ${townDb.url}  database gatehouse (every village, tagged village=…)`,
      `  village DBs  ${villageDb.url}`,
      `  API token    ${token}`,
      'Ctrl-C to stop.',
    ].join('\n'),
  );
}
