import { describe, expect, it } from 'vitest';
import { ArmStateSchema, BarrierFieldsSchema } from '../../drivers/contract/canonical.ts';
import { BARRIER_ACTIONS } from '../../drivers/contract/driver.ts';
import {
  listProfiles as driverList,
  loadProfile as driverLoad,
  parseProfile,
  type Profile,
} from '../../drivers/modbus/profile.ts';
import { decodeFields } from '../../drivers/modbus/registers.ts';
import { BarrierSim } from '../../device-sims/barrier/barrier.ts';
import { ARM_STATES, COMMANDS, FIELD_NAMES, type BarrierFields } from '../../device-sims/barrier/fields.ts';
import { emptyTables, layOut, type Tables } from '../../device-sims/barrier/layout.ts';
import {
  listProfiles,
  loadProfile,
  readProfile,
  type FieldSpec,
  type SimProfile,
} from '../../device-sims/barrier/profile.ts';

/**
 * The simulator lays registers out with its own encoder, the driver reads them with
 * its own decoder; both follow the shipped profiles. Whatever one side gets wrong about
 * word order, byte order, scale, offset, bit numbering or state codes shows up here as
 * a value that does not survive the round trip.
 */
const laidOut = (p: SimProfile, v: Partial<BarrierFields>): Tables => {
  const t = emptyTables();
  layOut(p, v, t);
  return t;
};

/** Whether a field's register can hold a value at all (a 0–100 % register cannot hold −1°). */
function holds(f: Profile['fields'][number], v: number): boolean {
  const raw = Math.round((v - (f.offset ?? 0)) / (f.scale ?? 1));
  const range: Record<string, [number, number]> = {
    u16: [0, 0xffff],
    i16: [-0x8000, 0x7fff],
    u32: [0, 0xffffffff],
    i32: [-0x80000000, 0x7fffffff],
  };
  const [lo, hi] = range[f.dataType ?? 'u16'] ?? [-Infinity, Infinity];
  return raw >= lo && raw <= hi;
}

/** What the driver reads back that differs from what the simulator meant, beyond the profile's resolution. */
function disagreements(sim: SimProfile, drv: Profile, values: BarrierFields): string[] {
  const read = decodeFields(drv, laidOut(sim, values)) as Record<string, unknown>;
  const out: string[] = [];
  for (const f of drv.fields) {
    const sent = values[f.field];
    const got = read[f.field];
    let ok: boolean;
    if (typeof sent === 'number' && f.unknown !== undefined && !holds(f, sent))
      ok = got === undefined; // the register cannot say it: the controller reports "no reading"
    else if (typeof sent !== 'number') ok = got === sent;
    else if (f.dataType === 'f32')
      ok = Math.abs((got as number) - sent) <= 1e-5 * Math.max(1, Math.abs(sent));
    else ok = Math.abs((got as number) - sent) <= Math.abs(f.scale ?? 1) / 2 + 1e-9;
    if (!ok) out.push(`${f.field}: sim meant ${String(sent)}, driver read ${String(got)}`);
  }
  return out;
}

/** Barrier states the simulator really produces: idle, moving, faulted, after traffic. */
function realisticValues(): BarrierFields[] {
  const t0 = 1_000_000;
  const sim = new BarrierSim({ openMs: 2000, closeMs: 2000, seed: 3, traffic: 'off', ratePerMin: 0 }, t0);
  const out: BarrierFields[] = [sim.fields(t0)];
  sim.arrive('in', false, t0);
  sim.command('hold-open', t0 + 10);
  const at = (t: number) => {
    sim.tick(t);
    out.push(sim.fields(t));
  };
  for (const dt of [500, 1000, 2500, 4000]) at(t0 + dt);
  sim.setFault('encoder-fault', true);
  at(t0 + 4100);
  sim.setFault('encoder-fault', false);
  sim.setFault('motor-overcurrent', true);
  at(t0 + 4200);
  return out;
}

