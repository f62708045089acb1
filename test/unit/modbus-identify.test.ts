import { describe, expect, it } from 'vitest';
import { BarrierSim } from '../../device-sims/barrier/barrier.ts';
import { UnitImage } from '../../device-sims/barrier/image.ts';
import { loadProfile as simLoad } from '../../device-sims/barrier/profile.ts';
import { formatInfo, readDeviceInfo, type RangeReader } from '../../drivers/modbus/device-info.ts';
import { identify, identifyAmong } from '../../drivers/modbus/identify.ts';
import { withOverrides } from '../../drivers/modbus/overrides.ts';
import { listProfiles, loadProfile, parseProfile } from '../../drivers/modbus/profile.ts';
import { decodeFields, emptyImage } from '../../drivers/modbus/registers.ts';

/** A simulated unit's registers as a reader: what a sweep or the driver would be answered. */
function simUnit(
  profile: string,
  unit = 1,
  info: Record<string, string> = {},
): RangeReader & { reads: string[] } {
  const sim = new BarrierSim({ openMs: 1000, closeMs: 1000, seed: 1, traffic: 'off', ratePerMin: 0 });
  const img = new UnitImage(unit, simLoad(profile), sim, info);
  const reads: string[] = [];
  const read = async (r: {
    type: 'coil' | 'discrete' | 'input' | 'holding';
    address: number;
    count: number;
  }) => {
    reads.push(`${r.type}:${r.address}:${r.count}`);
    if (!img.has(r.type, r.address, r.count)) return undefined; // the simulator's illegal-address answer
    return r.type === 'coil' || r.type === 'discrete'
      ? img.readBits(r.type, r.address, r.count)
      : img.readWords(r.type, r.address, r.count);
  };
  return Object.assign(read, { reads });
}

describe('identify: each shipped profile recognises its own controller and only it', () => {
  const profiles = listProfiles().map((n) => loadProfile(n));

  it('every shipped profile declares a signature', () => {
    expect(profiles.filter((p) => !p.identify).map((p) => p.name)).toEqual([]);
  });

  for (const name of listProfiles()) {
    it(`a ${name} unit fits ${name} alone`, async () => {
      expect(await identifyAmong(profiles, simUnit(name))).toEqual([name]);
    });
  }

  it('names the check that failed', async () => {
    const r = await identify(loadProfile('northgate-hr'), simUnit('came-barrier'));
    expect(r).toMatchObject({ matched: false, failed: 0, reason: 'holding 0…12: refused (exception)' });
  });

  it('a value outside the accepted codes, text that is not text', async () => {
    const p = parseProfile(
      `name: t
fields: [{ field: fault_code, type: holding, address: 0 }]
commands: {}
identify:
  - { type: holding, address: 0, in: [[1, 3], 9] }
  - { type: holding, address: 1, count: 2, ascii: true }
  - { type: holding, address: 0, in: [[0, 9]] }
`,
      't.yaml',
    );
    let reads = 0;
    const words =
      (ws: number[]): RangeReader =>
      async (r) => {
        reads++;
        return ws.slice(r.address, r.address + r.count);
      };
    expect(await identify(p, words([9, 0x4142, 0x4300]))).toMatchObject({ matched: true });
    expect(reads).toBe(2); // the same range twice is one request
    expect(await identify(p, words([4, 0x4142, 0]))).toMatchObject({
      matched: false,
      reason: 'holding 0 reads 4, expected [[1,3],9]',
    });
    expect(await identify(p, words([2, 0x4107, 0]))).toMatchObject({ matched: false, failed: 1 });
  });

  it('a failing link reaches the caller (nobody there), a refusal does not (somebody else there)', async () => {
    const p = loadProfile('came-barrier');
    await expect(identify(p, () => Promise.reject(new Error('timeout')))).rejects.toThrow('timeout');
    expect((await identify(p, async () => undefined)).matched).toBe(false);
  });

  it('the loader checks what the schema cannot', () => {
    const t = (identify: string) =>
      `name: t\nfields: [{ field: fault_code, type: holding, address: 0 }]\ncommands: {}\nidentify:\n${identify}`;
    expect(() => parseProfile(t('  - { type: holding, address: 0, in: [[5, 1]] }\n'), 'x.yaml')).toThrow(
      /identify\[0\]\.in\[0\]: a range is \[low, high\]/,
    );
    expect(() => parseProfile(t('  - { type: coil, address: 0, ascii: true }\n'), 'x.yaml')).toThrow(
      /bits hold no characters/,
    );
  });
});

