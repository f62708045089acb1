import { describe, expect, it } from 'vitest';
import { DeviceError } from '../../drivers/contract/errors.ts';
import { toDeviceError } from '../../drivers/modbus/bus.ts';
import { ModbusException } from '../../drivers/modbus/codec.ts';
import { listProfiles, loadProfile } from '../../drivers/modbus/profile.ts';
import { recogniser } from '../../drivers/modbus/recognise.ts';
import { sweep, type SweepSend } from '../../drivers/modbus/scan.ts';
import { parseUnits } from '../../gateway/commissioning/units.ts';
import { definition } from '../../gateway/cli/definition.ts';

// The sweep's decisions without a line: who is there, who is not, and at what pace.

const exception = (code: number, unit: number) => toDeviceError(new ModbusException(3, code), unit);

describe('a Modbus sweep', () => {
  it('counts an answer or a refusal as a unit, silence and a gateway\'s "nobody there" as none', async () => {
    const send: SweepSend = async (unit, pdu) => {
      if (unit === 2) throw new DeviceError('timeout', 'no answer');
      if (unit === 3) throw exception(11, 3); // gateway target failed to respond
      if (unit === 4) throw exception(10, 4); // gateway path unavailable
      if (unit === 5) throw exception(2, 5); // there, but no such register
      if (unit === 6) throw new DeviceError('bad-response', 'byte count 9 in 4 bytes', 'degraded');
      return pdu[0] === 2 ? [false] : [0]; // unit 1: every read answers
    };
    const progress: number[] = [];
    const hits = await sweep(send, {
      units: [1, 2, 3, 4, 5, 6],
      recognise: async (read) => ((await read({ type: 'holding', address: 0, count: 1 })) ? ['fits'] : []),
      minGapMs: 0,
      onProgress: (p) => progress.push(p.done),
    });
    expect(hits).toEqual([
      { unit: 1, profiles: ['fits'] },
      { unit: 5, profiles: [], detail: 'answers, but fits no known profile' },
      { unit: 6, profiles: [], detail: 'answered, but garbled: byte count 9 in 4 bytes' },
    ]);
    expect(progress).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("keeps to its rate, and asks for presence briefly and for identification at the line's pace", async () => {
    const at: number[] = [];
    const phases = new Set<string>();
    await sweep(
      async (_u, _pdu, phase) => {
        at.push(Date.now());
        phases.add(phase);
        return [0];
      },
      {
        units: [1, 2, 3],
        recognise: async (read) => ((await read({ type: 'input', address: 0, count: 1 })) ? ['x'] : []),
        minGapMs: 30,
      },
    );
    expect(at).toHaveLength(6);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(28);
    expect([...phases].sort()).toEqual(['identify', 'presence']);
  });

  it('tells the shipped profiles apart by their signatures', async () => {
    const profiles = listProfiles().map((n) => loadProfile(n));
    const recognise = recogniser(profiles);
    // A northgate-hr unit: holding 0–12 (arm state 0 = closed), input 0 (sequence echo), nothing else.
    const northgate = async (r: { type: string; address: number; count: number }) =>
      (r.type === 'holding' && r.address + r.count <= 13) ||
      (r.type === 'input' && r.address === 0 && r.count === 1)
        ? Array.from({ length: r.count }, () => 0)
        : undefined;
    expect(await recognise(northgate)).toEqual(['northgate-hr']);
  });
});

describe('unit lists', () => {
  it('reads ranges and lists, each id once, within 1-247', () => {
    expect(parseUnits('1-3, 5,2')).toEqual([1, 2, 3, 5]);
    expect(parseUnits('1-247')).toHaveLength(247);
    for (const bad of ['0-3', '5-2', '1-248', 'x', '1,,2'])
      expect(() => parseUnits(bad), bad).toThrow(/units: .* within 1-247/);
  });
});

describe('definitions from the command line', () => {
  it('reads values as YAML and dotted keys as nesting', () => {
    expect(
      definition(
        ['id=north-in', 'unit=3', 'url=http://10.0.5.21/onvif', 'password.env=CAM_PW', 'lane='],
        undefined,
      ),
    ).toEqual({
      id: 'north-in',
      unit: 3,
      url: 'http://10.0.5.21/onvif',
      password: { env: 'CAM_PW' },
      lane: '',
    });
    expect(() => definition(['unit'], undefined)).toThrow(/key=value/);
  });
});
