import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ptyPair } from '../helpers/socat.ts';
import { eventually, freePort, startTs, stopAll, type Proc } from '../helpers/procs.ts';
import {
  deviceWhen,
  startGateway,
  TEST_TOKEN,
  type DeviceView,
  type GatewayProc,
} from '../helpers/gateway.ts';

// An installer finding the barrier controllers of a village by sweeping its buses, on a
// running gateway that already polls one of them: real simulator processes on Modbus TCP
// (two profiles, one endpoint each) and on an RS-485 line made of a socat pty pair.

interface Hit {
  unit: number;
  profiles: string[];
  detail?: string;
  info?: Record<string, string>;
  device?: { kind: string; driver: string; bus: string; unit: number; profile: string };
}
interface Job {
  id: string;
  kind: string;
  state: 'running' | 'done' | 'failed';
  progress: { done: number; total: number; found: number };
  result?: Hit[];
  error?: string;
}

async function barrierSim(args: string[]): Promise<Proc> {
  const p = startTs('device-sims/main.ts', ['barrier', ...args]);
  await p.waitFor(/listening/, 30_000);
  return p;
}

async function cli(args: string[]) {
  const p = startTs('gateway/cli/main.ts', args, {
    env: { ...process.env, GATEHOUSE_API_TOKEN: TEST_TOKEN },
  });
  const { code } = await p.exited;
  return { code, out: p.output() };
}

