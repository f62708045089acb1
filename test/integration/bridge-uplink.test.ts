import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GatehouseBroker } from '../../gateway/broker/broker.ts';
import { Bridge } from '../../gateway/bridge/bridge.ts';
import { eventually } from '../helpers/procs.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';

// The central broker is a real Debian mosquitto (password file, ACL, persistence); the
// village broker runs in this process; the bridge connects them over loopback TCP.
const V = 'bv';
const P = `gatehouse/v1/${V}`;
const log = pino({ level: 'warn' });
const dir = mkdtempSync(path.join(tmpdir(), 'gh-bridge-'));
let central: Mosquitto;
let broker: GatehouseBroker;
let bridge: Bridge;

beforeAll(async () => {
  central = await startMosquitto({
    users: [
      { username: 'village-bv', password: 'uplink-pw' },
      { username: 'town', password: 'town-pw' },
    ],
    acl: ['user village-bv', `topic readwrite ${P}/#`, 'user town', 'topic readwrite gatehouse/#'],
    maxInflight: 10,
  });
  broker = await GatehouseBroker.create({
    village: V,
    log,
    config: { host: '127.0.0.1', port: 0, users: [] },
  });
  bridge = new Bridge({
    broker,
    log,
    dataDir: dir,
    config: {
      url: `mqtt://127.0.0.1:${central.port}`,
      username: 'village-bv',
      password: 'uplink-pw',
      clientId: 'gatehouse-bv',
      forward: [`${P}/+/telemetry`, `${P}/+/cmd/result`],
      subscribe: [`${P}/+/cmd`],
      maxInflight: 8,
      maxQueueBytes: 64 * 1024 * 1024,
      keepaliveSeconds: 5,
      qos: 1,
    },
  });
  await bridge.start();
  await eventually(() => bridge.connected, { what: 'bridge connected' });
});

afterAll(async () => {
  await bridge?.close();
  await broker?.close();
  await central?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

it('forwards every message in order, at least once, across a central broker restart (disk queue)', async () => {
  // The town's subscriber keeps a persistent QoS 1 session on the central broker.
  const received: number[] = [];
  const town = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.port}`, {
    username: 'town',
    password: 'town-pw',
    clientId: 'town-dash',
    clean: false,
    reconnectPeriod: 500,
  });
  town.on('message', (_t, payload) => received.push(Number(JSON.parse(payload.toString()).seq)));
  await town.subscribeAsync(`${P}/+/telemetry`, { qos: 1 });

  const N = 600;
  let seq = 0;
  const publishBatch = async (n: number) => {
    for (let i = 0; i < n; i++) await broker.publish(`${P}/gate-1/telemetry`, JSON.stringify({ seq: seq++ }));
  };
  await publishBatch(200);
  await central.stop(); // uplink down mid-stream
  await publishBatch(200); // these wait in the disk queue
  await eventually(() => bridge.stats().bridge_queue_bytes! > 0, { what: 'queued while down' });
  // The client learns of the broker's exit when its socket closes, a moment after the
  // process ended: wait for that instead of racing it.
  await eventually(() => !bridge.connected, { what: 'the bridge sees the uplink down', timeoutMs: 10_000 });
  expect(bridge.connected).toBe(false);
  await central.restart();
  await publishBatch(N - 400);

  await eventually(() => new Set(received).size === N, { timeoutMs: 45_000, what: `all ${N} messages` });
  // At least once, in order: dropping repeats (a replayed unacknowledged tail) leaves 0..N-1 in order.
  const firstSeen = received.filter((s, i) => received.indexOf(s) === i);
  expect(firstSeen).toEqual([...Array(N).keys()]);
  expect(bridge.stats().bridge_dropped).toBe(0);
  expect(await bridge.drain()).toBe(true);
  await town.endAsync();
});

it('injects commands from the central broker into the local broker, and never echoes them back', async () => {
  const local: { topic: string; actor?: string }[] = [];
  const off = await broker.subscribe(
    `${P}/+/cmd`,
    (m) => void local.push({ topic: m.topic, ...(m.sender ? { actor: m.sender.username } : {}) }),
  );
  const town = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.port}`, {
    username: 'town',
    password: 'town-pw',
  });
  await town.publishAsync(
    `${P}/gate-3/cmd`,
    JSON.stringify({ requestId: 'c1', action: 'open', reason: 'r' }),
    { qos: 1 },
  );
  await eventually(() => local.length === 1, { what: 'injected command' });
  expect(local[0]).toEqual({ topic: `${P}/gate-3/cmd`, actor: 'bridge:gatehouse-bv' });
  await off();
  await town.endAsync();
});