/** Values at the edges of what the shipped profiles can hold: every state, negatives, wide counters. */
function edgeValues(): BarrierFields[] {
  const base: BarrierFields = {
    arm_state: 'closed',
    arm_angle_deg: 0,
    loop_occupied: false,
    photo_eye_blocked: false,
    hold_open: false,
    fault_code: 0,
    cycles: 0,
    vehicles_in: 0,
    vehicles_out: 0,
    motor_current_a: 0,
    cabinet_temp_c: 0,
    supply_v: 0,
  };
  return ARM_STATES.map((s, i) => ({
    ...base,
    arm_state: s,
    arm_angle_deg: [-1, 0, 45.3, 90, 12.7, -3.2][i]!,
    loop_occupied: (i & 1) === 1,
    photo_eye_blocked: (i & 2) === 2,
    hold_open: (i & 4) === 4,
    fault_code: i,
    cycles: [0, 1, 65535, 65536, 123_456_789, 2_000_000_000][i]!,
    vehicles_in: [0, 70_000, 1, 99_999, 5, 1_000_000][i]!,
    vehicles_out: [0, 65_537, 2, 3, 300_000, 42][i]!,
    motor_current_a: [0, 0.08, 2.4, 9.2, 0.001, 31.5][i]!,
    cabinet_temp_c: [-25.5, -0.4, 0, 24.1, 39.9, 61.2][i]!,
    supply_v: [0, 11.8, 24.1, 27.6, 0.05, 30][i]!,
  }));
}

describe('simulator and gateway share a vocabulary', () => {
  it('same field names, arm states and gate commands as the device contract', () => {
    expect([...FIELD_NAMES].sort()).toEqual(Object.keys(BarrierFieldsSchema.properties).sort());
    expect([...ARM_STATES].sort()).toEqual(ArmStateSchema.anyOf.map((s) => s.const as string).sort());
    expect([...COMMANDS]).toEqual([...BARRIER_ACTIONS]);
  });
});

describe('each side reads the shipped profiles itself, and they read the same thing', () => {
  it('the simulator finds the same profiles', () => {
    expect(listProfiles()).toEqual(driverList());
    expect(listProfiles()).toEqual(expect.arrayContaining(['northgate-hr', 'pulsar-relay']));
  });

  for (const name of driverList()) {
    it(`${name}: fields, orders, sequence echo and command writes`, () => {
      const sim = loadProfile(name);
      const drv = driverLoad(name);
      // What only people read (units, descriptions, fault texts) and how the driver sends a write do not matter here.
      const skip = ['unit', 'description', 'vendor', 'faultCodes', 'source', 'multiple'];
      const meaning = (p: object) =>
        JSON.parse(JSON.stringify(p, (k, v: unknown) => (skip.includes(k) ? undefined : v)));
      expect(meaning(sim)).toEqual(meaning(drv));
    });
  }
});

describe('registers as the spec lays them out (values worked by hand, not by either side)', () => {
  it('northgate-hr: i16 tenths, a status word, u32 high word first, an unlisted state', () => {
    const p = loadProfile('northgate-hr');
    const [v] = edgeValues();
    const t = laidOut(p, {
      ...v!,
      arm_angle_deg: 45.3,
      cycles: 70_000,
      loop_occupied: true,
      hold_open: true,
    });
    expect(t.holding.get(1)).toBe(453);
    expect(t.holding.get(2)).toBe(0b101);
    expect([t.holding.get(4), t.holding.get(5)]).toEqual([0x0001, 0x1170]); // 70000 = 0x00011170
    expect(laidOut(p, { arm_angle_deg: -1 }).holding.get(1)).toBe(0xfff6); // -10 tenths
    expect(laidOut(p, { arm_state: 'unknown' }).holding.get(0)).toBe(0xffff);
    expect(laidOut(p, { arm_state: 'stopped' }).holding.get(0)).toBe(4);
    expect(laidOut(p, { cabinet_temp_c: -25.5 }).holding.get(11)).toBe(0x10000 - 255);
  });

  it('pulsar-relay: flags on discrete inputs, f32 and i32 low word first, offset and scale', () => {
    const p = loadProfile('pulsar-relay');
    const t = laidOut(p, {
      photo_eye_blocked: true,
      loop_occupied: false,
      arm_angle_deg: 90,
      vehicles_in: 70_000,
    });
    expect([t.discrete.get(0), t.discrete.get(1)]).toEqual([false, true]);
    expect([t.input.get(0), t.input.get(1)]).toEqual([0x0000, 0x42b4]); // 90.0f = 0x42B40000, CDAB
    expect([t.input.get(6), t.input.get(7)]).toEqual([0x1170, 0x0001]);
    expect(laidOut(p, { cabinet_temp_c: 24 }).input.get(11)).toBe(128); // (24 + 40) / 0.5
    expect(laidOut(p, { motor_current_a: 2.4 }).input.get(10)).toBe(2400); // milliamps
    expect(laidOut(p, { arm_state: 'closed' }).input.get(2)).toBe(1);
    expect(laidOut(p, { vehicles_out: -2 }).input.get(8)).toBe(0xfffe);
    expect(laidOut(p, { vehicles_out: -2 }).input.get(9)).toBe(0xffff);
  });

  it('a reading beyond the register saturates instead of wrapping', () => {
    const p = loadProfile('northgate-hr');
    expect(laidOut(p, { motor_current_a: 900 }).holding.get(10)).toBe(0xffff);
    expect(laidOut(p, { supply_v: -3 }).holding.get(12)).toBe(0);
    expect(laidOut(p, { arm_angle_deg: 5000 }).holding.get(1)).toBe(0x7fff);
  });
});