describe('deviceInfo', () => {
  it('formats ASCII (trimmed, printable only), decimal words and hex', () => {
    const item = (format: 'ascii' | 'decimal' | 'hex', extra = {}) => ({
      name: 'x',
      type: 'holding' as const,
      address: 0,
      format,
      ...extra,
    });
    expect(formatInfo(item('ascii'), [0x5a4c, 0x4233, 0x3042, 0x0000])).toBe('ZLB30B');
    expect(formatInfo(item('ascii', { byteOrder: 'little' }), [0x4c5a, 0x3342])).toBe('ZLB3');
    expect(formatInfo(item('ascii'), [0x4101, 0x4220])).toBe('A?B');
    expect(formatInfo(item('decimal'), [2, 1, 17])).toBe('2.1.17');
    expect(formatInfo(item('hex'), [0x1203])).toBe('0x1203');
  });

  it('reads the CAME board id, firmware and serial in one request, as the simulator lays them out', async () => {
    const read = simUnit('came-barrier', 7, {
      serial: 'ZLB30B12345678',
      firmware: '2.1.17',
      board_id: '0x1203',
    });
    expect(await readDeviceInfo(loadProfile('came-barrier').deviceInfo!, read)).toEqual({
      board_id: '0x1203',
      firmware: '2.1.17',
      serial: 'ZLB30B12345678',
    });
    expect(read.reads).toEqual(['holding:0:11']);
    // Unconfigured, each unit says something of its own.
    expect(await readDeviceInfo(loadProfile('came-barrier').deviceInfo!, simUnit('came-barrier', 2))).toEqual(
      {
        board_id: '0x0102',
        firmware: '1.0.2',
        serial: 'SIM00000000002',
      },
    );
  });
});

describe('a value the register says it does not have', () => {
  it('255 (position unknown) leaves arm_angle_deg out instead of reading 229.5°', () => {
    const p = loadProfile('came-barrier');
    const img = emptyImage();
    img.holding.set(100, 17);
    img.holding.set(101, 255);
    expect(decodeFields(p, img)).toEqual({ arm_state: 'closed' });
    img.holding.set(101, 50);
    expect(decodeFields(p, img)).toEqual({ arm_state: 'closed', arm_angle_deg: 45 });
    img.holding.set(100, 18);
    expect(decodeFields(p, img).arm_state).toBe('stopped'); // partially open: at rest, not open
  });
});

describe('per-device overrides', () => {
  const came = loadProfile('came-barrier');

  it('replace the keys they name and confirm an unverified mapping', () => {
    const p = withOverrides(came, { photo_eye_blocked: { bit: 4 }, loop_occupied: { bit: 0 } }, 'gate-1');
    const eye = p.fields.find((f) => f.field === 'photo_eye_blocked')!;
    expect(eye).toMatchObject({ address: 108, bit: 4 });
    expect(eye.unverified).toBeUndefined();
    expect(p.fields.find((f) => f.field === 'loop_occupied')!.unverified).toBeUndefined();
    expect(p.fields.find((f) => f.field === 'cabinet_temp_c')!.unverified).toBeDefined();
    expect(came.fields.find((f) => f.field === 'photo_eye_blocked')!.bit).toBe(1); // the loaded profile is untouched
  });

  it('add a field the profile leaves out, and refuse a result that is no profile', () => {
    const p = withOverrides(came, { fault_code: { type: 'holding', address: 103, dataType: 'u16' } }, 'g');
    expect(p.fields.at(-1)).toEqual({ field: 'fault_code', type: 'holding', address: 103, dataType: 'u16' });
    expect(() => withOverrides(came, { fault_code: { address: 103 } }, 'g')).toThrow(
      /device "g": overrides make profile came-barrier invalid: overrides\.fault_code/,
    );
    expect(() => withOverrides(came, { photo_eye_blocked: { bit: 0 } }, 'g')).toThrow(
      /holding 108 already feeds loop_occupied/,
    );
  });
});
