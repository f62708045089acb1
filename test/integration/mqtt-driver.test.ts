import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GatehouseBroker } from '../../gateway/broker/broker.ts';
import { MqttDeviceDriver } from '../../drivers/mqtt/driver.ts';
import { loadMqttProfile } from '../../drivers/mqtt/profile.ts';
import { DeviceError } from '../../drivers/contract/errors.ts';
import { eventually, freePort } from '../helpers/procs.ts';
import { mosq } from '../helpers/mqtt-clients.ts';

// The device is played by mosquitto_pub with the device role's credentials, publishing
// over TCP to the embedded broker; the driver listens inside the broker.
const P = 'gatehouse/v1/dv';
const log = pino({ level: 'silent' });
let broker: GatehouseBroker;
let port: number;
let clock = Date.now();
let driver: MqttDeviceDriver;

beforeAll(async () => {
  port = await freePort();
  broker = await GatehouseBroker.create({
    village: 'dv',
    log,
    config: {
      host: '127.0.0.1',
      port,
      users: [{ username: 'lumen-1', password: 'pw', role: 'device', device: 'lumen-1' }],
    },
  });
  await broker.listen();
  driver = new MqttDeviceDriver(
    {
      id: 'lumen-1',
      profile: loadMqttProfile('lumen-gate-mqtt'),
      prefix: P,
      subscribe: (f, h) => broker.subscribe(f, h),
      now: () => clock,
    },
    { log, emit: () => {}, dataDir: '/tmp' },
  );
  await driver.connect();
});

afterAll(async () => {
  await driver?.close();
  await broker?.close();
});

const publish = (payload: string) =>
  mosq('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-u',
    'lumen-1',
    '-P',
    'pw',
    '-t',
    `${P}/lumen-1/raw`,
    '-m',
    payload,
  ]);

it('maps the device JSON through the example profile onto canonical barrier fields', async () => {
  await expect(driver.read()).rejects.toMatchObject({ reason: 'not-polled-yet' });
  const doc = {
    gate: { st: 2, ang: 900 },
    io: { loop: 1, eye: 0 },
    cnt: [1520, 811, 806],
    env: { t_dC: 231, vin_mV: 23950 },
    motor: { mA: 1800 },
    err: 0,
  };
  expect((await publish(JSON.stringify(doc))).code).toBe(0);
  const r = await eventually(() => driver.read().catch(() => undefined), { what: 'first reading' });
  expect(r.fields).toEqual({
    arm_state: 'open',
    arm_angle_deg: 90,
    loop_occupied: true,
    photo_eye_blocked: false,
    cycles: 1520,
    vehicles_in: 811,
    vehicles_out: 806,
    cabinet_temp_c: 23.1,
    supply_v: 23.95,
    motor_current_a: 1.8,
    fault_code: 0,
  });
  expect(r.health).toBeUndefined();
});

it('garbage JSON makes the device degraded(bad-response), keeps the last good fields, and the broker runs on', async () => {
  await publish('{"gate": {"st": 2');
  const r = await eventually(
    async () => {
      const x = await driver.read();
      return x.health?.reason === 'bad-response' ? x : undefined;
    },
    { what: 'degraded reading' },
  );
  expect(r.health?.status).toBe('degraded');
  expect(r.fields).toMatchObject({ arm_state: 'open' });
  await publish(JSON.stringify({ gate: { st: 0, ang: 0 }, err: 7 }));
  const faulted = await eventually(
    async () => {
      const x = await driver.read();
      return (x.fields as { arm_state?: string }).arm_state === 'closed' ? x : undefined;
    },
    { what: 'fresh reading' },
  );
  expect(faulted.health).toMatchObject({ status: 'degraded', reason: 'barrier-fault:7' });
});

it('goes offline(timeout) after timeoutFactor × the expected interval of silence', async () => {
  clock += 2000 * 3 + 1;
  const err = await driver.read().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DeviceError);
  expect(err).toMatchObject({ reason: 'timeout', status: 'offline' });
});