describe('sweeping Modbus buses for barrier controllers on a running gateway', () => {
  let gw: GatewayProc;
  let tty: { a: string; b: string };

  beforeAll(async () => {
    const [a, b, c] = [await freePort(), await freePort(), await freePort()];
    const pair = await ptyPair();
    tty = pair;
    await Promise.all([
      barrierSim(['--tcp', `127.0.0.1:${a}`, '--units', '1,2', '--profile', 'northgate-hr']),
      barrierSim(['--tcp', `127.0.0.1:${b}`, '--unit', '5', '--profile', 'pulsar-relay']),
      barrierSim([
        ...['--tcp', `127.0.0.1:${c}`, '--unit', '9', '--profile', 'came-barrier'],
        ...['--info', 'serial=ZLB30B00012345', '--info', 'firmware=2.1.7'],
      ]),
      barrierSim(['--serial', pair.b, '--baud', '19200', '--units', '3,4', '--profile', 'pulsar-relay']),
    ]);
    gw = await startGateway(`village: sweeptest
buses:
  - { id: tcp-a, type: tcp, host: 127.0.0.1, port: ${a} }
  - { id: tcp-b, type: tcp, host: 127.0.0.1, port: ${b} }
  - { id: tcp-c, type: tcp, host: 127.0.0.1, port: ${c} }
devices:
  - { id: gate-1, kind: barrier, driver: modbus, bus: tcp-a, unit: 1, profile: northgate-hr, pollMs: 100 }
`);
    await deviceWhen(gw, 'gate-1', (d) => d.health.status === 'online', 'online');
  }, 120_000);
  afterAll(stopAll);

  async function sweep(bus: string, units: string): Promise<Job> {
    // 400 ms per silent unit rather than 150: a loaded CI machine must not hide a controller.
    const start = await gw.post(`/api/v1/commissioning/buses/${bus}/scan`, { units, timeoutMs: 400 });
    expect(start.status, JSON.stringify(start.body)).toBe(202);
    const id = (start.body as unknown as Job).id;
    return eventually(
      async () => {
        const j = (await gw.get(`/api/v1/commissioning/jobs/${id}`)).body as unknown as Job;
        return j.state !== 'running' ? j : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `sweep of ${bus} done` },
    );
  }

  it('finds the units on a TCP endpoint and tells their profile, while the polled barrier keeps polling', async () => {
    // How old gate-1's latest reading is, sampled through the sweep (it polls every 100 ms).
    const ages: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const d = (await gw.get('/api/v1/devices/gate-1')).body as unknown as DeviceView & {
          lastSeen?: string;
        };
        expect(d.health.status).toBe('online');
        ages.push(Date.now() - Date.parse(d.lastSeen!));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const job = await sweep('tcp-a', '1-20');
    sampling = false;
    await sampler;
    expect(job.error).toBeUndefined();
    expect(job).toMatchObject({
      kind: 'scan-modbus',
      state: 'done',
      progress: { done: 20, total: 20, found: 2 },
    });
    expect(job.result!.map((h) => [h.unit, h.profiles])).toEqual([
      [1, ['northgate-hr']],
      [2, ['northgate-hr']],
    ]);
    expect(job.result![1]!.device).toEqual({
      kind: 'barrier',
      driver: 'modbus',
      bus: 'tcp-a',
      unit: 2,
      profile: 'northgate-hr',
    });
    // Polling went on through the sweep: a fresh reading at every sample, never a gap of
    // more than a few polls (a poll waits for one sweep request at most).
    expect(ages.length).toBeGreaterThan(3);
    expect(Math.max(...ages), JSON.stringify(ages)).toBeLessThan(1500);
  });

  it('tells other vendors by their signatures, with what the controller says about itself', async () => {
    const pulsar = await sweep('tcp-b', '1-10');
    expect(pulsar.state).toBe('done');
    expect(pulsar.result!.map((h) => [h.unit, h.profiles])).toEqual([[5, ['pulsar-relay']]]);
    const came = await sweep('tcp-c', '1-12');
    expect(came.result!.map((h) => [h.unit, h.profiles])).toEqual([[9, ['came-barrier']]]);
    expect(came.result![0]!.info).toMatchObject({ serial: 'ZLB30B00012345', firmware: '2.1.7' });
  });

  it('refuses a sweep of an unknown bus, a bad unit list, and a second sweep of a busy bus', async () => {
    const none = await gw.post('/api/v1/commissioning/buses/nope/scan', { units: '1-3' });
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('GH_BUS_NOT_FOUND');
    const bad = await gw.post('/api/v1/commissioning/buses/tcp-a/scan', { units: '0-300' });
    expect(bad.status).toBe(400);
    expect(String(bad.body.message)).toMatch(/units/);
    const first = await gw.post('/api/v1/commissioning/buses/tcp-b/scan', { units: '1-247' });
    expect(first.status).toBe(202);
    const second = await gw.post('/api/v1/commissioning/buses/tcp-b/scan', { units: '1-3' });
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('GH_SCAN_RUNNING');
  });

  it('adds an RS-485 bus live, sweeps it from the CLI with a progress bar, adds and removes what it found', async () => {
    const added = await cli([
      'add',
      'bus',
      'id=rs485-1',
      'type=rtu',
      `path=${tty.a}`,
      'baud=19200',
      '--url',
      gw.api,
    ]);
    expect(added.out).toContain('added bus rs485-1');
    expect(added.code).toBe(0);
    const buses = (await gw.get('/api/v1/commissioning/buses')).body.buses as { id: string }[];
    expect(buses.map((b) => b.id)).toEqual(['tcp-a', 'tcp-b', 'tcp-c', 'rs485-1']);

    const scan = await cli([
      'scan-modbus',
      '--bus',
      'rs485-1',
      '--units',
      '1-6',
      '--timeout-ms',
      '400',
      '--url',
      gw.api,
      '--json',
    ]);
    expect(scan.code, scan.out).toBe(0);
    expect(scan.out).toMatch(/bus rs485-1 .*6\/6 \| 2 found/);
    const hits = JSON.parse(scan.out.slice(scan.out.indexOf('['))) as Hit[];
    expect(hits.map((h) => [h.unit, h.profiles])).toEqual([
      [3, ['pulsar-relay']],
      [4, ['pulsar-relay']],
    ]);

    const d = hits[0]!.device!;
    const add = await cli([
      'add',
      'device',
      'id=rs485-gate-3',
      `kind=${d.kind}`,
      `driver=${d.driver}`,
      `bus=${d.bus}`,
      `unit=${d.unit}`,
      `profile=${d.profile}`,
      'pollMs=200',
      '--url',
      gw.api,
    ]);
    expect(add.out).toMatch(/test: answered in \d+ ms/);
    expect(add.out).toContain('added device rs485-gate-3');
    await deviceWhen(gw, 'rs485-gate-3', (v) => v.health.status === 'online', 'online');
    const ids = () =>
      gw.get('/api/v1/devices').then((r) => (r.body.devices as { id: string }[]).map((x) => x.id).sort());
    expect(await ids()).toEqual(['gate-1', 'rs485-gate-3']);

    const inUse = await cli(['remove', 'bus', 'rs485-1', '--url', gw.api]);
    expect(inUse.code).toBe(2);
    expect(inUse.out).toContain('error GH_BUS_IN_USE: bus "rs485-1" still carries rs485-gate-3');

    expect((await cli(['remove', 'device', 'rs485-gate-3', '--url', gw.api])).code).toBe(0);
    expect(await ids()).toEqual(['gate-1']);
    const gone = await cli(['remove', 'bus', 'rs485-1', '--url', gw.api]);
    expect(gone.out).toContain('removed bus rs485-1');
    const config = parse(readFileSync(gw.configFile, 'utf8')) as {
      buses: { id: string }[];
      devices: unknown[];
    };
    expect(config.buses.map((b) => b.id)).toEqual(['tcp-a', 'tcp-b', 'tcp-c']);
    expect(config.devices).toHaveLength(1);
  });

  it('lists every new command in the CLI help, each with its own --help', async () => {
    const help = await cli(['--help']);
    for (const c of ['scan-modbus', 'add', 'remove']) {
      expect(help.out).toContain(c);
      const own = await cli([c, '--help']);
      expect(own.code).toBe(0);
      expect(own.out).toContain(`usage: gatehouse ${c}`);
    }
  });
});