describe('what the simulator lays out is what the driver reads', () => {
  for (const name of driverList()) {
    it(`${name}: every field, every arm state, edge and realistic values`, () => {
      const sim = loadProfile(name);
      const drv = driverLoad(name);
      for (const v of [...edgeValues(), ...realisticValues()]) expect(disagreements(sim, drv, v)).toEqual([]);
    });
  }

  /** One profile per word order × byte order, using every data type, scale and offset, and status bits. */
  const synthetic = (wordOrder: string, byteOrder: string) => `
name: synth-${wordOrder}-${byteOrder}
wordOrder: ${wordOrder}
byteOrder: ${byteOrder}
fields:
  - { field: arm_state, type: input, address: 0, dataType: i16, states: { '7': closed, '300': open, '2': opening, '9': closing, '4': stopped } }
  - { field: arm_angle_deg, type: input, address: 1, dataType: f32, scale: 0.5, offset: -10 }
  - { field: loop_occupied, type: input, address: 3, dataType: bitfield, bit: 0 }
  - { field: photo_eye_blocked, type: input, address: 3, dataType: bitfield, bit: 9 }
  - { field: hold_open, type: input, address: 3, dataType: bitfield, bit: 15 }
  - { field: cycles, type: input, address: 4, dataType: u32 }
  - { field: vehicles_in, type: holding, address: 0, dataType: i32, wordOrder: ${wordOrder === 'big' ? 'little' : 'big'} }
  - { field: vehicles_out, type: holding, address: 2, dataType: u32 }
  - { field: fault_code, type: holding, address: 9, dataType: u16 }
  - { field: motor_current_a, type: holding, address: 4, dataType: i32, scale: 0.001 }
  - { field: cabinet_temp_c, type: holding, address: 6, dataType: i16, scale: 0.1, offset: 20 }
  - { field: supply_v, type: holding, address: 7, dataType: f32, scale: 0.01, byteOrder: ${byteOrder === 'big' ? 'little' : 'big'} }
commands:
  open: { steps: [{ write: { type: coil, address: 0, values: [true] } }] }
`;
  for (const wordOrder of ['big', 'little'])
    for (const byteOrder of ['big', 'little'])
      it(`every data type with word order ${wordOrder}, byte order ${byteOrder}`, () => {
        const text = synthetic(wordOrder, byteOrder);
        const sim = readProfile(text, 'synthetic');
        const drv = parseProfile(text, 'synthetic');
        for (const v of edgeValues()) expect(disagreements(sim, drv, v)).toEqual([]);
      });
});

