import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ModbusRTU from 'modbus-serial';
import type { ModbusRTU as Client } from 'modbus-serial/ModbusRTU.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ptyPair } from '../helpers/socat.ts';
import { eventually, ROOT, type Proc } from '../helpers/procs.ts';
import { startSim, type SimHandle } from '../helpers/modbus-harness.ts';

/**
 * The barrier simulator as masters that share no code with Gatehouse see it: Debian's
 * mbpoll and the modbus-serial client, over Modbus TCP, RTU on a pty pair and RTU over
 * TCP. Register meanings come from the profile YAML itself; the simulator's own view
 * comes from its control port.
 */
const HOST = '127.0.0.1';

interface Polled {
  /** Values as printed; a 16-bit register with its high bit set is printed as "65526 (-10)": this holds 65526. */
  values: Map<number, number>;
  signed: Map<number, number>;
  out: string;
  status: number | null;
}

function mbpoll(args: string[]): Polled {
  const r = spawnSync('mbpoll', ['-1', '-0', '-o', '2', ...args], { encoding: 'utf8', timeout: 20_000 });
  const out = `${r.stdout}${r.stderr}`;
  const values = new Map<number, number>();
  const signed = new Map<number, number>();
  for (const m of out.matchAll(/^\[(\d+)\]:\s+(\S+)(?:\s+\((-?\d+)\))?/gm)) {
    values.set(Number(m[1]), Number(m[2]));
    signed.set(Number(m[1]), Number(m[3] ?? m[2]));
  }
  return { values, signed, out, status: r.status };
}
const list = (p: Polled) => [...p.values.values()];

/** A field's mapping, read straight from the shared profile file. */
function mapping(profile: string, field: string): { address: number; scale?: number; offset?: number } {
  const file = path.join(ROOT, 'drivers/modbus/profiles', `${profile}.yaml`);
  const doc = parse(readFileSync(file, 'utf8')) as { fields: { field: string; address: number }[] };
  return doc.fields.find((f) => f.field === field)!;
}

type UnitState = Record<string, unknown> & { commands: { action: string; accepted: boolean }[] };

function unitWatcher(sim: () => SimHandle) {
  const state = async (unit: number) => (await sim().state()).units[String(unit)] as UnitState;
  const when = (unit: number, pred: (s: UnitState) => boolean, what: string) =>
    eventually(
      async () => {
        const s = await state(unit);
        return pred(s) ? s : undefined;
      },
      { timeoutMs: 10_000, what: `unit ${unit}: ${what}` },
    );
  return { state, when };
}

async function client(connect: (c: Client) => Promise<void>, unit: number): Promise<Client> {
  // modbus-serial is CommonJS: its default export is the client class itself.
  const c = new (ModbusRTU as unknown as new () => Client)();
  await connect(c);
  c.setID(unit);
  c.setTimeout(2000);
  return c;
}
const closeClient = (c: Client) => new Promise<void>((r) => c.close(() => r()));

/** Two registers holding a 32-bit value low word first (CDAB), as a master that knows the profile decodes them. */
const cdab = (w: number[]) => {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(w[1]!, 0);
  b.writeUInt16BE(w[0]!, 2);
  return b;
};

