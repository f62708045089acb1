import { execFileSync, spawnSync } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarrierFields } from '../../drivers/contract/canonical.ts';
import { createModbusDrivers } from '../../drivers/modbus/config.ts';
import { RtuTransport } from '../../drivers/modbus/transport.ts';
import { ptyPair } from '../helpers/socat.ts';
import { stopAll, type Proc } from '../helpers/procs.ts';
import { deviceWhen, startGateway, type GatewayProc } from '../helpers/gateway.ts';
import { readUntil, startSim, testContext, type SimHandle } from '../helpers/modbus-harness.ts';

/**
 * The CAME profile (drivers/modbus/profiles/came-barrier.yaml, from CAME's published
 * map) end to end: the simulator serves it at the map's line settings, the gateway
 * reads and commands it over RTU and over TCP, and mbpoll, a master sharing no code with
 * either, reads the same registers by the map's own numbers (mbpoll's -r counts from 1,
 * as the map does: -r 101 is register 40101).
 *
 * A socat pty pair carries bytes, not bits: Linux ptys clear PARENB and force CS8
 * whatever a program asks, so 8E1 on a pty is accepted and ignored at both ends. The
 * parity test below shows what does reach the port; only a real RS-485 adapter tries
 * the framing itself.
 */
const HOST = '127.0.0.1';
const INFO = { board_id: '0x1203', firmware: '2.1.17', serial: 'ZLB30B00012345' };

function mbpoll(args: string[]): number[] {
  const r = spawnSync('mbpoll', ['-1', '-o', '2', ...args], { encoding: 'utf8', timeout: 20_000 });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`mbpoll ${args.join(' ')}: ${out}`);
  return [...out.matchAll(/^\[\d+\]:\s+(\d+)/gm)].map((m) => Number(m[1]));
}
const text = (words: number[]) =>
  String.fromCharCode(...words.flatMap((w) => [w >> 8, w & 0xff])).replace(/\0+$/, '');

/** What the published map says 40101–40110 and 40001–40011 hold, decoded by hand from raw words. */
function byTheMap(status: number[], info: number[]) {
  const gate: Record<number, string> = {
    0: 'unknown',
    16: 'open',
    17: 'closed',
    19: 'stopped',
    32: 'opening',
    33: 'closing',
  };
  return {
    arm_state: gate[status[0]!],
    position_pct: status[1],
    cycles: status[4]! + status[5]! * 65536, // LSW first
    inputs: status[8],
    board_temp_c: status[9]! >= 0x8000 ? status[9]! - 0x10000 : status[9],
    board_id: `0x${info[0]!.toString(16).toUpperCase().padStart(4, '0')}`,
    firmware: info.slice(1, 4).join('.'),
    serial: text(info.slice(4, 11)),
  };
}

describe('the line settings reach the serial port (and a pty drops parity)', () => {
  it('baud, stop bits and odd parity land in the tty; PARENB does not survive on a pty', async () => {
    const pty = await ptyPair();
    const stty = () => execFileSync('stty', ['-F', pty.a, '-a'], { encoding: 'utf8' });
    try {
      for (const parity of ['odd', 'even'] as const) {
        const t = new RtuTransport({
          kind: 'serial',
          path: pty.a,
          baud: 19200,
          parity,
          dataBits: 8,
          stopBits: 2,
        });
        await t.open();
        const s = stty();
        await t.close();
        expect(s).toMatch(/speed 19200 baud/);
        expect(s).toMatch(/(^|\s)cstopb/);
        expect(s).toMatch(parity === 'odd' ? /(^|\s)parodd/ : /-parodd/);
        expect(s).toMatch(/-parenb/); // the pty driver clears it: parity cannot be tried here
      }
    } finally {
      await pty.proc.stop();
    }
  });
});

