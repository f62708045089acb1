import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { startGateway, TEST_TOKEN } from '../helpers/gateway.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { eventually, stopAll } from '../helpers/procs.ts';
import { fleetDevices, fleetYaml, metricValue, P, recordTelemetry, seqProfile, startFleet } from './fleet.ts';

const DEVICES = 10;
const DOWN_MS = 8_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let central: Mosquitto | undefined;
afterAll(async () => {
  await stopAll();
  await central?.dispose();
});

/** The town's consumer: a persistent QoS 1 session on the central broker, so its queue survives a restart. */
async function townConsumer(port: number): Promise<{ seen: Map<string, number>; stop(): Promise<void> }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    username: 'town',
    password: 'town-pw',
    clientId: 'town-consumer',
    clean: false,
    reconnectPeriod: 200,
  });
  await new Promise((r) => client.once('connect', r));
  await client.subscribeAsync(`${P}/+/telemetry`, { qos: 1 });
  const seen = new Map<string, number>();
  client.on('message', (_t, payload) => {
    const doc = JSON.parse(payload.toString()) as { device: string; time: string };
    const k = `${doc.device}@${Date.parse(doc.time)}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  });
  return { seen, stop: () => client.endAsync() };
}

it('central broker restarted under load: the bridge queue carries every message across', async () => {
  central = await startMosquitto({
    users: [
      { username: 'village', password: 'uplink-pw' },
      { username: 'town', password: 'town-pw' },
    ],
    maxInflight: 100,
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-fault-bridge-'));
  const gw = await startGateway(
    fleetYaml(
      seqProfile(dir),
      DEVICES,
      `bridge:
  url: mqtt://127.0.0.1:${central.port}
  clientId: gatehouse-faultville
  username: village
  password: { env: GH_TEST_UPLINK_PW }
  forward: ['${P}/+/telemetry']
  subscribe: []
`,
    ),
    { env: { GH_TEST_UPLINK_PW: 'uplink-pw' } },
  );
  const town = await townConsumer(central.port);
  const oracle = await recordTelemetry(gw.mqttPort);
  const fleet = await startFleet(gw.mqttPort, fleetDevices(DEVICES), { intervalMs: 100, maxMs: 60_000 });
  await eventually(() => town.seen.size > 100, { what: 'telemetry reaching the town' });

  await central.stop();
  const down = Date.now();
  await eventually(async () => (await metricValue(gw.api, TEST_TOKEN, 'gatehouse_bridge_queue_bytes')) > 0, {
    what: 'bridge queueing',
  });
  await sleep(DOWN_MS - (Date.now() - down));
  const queued = await metricValue(gw.api, TEST_TOKEN, 'gatehouse_bridge_queue_bytes');
  await central.restart();
  const up = Date.now();
  await eventually(
    async () => (await metricValue(gw.api, TEST_TOKEN, 'gatehouse_bridge_queue_bytes')) === 0,
    { what: 'bridge queue drained', timeoutMs: 30_000 },
  );
  const drainMs = Date.now() - up;
  await sleep(1000);
  await fleet.stop();
  await oracle.stop();
  await eventually(
    async () => (await metricValue(gw.api, TEST_TOKEN, 'gatehouse_bridge_queue_bytes')) === 0,
    {
      what: 'bridge queue drained at the end',
    },
  );
  await sleep(1000);
  await town.stop();

  const emitted = [...oracle.points.keys()];
  const lost = emitted.filter((k) => !town.seen.has(k)).length;
  const duplicated = [...town.seen.values()].filter((n) => n > 1).length;
  const dropped = await metricValue(gw.api, TEST_TOKEN, 'gatehouse_bridge_dropped_total').catch(() => 0);
  console.log(
    `central broker down ${DOWN_MS / 1000} s: emitted ${emitted.length}, reached the town ${town.seen.size}, ` +
      `lost ${lost}, delivered twice ${duplicated} (QoS 1 allows it), queue at restart ${queued} B, ` +
      `drained ${drainMs} ms after restart, dropped ${dropped}`,
  );
  expect(queued).toBeGreaterThan(0);
  expect(emitted.length).toBeGreaterThan(DEVICES * 8 * 10);
  expect(lost).toBe(0);
  expect(dropped).toBe(0);
}, 120_000);
