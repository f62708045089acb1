import net from 'node:net';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatehouseBroker } from '../../gateway/broker/broker.ts';
import { freePort } from '../helpers/procs.ts';
import { mosq } from '../helpers/mqtt-clients.ts';
import { TIMEOUT_MS, fcOptions } from './runs.ts';

// Random and malformed MQTT at the embedded broker's port over raw sockets: noise,
// valid packets with bytes flipped or cut, absurd remaining lengths, packets before
// CONNECT. The broker must stay up and keep serving a well-behaved client
// (mosquitto_pub/sub) between and after the cases. Bounded: 16 sockets at a time, each
// closed after 30 ms.

const P = 'gatehouse/v1/fz';
let broker: GatehouseBroker;
let port: number;
const AUTH = ['-u', 'admin', '-P', 'pw'];

beforeAll(async () => {
  port = await freePort();
  broker = await GatehouseBroker.create({
    village: 'fz',
    log: pino({ level: 'silent' }),
    config: { host: '127.0.0.1', port, users: [{ username: 'admin', password: 'pw', role: 'admin' }] },
  });
  await broker.listen();
});
afterAll(() => broker?.close());

const gen = (p: object) => mqttPacket.generate(p as mqttPacket.Packet);
const connect = gen({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: 4,
  clean: true,
  clientId: 'fz',
  keepalive: 10,
  username: 'admin',
  password: Buffer.from('pw'),
});
const templates = [
  connect,
  gen({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clean: true,
    clientId: 'fz5',
    keepalive: 0,
    properties: { sessionExpiryInterval: 10 },
  }),
  gen({
    cmd: 'publish',
    topic: `${P}/x/raw`,
    payload: Buffer.from('{}'),
    qos: 1,
    messageId: 7,
    retain: true,
  }),
  gen({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: '#', qos: 2 }] }),
  gen({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['#'] }),
  gen({ cmd: 'pingreq' }),
  gen({ cmd: 'disconnect' }),
  gen({ cmd: 'pubrel', messageId: 9 }),
];

const mutated = fc
  .tuple(
    fc.constantFrom(...templates),
    fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
    fc.option(fc.nat(), { nil: undefined }),
  )
  .map(([t, flips, cut]) => {
    const b = Buffer.from(t);
    for (const [at, v] of flips) b[at % b.length] = v;
    return cut === undefined ? b : b.subarray(0, cut % (b.length + 1));
  });
const hugeLength = fc
  .constantFrom(0x10, 0x30, 0x82)
  .map((cmd) => Buffer.from([cmd, 0xff, 0xff, 0xff, 0x7f, 0, 4, 77, 81]));
const session = fc.oneof(
  fc
    .array(
      fc.oneof(
        mutated,
        fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((parts) => Buffer.concat(parts)),
  fc
    .tuple(mutated, fc.uint8Array({ maxLength: 64 }))
    .map(([m, a]) => Buffer.concat([connect, m, Buffer.from(a)])),
  hugeLength,
);

function hit(bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = () => {
      s.destroy();
      resolve();
    };
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => s.write(bytes, () => setTimeout(done, 30)));
    setTimeout(done, 500);
  });
}

async function wellBehaved(n: number): Promise<void> {
  const topic = `${P}/probe-${n}/raw`;
  const sub = mosq('mosquitto_sub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    ...AUTH,
    '-t',
    topic,
    '-C',
    '1',
    '-W',
    '10',
  ]);
  await new Promise((r) => setTimeout(r, 300));
  const pub = await mosq('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    ...AUTH,
    '-t',
    topic,
    '-m',
    `ok-${n}`,
    '-q',
    '1',
  ]);
  expect(pub.code, pub.out).toBe(0);
  const got = await sub;
  expect(got.out.trim(), `well-behaved client after ${n} cases`).toBe(`ok-${n}`);
}

describe('broker against malformed MQTT on raw sockets', { timeout: TIMEOUT_MS }, () => {
  it(
    'stays up and serves mosquitto_pub/sub throughout',
    async () => {
      await wellBehaved(0);
      const cases = fc.sample(session, fcOptions());
      const started = Date.now();
      for (let i = 0; i < cases.length; i += 16) {
        await Promise.all(cases.slice(i, i + 16).map(hit));
        if (i > 0 && i % 2000 === 0) await wellBehaved(i);
      }
      await wellBehaved(cases.length);
      console.log(
        `MQTT fuzz: ${cases.length} raw sessions in ${Date.now() - started} ms; broker served throughout`,
      );
    },
    TIMEOUT_MS,
  );
});
