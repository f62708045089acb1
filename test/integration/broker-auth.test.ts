import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { GatehouseBroker } from '../../gateway/broker/broker.ts';
import { hashPassword } from '../../gateway/broker/passwords.ts';
import { MqttSink } from '../../gateway/sinks/mqtt/sink.ts';
import type { CommandRecord, CommandRequest, SubmitCommand } from '../../gateway/commands/schema.ts';
import { eventually, freePort, type Proc } from '../helpers/procs.ts';
import { messages, mosq, subscriber } from '../helpers/mqtt-clients.ts';

// The broker under test runs in this process; every client is a real mosquitto_pub /
// mosquitto_sub process (or a raw socket) talking to it over loopback TCP.
const V = 'testvillage';
const P = `gatehouse/v1/${V}`;
const denials: { clientId?: string; topic?: string; msg: string }[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => void denials.push(JSON.parse(line)) });

let broker: GatehouseBroker;
let sink: MqttSink;
let port: number;
const submitted: { device: string; request: CommandRequest; actor: string }[] = [];
const procs: Proc[] = [];

const as = (u: string, p: string) => ['-u', u, '-P', p];
const conn = () => ['-h', '127.0.0.1', '-p', String(port)];
const ADMIN = as('admin', 'admin-pw');
const PLATFORM = as('town', 'town-pw');
const DEVICE = as('gate-1', 'dev-pw');
const READER = as('dash', 'reader-pw');

beforeAll(async () => {
  port = await freePort();
  broker = await GatehouseBroker.create({
    village: V,
    log,
    config: {
      host: '127.0.0.1',
      port,
      users: [
        { username: 'admin', password: 'admin-pw', role: 'admin' },
        { username: 'town', passwordHash: await hashPassword('town-pw'), role: 'platform' },
        { username: 'gate-1', passwordHash: await hashPassword('dev-pw'), role: 'device', device: 'gate-1' },
        { username: 'dash', password: 'reader-pw', role: 'reader' },
      ],
    },
  });
  await broker.listen();
  // A stand-in for the command service (the lead's, not part of this module): it records
  // each call and answers with an accepted record; later states come via publishCommandUpdate.
  const submit: SubmitCommand = async (device, request, actor) => {
    submitted.push({ device, request, actor });
    const now = new Date().toISOString();
    return {
      id: `cmd-${submitted.length}`,
      requestId: request.requestId,
      device,
      action: request.action,
      actor,
      reason: request.reason,
      state: 'accepted',
      createdAt: now,
      updatedAt: now,
      history: [{ state: 'accepted', at: now }],
    };
  };
  sink = new MqttSink({ broker, log, submitCommand: submit });
  await sink.start();
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await sink?.close();
  await broker?.close();
});

describe('authentication', () => {
  it('refuses anonymous clients (CONNACK 5) and wrong passwords (CONNACK 4)', async () => {
    const anon = await mosq('mosquitto_pub', [...conn(), '-t', `${P}/x/events`, '-m', '1']);
    expect(anon.code).not.toBe(0);
    expect(anon.out).toMatch(/not authori[sz]ed/i);
    const wrong = await mosq('mosquitto_pub', [
      ...conn(),
      ...as('town', 'nope'),
      '-t',
      `${P}/x/cmd`,
      '-m',
      '1',
    ]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toMatch(/bad user name or password/i);
    const unknown = await mosq('mosquitto_pub', [
      ...conn(),
      ...as('ghost', 'town-pw'),
      '-t',
      `${P}/x/cmd`,
      '-m',
      '1',
    ]);
    expect(unknown.out).toMatch(/bad user name or password/i);
  });

  it('refuses a zero-length client id with CleanSession=0 with CONNACK 0x02 [MQTT-3.1.3-8]', async () => {
    const connack = async (flags: number) =>
      new Promise<Buffer>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        const user = Buffer.from('admin');
        const pass = Buffer.from('admin-pw');
        const body = Buffer.concat([
          Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags | 0xc0, 0, 30]), // MQTT 3.1.1, user+password
          Buffer.from([0, 0]), // zero-length client id
          Buffer.from([0, user.length]),
          user,
          Buffer.from([0, pass.length]),
          pass,
        ]);
        s.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
        s.once('data', (d) => {
          s.destroy();
          resolve(d);
        });
        s.once('error', reject);
      });
    expect([...(await connack(0x00))].slice(0, 4)).toEqual([0x20, 2, 0, 2]);
    expect([...(await connack(0x02))].slice(0, 4)).toEqual([0x20, 2, 0, 0]);
  });
});