describe('pulsar-relay (every flag and command on coils and discrete inputs)', () => {
  let pty: { a: string; b: string; proc: Proc };
  let sim: SimHandle;
  const { state, when } = unitWatcher(() => sim);
  beforeAll(async () => {
    pty = await ptyPair();
    sim = await startSim([
      ...['--profile', 'pulsar-relay', '--tcp', `${HOST}:0`, '--serial', pty.b, '--baud', '9600'],
      ...['--units', '1,2,3,4', '--open-ms', '800', '--close-ms', '800'],
    ]);
  });
  afterAll(async () => {
    await sim?.stop();
    await pty?.proc.stop();
  });
  const tcp = (unit: number, args: string[], writes: string[] = []) =>
    mbpoll(['-m', 'tcp', '-p', String(sim.tcpPort), '-a', String(unit), ...args, HOST, ...writes]);
  const rtu = (unit: number, args: string[], writes: string[] = []) =>
    mbpoll(['-m', 'rtu', '-b', '9600', '-P', 'none', '-a', String(unit), ...args, pty.a, ...writes]);

  it('mbpoll over TCP: a coil write (fc05) holds the arm open; coils (fc01) and discrete inputs (fc02) show it', async () => {
    const before = tcp(1, ['-t', '0', '-r', '0', '-c', '5']);
    expect(before.status, before.out).toBe(0);
    expect(list(before)).toEqual([0, 0, 0, 0, 0]);
    const w = tcp(1, ['-t', '0', '-r', '4'], ['1']);
    expect(w.status, w.out).toBe(0);
    const s = await when(1, (x) => x.arm_state === 'open', 'arm open');
    expect(s.hold_open).toBe(true);
    expect(s.commands.map((c) => c.action)).toEqual(['hold-open']);
    expect(list(tcp(1, ['-t', '0', '-r', '0', '-c', '5']))).toEqual([0, 0, 0, 0, 1]);
    // loop_occupied, photo_eye_blocked, hold_open
    expect(list(tcp(1, ['-t', '1', '-r', '0', '-c', '3']))).toEqual([0, 0, 1]);
  });

  it('mbpoll: float32 and u32 in input registers are low word first (no -B); -B reads them wrongly', async () => {
    const s = await when(1, (x) => x.arm_state === 'open', 'arm open');
    expect(s.arm_angle_deg).toBe(90);
    const angle = mapping('pulsar-relay', 'arm_angle_deg').address;
    const f = tcp(1, ['-t', '3:float', '-r', String(angle)]);
    expect(f.status, f.out).toBe(0);
    expect(f.values.get(angle)).toBe(90);
    const swapped = tcp(1, ['-B', '-t', '3:float', '-r', String(angle)]).values.get(angle)!;
    expect(Math.abs(swapped - 90)).toBeGreaterThan(1);
    const cycles = mapping('pulsar-relay', 'cycles').address;
    expect(s.cycles).toBe(1);
    expect(tcp(1, ['-t', '3:int', '-r', String(cycles)]).values.get(cycles)).toBe(1);
    expect(tcp(1, ['-B', '-t', '3:int', '-r', String(cycles)]).values.get(cycles)).toBe(65536);
  });

  it('mbpoll: scaled registers (raw × scale + offset) match the physical values on the control port', async () => {
    const fields = ['motor_current_a', 'cabinet_temp_c', 'supply_v'] as const;
    const maps = fields.map((f) => mapping('pulsar-relay', f));
    const first = Math.min(...maps.map((m) => m.address));
    const r = tcp(1, ['-t', '3', '-r', String(first), '-c', String(maps.length)]);
    expect(r.status, r.out).toBe(0);
    const s = await state(1);
    // The simulator adds sensor noise on every reading; these bounds are that noise, both ways.
    const noise = { motor_current_a: 0.03, cabinet_temp_c: 0.25, supply_v: 0.35 };
    fields.forEach((f, i) => {
      const m = maps[i]!;
      const physical = r.values.get(m.address)! * m.scale! + (m.offset ?? 0);
      expect(Math.abs(physical - (s[f] as number)), `${f}: raw ${r.values.get(m.address)}`).toBeLessThan(
        m.scale! / 2 + noise[f],
      );
    });
  });

  it('mbpoll: an unreadable encoder reads as an unlisted state code and -1°, reset-fault is a coil pulse', async () => {
    await sim.post('/fault', { unit: 1, fault: 'encoder-fault', active: true });
    const angle = mapping('pulsar-relay', 'arm_angle_deg').address;
    const code = mapping('pulsar-relay', 'arm_state').address;
    const fault = mapping('pulsar-relay', 'fault_code').address;
    expect(tcp(1, ['-t', '3:float', '-r', String(angle)]).values.get(angle)).toBe(-1);
    const regs = tcp(1, ['-t', '3', '-r', String(code), '-c', '2']);
    expect(regs.values.get(code)).toBe(0xffff);
    expect(regs.values.get(fault)).toBe(2);
    await sim.post('/fault', { unit: 1, fault: 'encoder-fault', active: false });
    tcp(1, ['-t', '0', '-r', '3'], ['1']);
    tcp(1, ['-t', '0', '-r', '3'], ['0']);
    const s = await when(1, (x) => x.fault_code === 0, 'fault cleared');
    expect(s.commands.map((c) => c.action)).toEqual(['hold-open', 'reset-fault']);
    expect(tcp(1, ['-t', '3', '-r', String(fault)]).values.get(fault)).toBe(0);
  });

  it('mbpoll over RTU on a pty: the loop detector on a discrete input, an open pulse, a passage counted', async () => {
    await sim.post('/traffic', { unit: 2, arrive: 'in' });
    await when(2, (x) => x.loop_occupied === true, 'car on the loop');
    const di = rtu(2, ['-t', '1', '-r', '0', '-c', '3']);
    expect(di.status, di.out).toBe(0);
    expect(list(di)).toEqual([1, 0, 0]);
    expect(rtu(2, ['-t', '0', '-r', '0'], ['1']).status).toBe(0);
    expect(rtu(2, ['-t', '0', '-r', '0'], ['0']).status).toBe(0);
    const s = await when(2, (x) => x.vehicles_in === 1, 'car through');
    expect(s.commands.map((c) => c.action)).toEqual(['open']); // the relay's release is no second command
    const vin = mapping('pulsar-relay', 'vehicles_in').address;
    expect(rtu(2, ['-t', '3:int', '-r', String(vin)]).values.get(vin)).toBe(1);
    expect(list(rtu(2, ['-t', '1', '-r', '0', '-c', '2']))).toEqual([0, 0]);
  });

  it('modbus-serial over TCP: open and close pulses (fc05, fc15) move the arm; exceptions for unmapped tables', async () => {
    const c = await client((x) => x.connectTCP(HOST, { port: sim.tcpPort! }), 3);
    try {
      expect((await c.readCoils(0, 5)).data.slice(0, 5)).toEqual([false, false, false, false, false]);
      await c.writeCoil(0, true);
      await c.writeCoil(0, false);
      await when(3, (x) => x.arm_state === 'open', 'arm open');
      const open = (await c.readInputRegisters(0, 3)).data;
      expect(cdab(open).readFloatBE(0)).toBe(90);
      expect(open[2]).toBe(2); // states: '2': open
      await c.writeCoils(1, [true]);
      await c.writeCoils(1, [false]);
      const s = await when(3, (x) => x.arm_state === 'closed', 'arm closed');
      expect(s.commands.map((x) => [x.action, x.accepted])).toEqual([
        ['open', true],
        ['close', true],
      ]);
      const closed = (await c.readInputRegisters(0, 6)).data;
      expect(cdab(closed).readFloatBE(0)).toBe(0);
      expect(closed[2]).toBe(1);
      expect(cdab(closed.slice(4)).readUInt32BE(0)).toBe(s.cycles);
      await expect(c.readCoils(40, 1)).rejects.toMatchObject({ modbusCode: 2 });
      await expect(c.writeRegisters(0, [1])).rejects.toMatchObject({ modbusCode: 2 }); // no holding registers
    } finally {
      await closeClient(c);
    }
  });

  it('modbus-serial over RTU on a pty: hold-open, then a stop pulse leaves the arm where it is', async () => {
    const c = await client(
      (x) => x.connectRTUBuffered(pty.a, { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }),
      4,
    );
    try {
      expect((await c.readDiscreteInputs(0, 3)).data.slice(0, 3)).toEqual([false, false, false]);
      await c.writeCoil(4, true);
      await c.writeCoils(2, [true]);
      await c.writeCoils(2, [false]);
      const s = await when(4, (x) => x.arm_state === 'stopped', 'arm stopped');
      expect(s.hold_open).toBe(true);
      expect(s.arm_angle_deg as number).toBeGreaterThan(0);
      expect(s.arm_angle_deg as number).toBeLessThan(90);
      const regs = (await c.readInputRegisters(0, 3)).data;
      expect(cdab(regs).readFloatBE(0)).toBeCloseTo(s.arm_angle_deg as number, 4);
      expect(regs[2]).toBe(5); // states: '5': stopped
      expect((await c.readDiscreteInputs(0, 3)).data.slice(0, 3)).toEqual([false, false, true]);
      expect((await c.readCoils(4, 1)).data[0]).toBe(true);
      await c.writeCoil(4, false);
      await when(4, (x) => x.hold_open === false, 'released');
      expect((await c.readDiscreteInputs(2, 1)).data[0]).toBe(false);
    } finally {
      await closeClient(c);
    }
  });
});

