import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GatehouseBroker } from '../../gateway/broker/broker.ts';
import { eventually, freePort } from '../helpers/procs.ts';
import { mosq } from '../helpers/mqtt-clients.ts';

// MQTT 3.1.1 normative statements checked against the broker in this process with
// independent clients: mosquitto_pub/sub processes, and mqtt.js where those cannot
// express the case (overlapping subscriptions, a client that stops sending PINGREQ).
let broker: GatehouseBroker;
let port: number;
const clients: MqttClient[] = [];
const A = () => ['-h', '127.0.0.1', '-p', String(port), '-u', 'admin', '-P', 'pw'];
const client = async (opts: mqtt.IClientOptions = {}) => {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    username: 'admin',
    password: 'pw',
    reconnectPeriod: 0,
    ...opts,
  });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  port = await freePort();
  broker = await GatehouseBroker.create({
    village: 'cv',
    log: pino({ level: 'silent' }),
    config: { host: '127.0.0.1', port, users: [{ username: 'admin', password: 'pw', role: 'admin' }] },
  });
  await broker.listen();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker?.close();
});

it('retained $ topics are not sent to # or +/… subscribers, only to $-filters [MQTT-4.7.2-1]', async () => {
  await mosq('mosquitto_pub', [...A(), '-r', '-q', '1', '-t', '$diag/x', '-m', 'dollar']);
  await mosq('mosquitto_pub', [...A(), '-r', '-q', '1', '-t', 'plain/x', '-m', 'plain']);
  const wild = await mosq('mosquitto_sub', [...A(), '-v', '-t', '#', '-t', '+/x', '-W', '2']);
  expect(wild.out).toContain('plain/x plain');
  expect(wild.out).not.toContain('dollar');
  const literal = await mosq('mosquitto_sub', [...A(), '-v', '-t', '$diag/#', '-C', '1', '-W', '5']);
  expect(literal.out.trim()).toBe('$diag/x dollar');
});

it('a QoS 2 message reaches a QoS 1 wildcard subscription at QoS 1 [MQTT-3.8.4-6], and at most the granted QoS on retained', async () => {
  const got: number[] = [];
  const sub = await client();
  sub.on('message', (_t, _p, pkt) => got.push(pkt.qos));
  await sub.subscribeAsync('q/#', { qos: 1 });
  await mosq('mosquitto_pub', [...A(), '-q', '2', '-t', 'q/a', '-m', 'x']);
  await eventually(() => got.length === 1, { what: 'delivery' });
  expect(got).toEqual([1]);
  await mosq('mosquitto_pub', [...A(), '-q', '2', '-r', '-t', 'q/r', '-m', 'kept']);
  const sub0 = await client();
  const got0: number[] = [];
  sub0.on('message', (_t, _p, pkt) => got0.push(pkt.qos));
  await sub0.subscribeAsync('q/+', { qos: 0 });
  await eventually(() => got0.length === 1, { what: 'retained' });
  expect(got0).toEqual([0]);
});

it('overlapping subscriptions deliver at the highest granted QoS [MQTT-3.3.5-1]; unsubscribe stops delivery [MQTT-3.10.4-2]', async () => {
  const got: { topic: string; qos: number }[] = [];
  const sub = await client();
  sub.on('message', (topic, _p, pkt) => got.push({ topic, qos: pkt.qos }));
  await sub.subscribeAsync({ 'o/#': { qos: 0 }, 'o/b': { qos: 1 } });
  await mosq('mosquitto_pub', [...A(), '-q', '1', '-t', 'o/b', '-m', '1']);
  await eventually(() => got.length >= 1, { what: 'overlap delivery' });
  expect(Math.max(...got.map((g) => g.qos))).toBe(1);
  await sub.unsubscribeAsync(['o/#', 'o/b']);
  const before = got.length;
  await mosq('mosquitto_pub', [...A(), '-q', '1', '-t', 'o/b', '-m', '2']);
  const check = await client();
  const checked: string[] = [];
  check.on('message', (_t, p) => checked.push(p.toString()));
  await check.subscribeAsync('o/b', { qos: 1 });
  await mosq('mosquitto_pub', [...A(), '-q', '1', '-t', 'o/b', '-m', '3']);
  await eventually(() => checked.includes('3'), { what: 'later message at another subscriber' });
  await new Promise((r) => setTimeout(r, 200));
  expect(got.length).toBe(before);
});

it('a client silent for 1.5 × keepalive is disconnected and its will is published [MQTT-3.1.2-24, MQTT-3.1.2-8]', async () => {
  const watcher = await client();
  const wills: string[] = [];
  watcher.on('message', (_t, p) => wills.push(p.toString()));
  await watcher.subscribeAsync('w/status', { qos: 1 });
  const silent = await client({
    keepalive: 1,
    will: { topic: 'w/status', payload: Buffer.from('gone'), qos: 1, retain: false },
  });
  // Stop PINGREQs: the client's keepalive timer is what sends them.
  (silent as unknown as { _destroyKeepaliveManager(): void })._destroyKeepaliveManager();
  await eventually(() => wills.includes('gone'), { timeoutMs: 10_000, what: 'will after keepalive timeout' });
  const clean = await client({
    will: { topic: 'w/status', payload: Buffer.from('clean-gone'), qos: 1, retain: false },
  });
  await clean.endAsync(); // DISCONNECT: the will is discarded [MQTT-3.14.4-3]
  await new Promise((r) => setTimeout(r, 500));
  expect(wills).not.toContain('clean-gone');
});

it('a persistent session gets QoS 1 messages sent while it was away; sessionPresent tells it [MQTT-3.2.2-2]', async () => {
  const a = await client({ clientId: 'sess-1', clean: false });
  await a.subscribeAsync('s/#', { qos: 1 });
  await a.endAsync();
  await mosq('mosquitto_pub', [...A(), '-q', '1', '-t', 's/1', '-m', 'while-away']);
  const got: string[] = [];
  const b = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    username: 'admin',
    password: 'pw',
    clientId: 'sess-1',
    clean: false,
    reconnectPeriod: 0,
  });
  clients.push(b);
  b.on('message', (_t, p) => got.push(p.toString()));
  const connack = await new Promise<{ sessionPresent: boolean }>((r) => b.once('connect', r));
  expect(connack.sessionPresent).toBe(true);
  await eventually(() => got.includes('while-away'), { what: 'queued message' });
});