describe('role ACLs', () => {
  it('a device publishing outside its prefix is denied, logged, and the message never arrives', async () => {
    const sub = await subscriber(port, ADMIN, ['-t', `${P}/#`]);
    procs.push(sub);
    await mosq('mosquitto_pub', [...conn(), ...DEVICE, '-t', `${P}/gate-2/telemetry`, '-m', 'spoofed']);
    await mosq('mosquitto_pub', [...conn(), ...DEVICE, '-t', `${P}/gate-1/cmd`, '-m', 'self-command']);
    await mosq('mosquitto_pub', [...conn(), ...DEVICE, '-t', `${P}/gate-1/raw`, '-m', 'mine']);
    await eventually(() => messages(sub).includes(`${P}/gate-1/raw mine`), { what: 'own message' });
    expect(messages(sub).join('\n')).not.toMatch(/spoofed|self-command/);
    expect(denials.some((d) => d.msg === 'mqtt publish denied' && d.topic === `${P}/gate-2/telemetry`)).toBe(
      true,
    );
    await sub.stop();
  });

  it('a device subscribes only to its own cmd; a reader subscribes under the prefix only and never publishes', async () => {
    const devOther = await mosq('mosquitto_sub', [...conn(), ...DEVICE, '-t', `${P}/gate-2/cmd`, '-W', '2']);
    expect(devOther.out).toMatch(/denied|rejected|failure/i);
    const readerAll = await mosq('mosquitto_sub', [...conn(), ...READER, '-t', '#', '-W', '2']);
    expect(readerAll.out).toMatch(/denied|rejected|failure/i);
    const sub = await subscriber(port, READER, ['-t', `${P}/+/events`]);
    procs.push(sub);
    await mosq('mosquitto_pub', [...conn(), ...READER, '-t', `${P}/gate-1/events`, '-m', 'from-reader']);
    await mosq('mosquitto_pub', [...conn(), ...ADMIN, '-t', `${P}/gate-1/events`, '-m', 'from-admin']);
    await eventually(() => messages(sub).includes(`${P}/gate-1/events from-admin`), { what: 'admin event' });
    expect(messages(sub)).not.toContain(`${P}/gate-1/events from-reader`);
    await sub.stop();
  });
});

describe('village topics from the MQTT sink', () => {
  it('retained state and availability are received on subscribe', async () => {
    const device = { id: 'gate-7', kind: 'barrier' as const, site: 'north', lane: 'in' };
    sink.handle({
      type: 'health',
      device,
      health: { status: 'degraded', reason: 'barrier-fault:3', since: new Date().toISOString() },
      errors: 0,
      time: Date.now(),
    });
    sink.handle({
      type: 'telemetry',
      device,
      fields: { arm_state: 'closed', loop_occupied: false },
      time: Date.now(),
    });
    await sink.flush();
    const r = await mosq('mosquitto_sub', [
      ...conn(),
      ...READER,
      '-v',
      '-C',
      '2',
      '-W',
      '5',
      '-t',
      `${P}/gate-7/state`,
      '-t',
      `${P}/gate-7/availability`,
    ]);
    const lines = r.out.trim().split('\n');
    expect(lines).toContain(`${P}/gate-7/availability online`);
    const state = JSON.parse(
      lines.find((l) => l.startsWith(`${P}/gate-7/state `))!.slice(`${P}/gate-7/state `.length),
    );
    expect(state).toMatchObject({
      device: 'gate-7',
      kind: 'barrier',
      site: 'north',
      status: 'degraded',
      reason: 'barrier-fault:3',
      fields: { arm_state: 'closed', loop_occupied: false },
    });
  });

  it("a platform user's command reaches SubmitCommand with the username as actor; results come back on cmd/result", async () => {
    const sub = await subscriber(port, PLATFORM, ['-t', `${P}/gate-1/cmd/result`]);
    procs.push(sub);
    const cmd = { requestId: 'r-100', action: 'open', reason: 'ticket 42 paid' };
    const pub = await mosq('mosquitto_pub', [
      ...conn(),
      ...PLATFORM,
      '-q',
      '1',
      '-t',
      `${P}/gate-1/cmd`,
      '-m',
      JSON.stringify(cmd),
    ]);
    expect(pub.code).toBe(0);
    await eventually(() => submitted.length === 1, { what: 'submit call' });
    expect(submitted[0]).toEqual({ device: 'gate-1', request: cmd, actor: 'town' });
    const record = (state: CommandRecord['state']): CommandRecord => ({
      id: 'cmd-1',
      requestId: 'r-100',
      device: 'gate-1',
      action: 'open',
      actor: 'town',
      reason: 'ticket 42 paid',
      state,
      createdAt: '',
      updatedAt: '',
      history: [],
    });
    for (const s of ['accepted', 'executing', 'confirmed'] as const) sink.publishCommandUpdate(record(s));
    await eventually(() => messages(sub).length >= 3, { what: 'three results' });
    const states = messages(sub).map((l) => (JSON.parse(l.slice(l.indexOf(' ') + 1)) as CommandRecord).state);
    expect(states).toEqual(['accepted', 'executing', 'confirmed']); // `accepted` once, though submit also returned it

    await mosq('mosquitto_pub', [
      ...conn(),
      ...PLATFORM,
      '-t',
      `${P}/gate-1/cmd`,
      '-m',
      JSON.stringify({ requestId: 'r-101', action: 'fly', reason: 'x' }),
    ]);
    await eventually(() => messages(sub).length >= 4, { what: 'rejection' });
    const rejection = JSON.parse(messages(sub)[3]!.slice(messages(sub)[3]!.indexOf(' ') + 1));
    expect(rejection).toMatchObject({
      requestId: 'r-101',
      state: 'failed',
      error: { code: 'GH_MQTT_COMMAND_INVALID', field: 'action' },
    });
    expect(submitted).toHaveLength(1);
    await sub.stop();
  });
});