describe('northgate-hr (holding registers, command register with an echoed sequence number)', () => {
  let sim: SimHandle;
  const { state, when } = unitWatcher(() => sim);
  beforeAll(async () => {
    sim = await startSim([
      '--tcp',
      `${HOST}:0`,
      '--rtu-tcp',
      `${HOST}:0`,
      '--open-ms',
      '600',
      '--close-ms',
      '600',
    ]);
  });
  afterAll(async () => {
    await sim?.stop();
  });
  const tcp = (args: string[]) => mbpoll(['-m', 'tcp', '-p', String(sim.tcpPort), '-a', '1', ...args, HOST]);

  it('modbus-serial over RTU-over-TCP: fc16 command + sequence, echoed; tenths of a degree in an i16', async () => {
    // modbus-serial's "telnet" port is raw RTU frames on a TCP socket, as a serial device server carries them.
    const c = await client((x) => x.connectTelnet(HOST, { port: sim.rtuTcpPort! }), 1);
    try {
      await c.writeRegisters(100, [1, 321]); // open, sequence 321
      expect((await c.readInputRegisters(0, 1)).data[0]).toBe(321);
      const s = await when(1, (x) => x.arm_state === 'open', 'arm open');
      const angle = mapping('northgate-hr', 'arm_angle_deg');
      const raw = (await c.readHoldingRegisters(angle.address, 1)).data[0]!;
      expect(raw * angle.scale!).toBeCloseTo(s.arm_angle_deg as number, 6);
      expect((await c.readHoldingRegisters(0, 1)).data[0]).toBe(2); // states: '2': open
      // fc06 carries no sequence number: the command is taken, the echo stays.
      await c.writeRegister(100, 3);
      await when(1, (x) => x.hold_open === true, 'hold-open');
      expect((await c.readInputRegisters(0, 1)).data[0]).toBe(321);
      expect(((await c.readHoldingRegisters(2, 1)).data[0]! >> 2) & 1).toBe(1); // status word bit 2: hold_open
    } finally {
      await closeClient(c);
    }
  });

  it('mbpoll: u32 counters high word first (-B), a negative angle in an i16, scaled values', async () => {
    const cycles = mapping('northgate-hr', 'cycles').address;
    const s = await state(1);
    expect(s.cycles).toBe(1); // opened once by the test above
    expect(tcp(['-B', '-t', '4:int', '-r', String(cycles)]).values.get(cycles)).toBe(1);
    expect(tcp(['-t', '4:int', '-r', String(cycles)]).values.get(cycles)).toBe(65536);
    await sim.post('/fault', { unit: 1, fault: 'encoder-fault', active: true });
    try {
      const angle = mapping('northgate-hr', 'arm_angle_deg');
      const r = tcp(['-t', '4', '-r', String(angle.address)]);
      expect(r.status, r.out).toBe(0);
      expect(r.values.get(angle.address)).toBe(0xfff6);
      expect(r.signed.get(angle.address)! * angle.scale!).toBeCloseTo(
        (await state(1)).arm_angle_deg as number,
        6,
      );
      const supply = mapping('northgate-hr', 'supply_v');
      const v = tcp(['-t', '4', '-r', String(supply.address)]).values.get(supply.address)!;
      expect(Math.abs(v * supply.scale! - ((await state(1)).supply_v as number))).toBeLessThan(
        supply.scale! / 2 + 0.35,
      );
    } finally {
      await sim.post('/fault', { unit: 1, fault: 'encoder-fault', active: false });
    }
  });
});
