import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarrierFields, DeviceEvent } from '../../drivers/contract/canonical.ts';
import type { ModbusDrivers } from '../../drivers/modbus/config.ts';
import { ptyPair } from '../helpers/socat.ts';
import type { Proc } from '../helpers/procs.ts';
import { armReaches, driversOn, readUntil, startSim, type SimHandle } from '../helpers/modbus-harness.ts';

const FAST = ['--open-ms', '600', '--close-ms', '600'];

/** Open the gate with a command, let one (or a tailgating pair of) car(s) through, collect the events. */
async function cycle(sim: SimHandle, d: ModbusDrivers, tailgate: boolean) {
  const drv = d.drivers[0]!;
  const events: DeviceEvent[] = [];
  const read = async () => {
    const r = await drv.read();
    events.push(...(r.events ?? []));
    return r.fields as BarrierFields;
  };
  const before = await read();
  await sim.post('/traffic', { unit: 1, arrive: 'in' });
  if (tailgate) await sim.post('/traffic', { unit: 1, arrive: 'in', tailgate: true });
  await readUntil(read, (f) => f.loop_occupied === true);
  await drv.execute({ action: 'open' });
  const after = await readUntil(
    read,
    (f) => f.vehicles_in === before.vehicles_in! + (tailgate ? 2 : 1) && f.arm_state === 'closed',
  );
  return { before, after, events };
}

describe('driver against the simulator over Modbus TCP (holding-register profile)', () => {
  let sim: SimHandle;
  let d: ModbusDrivers;
  beforeAll(async () => {
    sim = await startSim(['--tcp', '127.0.0.1:0', '--profile', 'northgate-hr', ...FAST]);
    d = driversOn({ type: 'tcp', host: '127.0.0.1', port: sim.tcpPort }, [1], 'northgate-hr');
  });
  afterAll(async () => {
    await d?.close();
    await sim?.stop();
  });

  it('reads canonical fields that match the simulator state', async () => {
    const r = await d.drivers[0]!.read();
    const s = (await sim.state()).units['1']!;
    expect(r.fields).toMatchObject({ arm_state: s.arm_state, fault_code: 0, vehicles_in: s.vehicles_in });
    expect((r.fields as BarrierFields).supply_v).toBeGreaterThan(20);
    expect(r.health?.status).toBe('online');
  });

  it('open with a sequence echo, a passage, auto-close; then tailgating is flagged', async () => {
    const one = await cycle(sim, d, false);
    expect(one.events.map((e) => e.type)).toContain('passage-in');
    expect(one.events.map((e) => e.type)).not.toContain('tailgating');
    expect(one.after.cycles).toBe(one.before.cycles! + 1);
    const two = await cycle(sim, d, true);
    expect(two.events.filter((e) => e.type === 'tailgating')).toHaveLength(1);
  });

  it('hold-open keeps the arm up, release lets it close, stop halts it', async () => {
    const drv = d.drivers[0]!;
    const res = await drv.execute({ action: 'hold-open' });
    expect(res).toMatchObject({ action: 'hold-open', sequence: expect.any(Number) });
    await armReaches(drv, 'open', { urgent: true });
    expect((await drv.read()).fields).toMatchObject({ hold_open: true });
    await drv.execute({ action: 'release' });
    await drv.execute({ action: 'close' });
    await new Promise((r) => setTimeout(r, 200));
    await drv.execute({ action: 'stop' });
    const f = (await armReaches(drv, 'stopped')).fields as BarrierFields;
    expect(f.arm_angle_deg).toBeGreaterThan(0);
    expect(f.arm_angle_deg).toBeLessThan(90);
    await drv.execute({ action: 'close' });
    await armReaches(drv, 'closed');
  });

  it('an arm lifted without a command raises forced-arm', async () => {
    const drv = d.drivers[0]!;
    // Commands in this file were recent; a fresh driver has no command window open.
    const fresh = driversOn({ type: 'tcp', host: '127.0.0.1', port: sim.tcpPort }, [1], 'northgate-hr');
    try {
      await fresh.drivers[0]!.read();
      await sim.post('/fault', { unit: 1, fault: 'forced-open', active: true });
      const r = await fresh.drivers[0]!.read();
      expect(r.events?.map((e) => e.type)).toContain('forced-arm');
    } finally {
      await sim.post('/fault', { unit: 1, fault: 'forced-open', active: false });
      await fresh.close();
    }
    await armReaches(drv, 'closed');
  });
});