describe('CAME barrier (published map) through simulator, gateway and mbpoll', () => {
  let pty: { a: string; b: string; proc: Proc };
  let sim: SimHandle;
  let gw: GatewayProc;
  const rtuPoll = (args: string[]) =>
    mbpoll(['-m', 'rtu', '-b', '38400', '-P', 'even', '-a', '1', ...args, pty.a]);
  const tcpPoll = (args: string[]) =>
    mbpoll(['-m', 'tcp', '-p', String(sim.tcpPort), '-a', '1', ...args, HOST]);
  const simUnit = async () => (await sim.state()).units['1'] as Record<string, unknown>;

  beforeAll(async () => {
    pty = await ptyPair();
    sim = await startSim([
      ...['--profile', 'came-barrier', '--serial', pty.b, '--baud', '38400', '--framing', '8E1'],
      ...['--tcp', `${HOST}:0`, '--open-ms', '600', '--close-ms', '600'],
      ...Object.entries(INFO).flatMap(([k, v]) => ['--info', `${k}=${v}`]),
    ]);
  });
  afterAll(async () => {
    await stopAll();
    await sim?.stop();
    await pty?.proc.stop();
  });

  it('mbpoll over RTU 38400 8E1 reads what the driver over RTU reads, register by register', async () => {
    const status = rtuPoll(['-r', '101', '-c', '10', '-t', '4']);
    const info = rtuPoll(['-r', '1', '-c', '11', '-t', '4']);
    expect(status).toHaveLength(10);
    const mapSays = byTheMap(status, info);
    expect(mapSays).toMatchObject({ arm_state: 'closed', position_pct: 0, cycles: 0, ...INFO });

    const d = createModbusDrivers(
      [{ id: 'line', type: 'rtu', path: pty.a, baud: 38400, parity: 'even', timeoutMs: 300 }],
      [
        {
          id: 'came',
          bus: 'line',
          unit: 1,
          profile: 'came-barrier',
          overrides: { loop_occupied: { bit: 0 } },
        },
      ],
      { ...testContext(), log: pino({ level: 'silent' }) },
    );
    try {
      const drv = d.drivers[0]!;
      await drv.connect();
      expect(drv.info()).toEqual({ ...INFO, unverified: 'photo_eye_blocked, cabinet_temp_c' });
      const f = (await drv.read()).fields as BarrierFields;
      expect(f).toMatchObject({ arm_state: mapSays.arm_state, arm_angle_deg: 0, cycles: mapSays.cycles });
      expect(f.loop_occupied).toBe(((mapSays.inputs ?? 0) & 1) === 1);
      expect(Math.abs(f.cabinet_temp_c! - mapSays.board_temp_c!)).toBeLessThanOrEqual(1);
    } finally {
      await d.close(); // the pty end goes to the gateway next
    }
  });

  it('the gateway reads it over RTU and over TCP alike, and shows its device information', async () => {
    gw = await startGateway(`village: came-test
buses:
  - { id: rs485, type: rtu, path: ${pty.a}, baud: 38400, parity: even, dataBits: 8, stopBits: 1, timeoutMs: 300 }
  - { id: lan, type: tcp, host: ${HOST}, port: ${sim.tcpPort}, timeoutMs: 300 }
devices:
  - id: came-rtu
    kind: barrier
    driver: modbus
    bus: rs485
    unit: 1
    profile: came-barrier
    pollMs: 200
    overrides: { loop_occupied: { bit: 0 }, photo_eye_blocked: { bit: 1 }, cabinet_temp_c: { scale: 1 } }
  - { id: came-tcp, kind: barrier, driver: modbus, bus: lan, unit: 1, profile: came-barrier, pollMs: 200 }
commands:
  confirmTimeoutMs: 5000
`);
    for (const id of ['came-rtu', 'came-tcp'])
      await deviceWhen(
        gw,
        id,
        (d) => d.health.status === 'online' && (d as { info?: object }).info !== undefined,
        'online',
      );
    const view = async (id: string) =>
      (await gw.get(`/api/v1/devices/${id}`)).body as { fields: BarrierFields; info: Record<string, string> };
    const rtu = await view('came-rtu');
    const tcp = await view('came-tcp');
    expect(rtu.info).toEqual(INFO); // every unverified mapping confirmed on this device
    expect(tcp.info).toEqual({ ...INFO, unverified: 'loop_occupied, photo_eye_blocked, cabinet_temp_c' });
    const mapSays = byTheMap(
      tcpPoll(['-r', '101', '-c', '10', '-t', '4']),
      tcpPoll(['-r', '1', '-c', '11', '-t', '4']),
    );
    for (const v of [rtu, tcp]) {
      expect(v.fields).toMatchObject({
        arm_state: mapSays.arm_state,
        arm_angle_deg: 0,
        cycles: mapSays.cycles,
      });
      expect(v.info.serial).toBe(mapSays.serial);
    }
  });

  it('open and close through the API move the simulated arm; mbpoll sees the coils written and the status change', async () => {
    const command = (action: string, requestId: string) =>
      gw.post('/api/v1/barriers/came-rtu/commands?waitMs=5000', { requestId, action, reason: 'came e2e' });
    const opened = await command('open', 'came-open-1');
    expect(opened.body, JSON.stringify(opened.body)).toMatchObject({ state: 'confirmed' });
    expect((await simUnit()).arm_state).toBe('open');
    expect(tcpPoll(['-r', '101', '-c', '2', '-t', '4'])).toEqual([16, 100]); // open, 100 %
    expect(tcpPoll(['-r', '2', '-c', '1', '-t', '0'])).toEqual([1]); // coil 2 of the map: OPEN
    const up = await deviceWhen(gw, 'came-tcp', (d) => d.fields.arm_state === 'open', 'open over TCP');
    expect(up.fields.arm_angle_deg).toBe(90);

    const closed = await command('close', 'came-close-1');
    expect(closed.body, JSON.stringify(closed.body)).toMatchObject({ state: 'confirmed' });
    expect((await simUnit()).arm_state).toBe('closed');
    expect(tcpPoll(['-r', '4', '-c', '1', '-t', '0'])).toEqual([1]); // coil 4 of the map: CLOSE
    const status = tcpPoll(['-r', '101', '-c', '10', '-t', '4']);
    expect(byTheMap(status, tcpPoll(['-r', '1', '-c', '11', '-t', '4']))).toMatchObject({
      arm_state: 'closed',
      position_pct: 0,
      cycles: 1,
    });
    const down = await deviceWhen(
      gw,
      'came-rtu',
      (d) => d.fields.cycles === 1 && d.fields.arm_state === 'closed',
      'closed after one cycle',
    );
    expect(down.fields).toMatchObject({ arm_state: 'closed', arm_angle_deg: 0 });
    const log = (await simUnit()).commands as { action: string; accepted: boolean }[];
    expect(log.map((c) => `${c.action}:${c.accepted}`)).toEqual(['open:true', 'close:true']);
  });

  // Last: the simulated encoder fault latches a controller fault (2) that this profile
  // has no command to clear, so the barrier refuses to move afterwards.
  it('position unknown (255) leaves the angle out; it never reads as 229.5°', async () => {
    const d = createModbusDrivers(
      [{ id: 'lan2', type: 'tcp', host: HOST, port: sim.tcpPort!, timeoutMs: 300 }],
      [{ id: 'came', bus: 'lan2', unit: 1, profile: 'came-barrier' }],
      { ...testContext(), log: pino({ level: 'silent' }) },
    );
    await sim.post('/fault', { unit: 1, fault: 'encoder-fault', active: true });
    try {
      const r = await readUntil(
        () => d.drivers[0]!.read(),
        (x) => (x.fields as BarrierFields).arm_state === 'unknown',
      );
      expect(tcpPoll(['-r', '101', '-c', '2', '-t', '4'])).toEqual([0, 255]);
      expect((r.fields as BarrierFields).arm_angle_deg).toBeUndefined();
      // The gateway's view drops the angle it last read: 0° is no longer known to hold.
      const v = await deviceWhen(gw, 'came-rtu', (v) => v.fields.arm_state === 'unknown', 'unknown over RTU');
      expect(v.fields.arm_angle_deg).toBeUndefined();
    } finally {
      await sim.post('/fault', { unit: 1, fault: 'encoder-fault', active: false });
      await d.close();
    }
  });
});
