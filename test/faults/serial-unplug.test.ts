import { afterAll, expect, it } from 'vitest';
import {
  deviceWhen,
  startBarrierSim,
  startGateway,
  TEST_TOKEN,
  type GatewayProc,
} from '../helpers/gateway.ts';
import { startSim } from '../helpers/modbus-harness.ts';
import { eventually, stopAll } from '../helpers/procs.ts';
import { ptyPair } from '../helpers/socat.ts';
import path from 'node:path';
import { metricValue } from './fleet.ts';

// The RS-485 adapter unplugged mid-transaction and plugged back: the socat pair is
// killed while the line is busy (two units polled every 200 ms) and a new pair made at
// the same link paths. A Modbus TCP barrier on another bus keeps being polled.
const POLL_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(() => stopAll());

const status = async (gw: GatewayProc, id: string) =>
  ((await gw.get(`/api/v1/devices/${id}`)).body as { health: { status: string; reason?: string } }).health;
const errorsOf = (gw: GatewayProc, id: string) =>
  metricValue(gw.api, TEST_TOKEN, 'gatehouse_device_poll_errors_total', { device: id }).catch(() => 0);
const readings = (gw: GatewayProc) => metricValue(gw.api, TEST_TOKEN, 'gatehouse_readings_total');

it('serial pty removed and recreated: offline within 3 polls, back without restart, other bus unaffected', async () => {
  let pty = await ptyPair();
  await startSim(['--serial', pty.b, '--baud', '19200', '--units', '1,2', '--traffic', 'off']);
  const tcp = await startBarrierSim(['--traffic', 'off']);
  const unit = (id: string, bus: string, n: number) =>
    `  - { id: ${id}, kind: barrier, driver: modbus, bus: ${bus}, unit: ${n}, profile: northgate-hr, pollMs: ${POLL_MS} }`;
  const gw = await startGateway(
    [
      'village: faultville',
      'buses:',
      `  - { id: rs485-1, type: rtu, path: ${pty.a}, baud: 19200, timeoutMs: 300 }`,
      `  - { id: tcp-1, type: tcp, host: 127.0.0.1, port: ${tcp.modbus}, timeoutMs: 300 }`,
      'devices:',
      unit('r1', 'rs485-1', 1),
      unit('r2', 'rs485-1', 2),
      unit('t1', 'tcp-1', 1),
      '',
    ].join('\n'),
  );
  for (const id of ['r1', 'r2', 't1'])
    await deviceWhen(gw, id, (d) => d.health.status === 'online', 'online');
  await sleep(1000);

  const errorsBefore = await errorsOf(gw, 'r1');
  pty.proc.child.kill('SIGKILL');
  const unplugged = Date.now();
  const seen: string[] = [];
  const offline = await eventually(
    async () => {
      const [h, t] = await Promise.all([status(gw, 'r1'), status(gw, 't1')]);
      seen.push(t.status);
      return h.status === 'offline' ? h : undefined;
    },
    { what: 'r1 offline', timeoutMs: 10_000, intervalMs: 20 },
  );
  const failedPolls = (await errorsOf(gw, 'r1')) - errorsBefore;
  const offlineMs = Date.now() - unplugged;
  const tcpReadingsBefore = await readings(gw);
  await sleep(2000); // unplugged for a while: the other bus must go on
  const duringOutage = (await readings(gw)) - tcpReadingsBefore;
  seen.push((await status(gw, 't1')).status);

  pty = await ptyPair(path.dirname(pty.a));
  const replugged = Date.now();
  for (const id of ['r1', 'r2'])
    await deviceWhen(gw, id, (d) => d.health.status === 'online', 'online again', 20_000);
  const backMs = Date.now() - replugged;
  console.log(
    `serial unplug: r1 ${offline.status}(${offline.reason}) after ${offlineMs} ms and ${failedPolls} failed polls; ` +
      `readings during the outage ${duringOutage} (t1 status seen: ${[...new Set(seen)].join(',')}); ` +
      `both units online ${backMs} ms after the new pty`,
  );
  expect(failedPolls).toBeLessThanOrEqual(3);
  expect(new Set(seen)).toEqual(new Set(['online']));
  // t1 alone polls ~5/s: 2 s of outage is ~10 readings from it, none from r1/r2.
  expect(duringOutage).toBeGreaterThanOrEqual(6);
  expect(gw.proc.child.exitCode).toBeNull();
}, 90_000);