describe('the round trip catches a mistake made on one side', () => {
  const drv = driverLoad('pulsar-relay');
  const drvNg = driverLoad('northgate-hr');
  const values = edgeValues();
  const mutate = (p: SimProfile, change: (f: FieldSpec) => FieldSpec | undefined): SimProfile => ({
    ...p,
    fields: p.fields.map((f) => change({ ...f }) ?? f),
  });
  const caught = (sim: SimProfile, d: Profile) => values.flatMap((v) => disagreements(sim, d, v));

  it('a 32-bit word order the other way round', () => {
    const wrong = { ...loadProfile('pulsar-relay'), wordOrder: 'big' as const };
    expect(caught(wrong, drv)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^arm_angle_deg/), expect.stringMatching(/^cycles/)]),
    );
  });

  it('bytes swapped inside a register', () => {
    const wrong = { ...loadProfile('northgate-hr'), byteOrder: 'little' as const };
    expect(caught(wrong, drvNg)).toEqual(expect.arrayContaining([expect.stringMatching(/^arm_angle_deg/)]));
  });

  it('a scale read as a divisor, an offset with the wrong sign', () => {
    const scale = mutate(loadProfile('pulsar-relay'), (f) =>
      f.scale ? { ...f, scale: 1 / f.scale } : undefined,
    );
    expect(caught(scale, drv)).toEqual(expect.arrayContaining([expect.stringMatching(/^motor_current_a/)]));
    const offset = mutate(loadProfile('pulsar-relay'), (f) =>
      f.offset ? { ...f, offset: -f.offset } : undefined,
    );
    expect(caught(offset, drv)).toEqual(expect.arrayContaining([expect.stringMatching(/^cabinet_temp_c/)]));
  });

  it('status bits counted from the other end, a state code off by one', () => {
    const bits = mutate(loadProfile('northgate-hr'), (f) =>
      f.dataType === 'bitfield' ? { ...f, bit: 15 - f.bit! } : undefined,
    );
    expect(caught(bits, drvNg)).toEqual(expect.arrayContaining([expect.stringMatching(/^loop_occupied/)]));
    const states = mutate(loadProfile('northgate-hr'), (f) =>
      f.states
        ? {
            ...f,
            states: Object.fromEntries(Object.entries(f.states).map(([k, s]) => [String(Number(k) + 1), s])),
          }
        : undefined,
    );
    expect(caught(states, drvNg)).toEqual(expect.arrayContaining([expect.stringMatching(/^arm_state/)]));
  });
});

describe('the simulator reader rejects what it cannot lay out', () => {
  const base = (field: string) => `name: x\nfields:\n  - ${field}\n`;
  it.each([
    ['{ field: cycles, type: coil, address: 0 }', /cycles is not an on\/off input/],
    [
      '{ field: loop_occupied, type: holding, address: 0, dataType: bitfield }',
      /fields\.0\.bit: must be an integer/,
    ],
    ['{ field: supply_v, type: holding, address: 0, dataType: f64 }', /dataType: must be one of/],
    ['{ field: supply_v, type: holding, address: 0, scale: 0 }', /scale: must be a non-zero number/],
    ['{ field: supply_v, type: holding, address: 0, scael: 2 }', /unknown key scael/],
    ['{ field: arm_state, type: holding, address: 0 }', /states: must be a mapping/],
    ['{ field: arm_state, type: holding, address: 0, states: { "1": ajar } }', /states\.1: must be one of/],
    ['{ field: supply_v, type: holding, address: 70000 }', /address: must be an integer 0\.\.65535/],
  ])('%s', (field, msg) => {
    expect(() => readProfile(base(field), 'p.yaml')).toThrow(msg);
  });

  it('two fields in one register, and commands it cannot recognise', () => {
    const two = `name: x\nfields:\n  - { field: cycles, type: input, address: 0, dataType: u32 }\n  - { field: fault_code, type: input, address: 1 }\n`;
    expect(() => readProfile(two, 'p.yaml')).toThrow(/input:1 is already taken by cycles/);
    const f = `name: x\nfields: [{ field: fault_code, type: input, address: 0 }]\n`;
    expect(() => readProfile(`${f}commands: { open: { steps: [{ waitMs: 5 }] } }`, 'p.yaml')).toThrow(
      /at least one write/,
    );
    expect(() =>
      readProfile(
        `${f}commands: { open: { steps: [{ write: { type: coil, address: 0, values: [1] } }] } }`,
        'p.yaml',
      ),
    ).toThrow(/coil values are true\/false/);
    expect(() =>
      readProfile(
        `${f}commands: { open: { steps: [{ write: { type: holding, address: 0, values: [1], sequence: true } }] } }`,
        'p.yaml',
      ),
    ).toThrow(/sequence\.echo/);
    expect(() => readProfile(`${f}commands: { lift: { steps: [] } }`, 'p.yaml')).toThrow(/unknown key lift/);
    expect(() => loadProfile('no-such-profile')).toThrow(/no barrier profile "no-such-profile"/);
  });
});
