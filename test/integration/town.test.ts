import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  barrierYaml,
  simControl,
  startBarrierSim,
  startGateway,
  type GatewayProc,
} from '../helpers/gateway.ts';
import { startInfluxd, type Influxd } from '../helpers/influxd.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { messages, mosq, subscriber } from '../helpers/mqtt-clients.ts';
import { eventually, stopAll, type Proc } from '../helpers/procs.ts';
import { startUplink, type Uplink } from '../helpers/tcp-proxy.ts';

// Three villages into one town, on existing engines only: three gateways (real
// processes), a central Debian mosquitto and a central influxd. Each gateway writes
// its own InfluxDB (one local influxd holds the three villages' databases here, one
// database each, standing for three village servers) and the town's, each with its own
// spool. Each village reaches the town through its own uplink, a TCP relay the test
// can cut like a failed radio link.
const VILLAGES = ['ashby', 'brook', 'carden'] as const;
type Village = (typeof VILLAGES)[number];
const TOWN_AUTH = ['-u', 'town', '-P', 'town-pw'];

interface VillageRig {
  name: Village;
  sim: Awaited<ReturnType<typeof startBarrierSim>>;
  mqttLink: Uplink;
  influxLink: Uplink;
  gw: GatewayProc;
}

function villageYaml(v: Village, modbus: number, local: Influxd, links: { mqtt: number; influx: number }) {
  const P = `gatehouse/v1/${v}`;
  return barrierYaml(
    modbus,
    `influx:
  url: ${local.url}
  database: gatehouse_${v}
  flushIntervalMs: 200
influxTargets:
  - name: town
    url: http://127.0.0.1:${links.influx}
    database: gatehouse
    flushIntervalMs: 200
bridge:
  url: mqtt://127.0.0.1:${links.mqtt}
  clientId: gatehouse-${v}
  username: village-${v}
  password: { env: GH_TEST_UPLINK_PW }
  qos: 2
  keepaliveSeconds: 5
  forward: ['${P}/+/telemetry', '${P}/+/cmd/result', '${P}/+/events']
  subscribe: ['${P}/+/cmd']
`,
  ).replace('village: testville', `village: ${v}`);
}

/** Time stamps (ms) of one device's barrier points in a database, oldest first. */
async function pointTimes(db: Influxd, database: string, village: Village, from: number, to: number) {
  const series = await db.query(
    `SELECT * FROM "barrier" WHERE "village" = '${village}' AND time >= ${from}ms AND time <= ${to}ms`,
    database,
  );
  // The helper asks for epoch milliseconds; a time string would mean it did not.
  return (series[0]?.values ?? []).map((v) => {
    if (typeof v[0] !== 'number') throw new Error(`expected epoch ms, got ${String(v[0])}`);
    return v[0];
  });
}

