import { describe, expect, it } from 'vitest';
import { listProfiles, loadProfile, parseProfile } from '../../drivers/modbus/profile.ts';
import {
  decodeFields,
  decodeReading,
  emptyImage,
  encodeFields,
  planReads,
  rawToWords,
  wordsToRaw,
} from '../../drivers/modbus/registers.ts';
import type { BarrierFields } from '../../drivers/contract/canonical.ts';

const base = `name: t
fields:
  - { field: arm_state, type: holding, address: 0, states: { '0': closed, '2': open } }
commands:
  open: { steps: [{ write: { type: holding, address: 9, values: [1] } }] }
`;

describe('profile loading and validation', () => {
  it('ships two unlike profiles that load cleanly', () => {
    expect(listProfiles()).toEqual(expect.arrayContaining(['northgate-hr', 'pulsar-relay']));
    const hr = loadProfile('northgate-hr');
    const relay = loadProfile('pulsar-relay');
    expect(hr.sequence?.echo).toEqual({ type: 'input', address: 0 });
    expect(relay.wordOrder).toBe('little');
    expect(Object.keys(relay.commands).sort()).toEqual([
      'close',
      'hold-open',
      'open',
      'release',
      'reset-fault',
      'stop',
    ]);
  });

  it('names file, line and field path of a schema error', () => {
    const text = base.replace('address: 0', 'address: -4');
    expect(() => parseProfile(text, 'bad.yaml')).toThrow(
      /bad\.yaml:3:\d+: fields\[0\]\.address: expected integer/,
    );
  });

  it('names unknown keys and canonical field names', () => {
    expect(() => parseProfile(base.replace('arm_state', 'arm_status'), 'x.yaml')).toThrow(
      /x\.yaml:3:\d+: fields\[0\]\.field/,
    );
    expect(() => parseProfile(`${base}colour: red\n`, 'x.yaml')).toThrow(/colour/);
  });

  it('rejects shapes a schema cannot see: clashing addresses, flags on coils, missing states, duplicate triggers', () => {
    const fieldsOnly = (extra: string) => base.replace('commands:', `${extra}commands:`);
    expect(() =>
      parseProfile(fieldsOnly('  - { field: cycles, type: holding, address: 0, dataType: u32 }\n'), 'c.yaml'),
    ).toThrow(/c\.yaml:\d+:\d+: fields\[1\]\.address: holding 0 already feeds arm_state/);
    expect(() =>
      parseProfile(fieldsOnly('  - { field: supply_v, type: coil, address: 1 }\n'), 'c.yaml'),
    ).toThrow(/not a flag/);
    expect(() => parseProfile(base.replace(", states: { '0': closed, '2': open }", ''), 'c.yaml')).toThrow(
      /needs a `states` map/,
    );
    const dup = `${base}  close: { steps: [{ write: { type: holding, address: 9, values: [1] } }] }\n`;
    expect(() => parseProfile(dup, 'd.yaml')).toThrow(
      /d\.yaml:\d+:\d+: commands\.close\.steps: same first write as open/,
    );
    expect(() => parseProfile('name: [unclosed', 'y.yaml')).toThrow(/y\.yaml:1:\d+: YAML/);
  });

  it('reports a missing profile with where it looked', () => {
    expect(() => loadProfile('no-such-vendor')).toThrow(/no device profile named "no-such-vendor"/);
  });
});

describe('register values', () => {
  it('decodes 32-bit values in every word and byte order and encodes them back', () => {
    for (const word of ['big', 'little']) {
      for (const byte of ['big', 'little']) {
        for (const [dt, v] of [
          ['u32', 305419896],
          ['i32', -123456],
          ['f32', 47.25],
        ] as const) {
          const words = rawToWords(v, dt, word, byte);
          expect(wordsToRaw(words, dt, word, byte)).toBeCloseTo(v, 5);
        }
      }
    }
    expect(rawToWords(0x12345678, 'u32', 'little', 'big')).toEqual([0x5678, 0x1234]);
    expect(rawToWords(0x12345678, 'u32', 'big', 'little')).toEqual([0x3412, 0x7856]);
    expect(wordsToRaw([0xfffe], 'i16', 'big', 'big')).toBe(-2);
  });

  it('round-trips canonical fields through both shipped profiles', () => {
    const f: BarrierFields = {
      arm_state: 'opening',
      arm_angle_deg: 42.5,
      loop_occupied: true,
      photo_eye_blocked: false,
      hold_open: true,
      fault_code: 3,
      cycles: 70000,
      vehicles_in: 123456,
      vehicles_out: 654321,
      motor_current_a: 2.45,
      cabinet_temp_c: -12.5,
      supply_v: 23.9,
    };
    for (const name of ['northgate-hr', 'pulsar-relay']) {
      const p = loadProfile(name);
      const img = emptyImage();
      encodeFields(p, f, img);
      expect(decodeFields(p, img)).toEqual(f);
    }
  });

  it("names the fields whose register holds the profile's no-reading marker (CAME position 255)", () => {
    const p = loadProfile('came-barrier');
    const img = emptyImage();
    img.holding.set(101, 50);
    expect(decodeReading(p, img)).toMatchObject({ fields: { arm_angle_deg: 45 }, unknown: [] });
    img.holding.set(101, 255);
    const r = decodeReading(p, img);
    expect(r.fields.arm_angle_deg).toBeUndefined();
    expect(r.unknown).toEqual(['arm_angle_deg']);
  });

  it('batches contiguous registers into as few reads as the protocol allows', () => {
    expect(planReads(loadProfile('northgate-hr'))).toEqual([{ type: 'holding', address: 0, count: 13 }]);
    expect(planReads(loadProfile('pulsar-relay'))).toEqual([
      { type: 'discrete', address: 0, count: 3 },
      { type: 'input', address: 0, count: 13 },
    ]);
    // 140 adjacent registers need two requests (125 + 15). Canonical fields are too few to
    // reach the limit, so this plan is built from a profile object that skips validation.
    const wide = { ...loadProfile('northgate-hr'), fields: [] as ReturnType<typeof loadProfile>['fields'] };
    for (let i = 0; i < 70; i++)
      wide.fields.push({ field: 'cycles', type: 'holding', address: i * 2, dataType: 'u32' });
    expect(planReads(wide)).toEqual([
      { type: 'holding', address: 0, count: 124 },
      { type: 'holding', address: 124, count: 16 },
    ]);
    // A gap always splits.
    const many = parseProfile(
      `name: many
fields:
  - { field: cycles, type: input, address: 0, dataType: u32 }
  - { field: vehicles_in, type: input, address: 123, dataType: u32 }
  - { field: vehicles_out, type: input, address: 125, dataType: u32 }
  - { field: supply_v, type: input, address: 200 }
commands: {}
`,
      'many.yaml',
    );
    expect(planReads(many)).toEqual([
      { type: 'input', address: 0, count: 2 },
      { type: 'input', address: 123, count: 4 },
      { type: 'input', address: 200, count: 1 },
    ]);
  });
});