describe('driver over RTU on a socat pty (coil/relay profile) and RTU over TCP', () => {
  let pty: { a: string; b: string; proc: Proc };
  let sim: SimHandle;
  beforeAll(async () => {
    pty = await ptyPair();
    sim = await startSim([
      '--serial',
      pty.b,
      '--baud',
      '115200',
      '--rtu-tcp',
      '127.0.0.1:0',
      '--profile',
      'pulsar-relay',
      ...FAST,
    ]);
  });
  afterAll(async () => {
    await sim?.stop();
    await pty?.proc.stop();
  });

  for (const via of ['rtu', 'rtu-over-tcp'] as const) {
    it(`pulse commands and little-endian, scaled values over ${via}`, async () => {
      const bus =
        via === 'rtu'
          ? { type: via, path: pty.a, baud: 115200 }
          : { type: via, host: '127.0.0.1', port: sim.rtuTcpPort };
      const d = driversOn(bus, [1], 'pulsar-relay');
      try {
        const drv = d.drivers[0]!;
        const s = (await sim.state()).units['1']!;
        const f = (await drv.read()).fields as BarrierFields;
        expect(f.cabinet_temp_c).toBeCloseTo(s.cabinet_temp_c as number, 0);
        expect(f.supply_v).toBeCloseTo(s.supply_v as number, 0);
        expect(f.vehicles_in).toBe(s.vehicles_in);
        await drv.execute({ action: 'hold-open' });
        await armReaches(drv, 'open', { urgent: true });
        expect(((await drv.read()).fields as BarrierFields).arm_angle_deg).toBeCloseTo(90, 1);
        await drv.execute({ action: 'release' });
        await drv.execute({ action: 'close' });
        await armReaches(drv, 'closed');
      } finally {
        await d.close();
      }
    });
  }
});

describe('a third vendor needs only a profile file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-profile-'));
  const file = path.join(dir, 'tertia-gate.yaml');
  // Everything in input registers, byte-swapped f32s, flags in a bitfield, fc06 commands without sequence.
  writeFileSync(
    file,
    `name: tertia-gate
wordOrder: big
byteOrder: little
fields:
  - { field: arm_state, type: input, address: 10, dataType: u16, states: { '7': closed, '8': opening, '9': open, '10': closing, '11': stopped } }
  - { field: arm_angle_deg, type: input, address: 11, dataType: f32 }
  - { field: loop_occupied, type: input, address: 13, dataType: bitfield, bit: 4 }
  - { field: photo_eye_blocked, type: input, address: 13, dataType: bitfield, bit: 5 }
  - { field: fault_code, type: input, address: 14, dataType: u16 }
  - { field: vehicles_in, type: input, address: 15, dataType: u32 }
  - { field: supply_v, type: input, address: 17, dataType: i16, scale: 0.5, offset: 10 }
commands:
  open: { steps: [{ write: { type: holding, address: 200, values: [10] } }] }
  close: { steps: [{ write: { type: holding, address: 200, values: [20] } }] }
  stop: { steps: [{ write: { type: holding, address: 200, values: [30] } }] }
`,
  );
  let sim: SimHandle;
  beforeAll(async () => {
    sim = await startSim(['--tcp', '127.0.0.1:0', '--profile', file, ...FAST]);
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('drives sim and driver with a profile written only in this test', async () => {
    const d = driversOn({ type: 'tcp', host: '127.0.0.1', port: sim.tcpPort }, [1], file);
    try {
      const drv = d.drivers[0]!;
      expect((await drv.read()).fields).toMatchObject({
        arm_state: 'closed',
        loop_occupied: false,
        fault_code: 0,
      });
      await drv.execute({ action: 'open' });
      const f = (await armReaches(drv, 'open')).fields;
      expect((f as BarrierFields).arm_angle_deg).toBeCloseTo(90, 3);
      expect((f as BarrierFields).supply_v).toBeGreaterThan(20);
      await expect(drv.execute({ action: 'hold-open' })).rejects.toThrow(/no command "hold-open"/);
      await drv.execute({ action: 'close' });
      await armReaches(drv, 'closed');
    } finally {
      await d.close();
    }
  });
});