describe('three villages into one town', () => {
  let central: Mosquitto;
  let townDb: Influxd;
  let localDb: Influxd;
  const rigs = new Map<Village, VillageRig>();
  let townTelemetry: Proc;

  beforeAll(async () => {
    [central, townDb, localDb] = await Promise.all([
      startMosquitto({
        users: [
          ...VILLAGES.map((v) => ({ username: `village-${v}`, password: 'uplink-pw' })),
          { username: 'town', password: 'town-pw' },
        ],
        acl: [
          ...VILLAGES.flatMap((v) => [`user village-${v}`, `topic readwrite gatehouse/v1/${v}/#`]),
          'user town',
          'topic readwrite gatehouse/#',
        ],
      }),
      startInfluxd(),
      startInfluxd(),
    ]);
    // The town watches every village's telemetry from the start, at QoS 2.
    townTelemetry = await subscriber(central.port, TOWN_AUTH, [
      '-q',
      '2',
      '-t',
      'gatehouse/v1/+/+/telemetry',
    ]);
    await Promise.all(
      VILLAGES.map(async (name) => {
        const [sim, mqttLink, influxLink] = await Promise.all([
          startBarrierSim(['--open-ms', '300', '--close-ms', '300', '--traffic', 'off']),
          startUplink(central.port),
          startUplink(townDb.httpPort),
        ]);
        const gw = await startGateway(
          villageYaml(name, sim.modbus, localDb, { mqtt: mqttLink.port, influx: influxLink.port }),
          { env: { GH_TEST_UPLINK_PW: 'uplink-pw' } },
        );
        rigs.set(name, { name, sim, mqttLink, influxLink, gw });
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await stopAll();
    for (const r of rigs.values()) await Promise.all([r.mqttLink.close(), r.influxLink.close()]);
    await Promise.all([central?.dispose(), townDb?.destroy(), localDb?.destroy()]);
  }, 60_000);

  it('brings every village’s telemetry into the town’s InfluxDB, tagged by village', async () => {
    const villages = await eventually(
      async () => {
        const s = await townDb.query('SELECT count("cycles") FROM "barrier" GROUP BY "village"', 'gatehouse');
        const names = s.map((x) => x.tags?.village).sort();
        return names.length === 3 ? names : undefined;
      },
      { what: 'points from three villages in the town database', timeoutMs: 30_000 },
    );
    expect(villages).toEqual([...VILLAGES]);
    // Each village's own database holds its own points only.
    for (const v of VILLAGES) {
      const own = await localDb.query(
        'SELECT count("cycles") FROM "barrier" GROUP BY "village"',
        `gatehouse_${v}`,
      );
      expect(own.map((x) => x.tags?.village)).toEqual([v]);
    }
  });

  it('takes a gate command from the town to the right village only, and sends its result back', async () => {
    const before = await Promise.all(
      VILLAGES.map(async (v) => {
        const s = (await simControl(rigs.get(v)!.sim.control, '/state')) as {
          units: Record<string, { counts: { received: number } }>;
        };
        return s.units['1']!.counts.received;
      }),
    );
    const result = await subscriber(central.port, TOWN_AUTH, [
      '-q',
      '1',
      '-t',
      'gatehouse/v1/+/barrier-1/cmd/result',
    ]);
    try {
      const pub = await mosq('mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(central.port),
        ...TOWN_AUTH,
        '-q',
        '1',
        '-t',
        'gatehouse/v1/brook/barrier-1/cmd',
        '-m',
        JSON.stringify({ requestId: 'town-brook-1', action: 'open', reason: 'fee paid at the town desk' }),
      ]);
      expect(pub.code).toBe(0);
      await eventually(
        () => messages(result).some((l) => /"requestId":"town-brook-1".*"state":"confirmed"/.test(l)),
        { what: 'a confirmed result from brook at the town broker', timeoutMs: 20_000 },
      );
      const lines = messages(result);
      expect(lines.every((l) => l.startsWith('gatehouse/v1/brook/barrier-1/cmd/result '))).toBe(true);
    } finally {
      await result.stop();
    }
    const after = await Promise.all(
      VILLAGES.map(async (v) => {
        const s = (await simControl(rigs.get(v)!.sim.control, '/state')) as {
          units: Record<string, { counts: { received: number } }>;
        };
        return s.units['1']!.counts.received;
      }),
    );
    expect(after[1]! - before[1]!).toBe(1);
    // ashby and carden never saw a command.
    expect([after[0]! - before[0]!, after[2]! - before[2]!]).toEqual([0, 0]);
  });

  it('catches up after a village’s uplink was cut, in order, nothing lost, nothing duplicated', async () => {
    const brook = rigs.get('brook')!;
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 2_000));
    await Promise.all([brook.mqttLink.cut(), brook.influxLink.cut()]);
    const cutAt = Date.now();
    // The village goes on polling and writing its own database while the town is out of reach.
    await new Promise((r) => setTimeout(r, 8_000));
    const localDuringCut = await pointTimes(
      localDb,
      'gatehouse_brook',
      'brook',
      cutAt + 500,
      Date.now() - 500,
    );
    expect(localDuringCut.length).toBeGreaterThan(10);
    await Promise.all([brook.mqttLink.restore(), brook.influxLink.restore()]);
    await new Promise((r) => setTimeout(r, 2_000));
    const to = Date.now();
    // The local sink writes in batches every 200 ms: let the window's last points land
    // before reading what the village stored.
    await new Promise((r) => setTimeout(r, 1_500));
    // Everything the village wrote locally in [from, to] reaches the town, point for point.
    const local = await pointTimes(localDb, 'gatehouse_brook', 'brook', from, to);
    const town = await eventually(
      async () => {
        const t = await pointTimes(townDb, 'gatehouse', 'brook', from, to);
        return t.length >= local.length ? t : undefined;
      },
      { what: 'the town database caught up with brook', timeoutMs: 30_000 },
    );
    expect(town).toEqual(local);
    // Over MQTT: every telemetry message of brook in the window arrived once, in order.
    const telemetry = await eventually(
      () => {
        const times = messages(townTelemetry)
          .filter((l) => l.startsWith('gatehouse/v1/brook/barrier-1/telemetry '))
          .map((l) => Date.parse((JSON.parse(l.slice(l.indexOf(' ') + 1)) as { time: string }).time))
          .filter((t) => t >= from && t <= to);
        return times.length >= local.length ? times : undefined;
      },
      { what: 'brook’s queued telemetry delivered to the town broker', timeoutMs: 30_000 },
    );
    expect(new Set(telemetry).size).toBe(telemetry.length);
    expect([...telemetry].sort((a, b) => a - b)).toEqual(telemetry);
    const missing = telemetry.filter((t) => !local.includes(t));
    const extra = local.filter((t) => !telemetry.includes(t));
    console.log({
      missing: missing.map((t) => new Date(t).toISOString()),
      extra,
      from,
      cutAt,
      to,
      n: local.length,
    });
    expect(telemetry).toEqual(local);
    // The cut really happened: the uplink reconnected through a new connection.
    expect(brook.mqttLink.accepted).toBeGreaterThanOrEqual(2);
  }, 90_000);
});
