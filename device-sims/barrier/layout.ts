import type { BarrierFields } from './fields.ts';
import type { FieldSpec, Order, SimProfile } from './profile.ts';

/**
 * How a controller's firmware lays its state into the four Modbus tables. Each value
 * becomes an engineering integer (raw = round((value - offset) / scale)) or an IEEE-754
 * single, written most significant byte first ("ABCD"); the profile's word and byte
 * order then permute those bytes onto the wire the way vendor manuals name it: CDAB
 * (low word first), BADC (bytes swapped inside each register) or DCBA (both).
 * Registers themselves always travel high byte first (Modbus Application Protocol §4.2).
 */
export interface Tables {
  coil: Map<number, boolean>;
  discrete: Map<number, boolean>;
  input: Map<number, number>;
  holding: Map<number, number>;
}

export const emptyTables = (): Tables => ({
  coil: new Map(),
  discrete: new Map(),
  input: new Map(),
  holding: new Map(),
});

/** Positions, in the ABCD value, of the bytes as they appear on the wire. */
const WIRE_BYTES: Record<Order, Record<Order, { 2: number[]; 4: number[] }>> = {
  // word order → byte order
  big: { big: { 2: [0, 1], 4: [0, 1, 2, 3] }, little: { 2: [1, 0], 4: [1, 0, 3, 2] } },
  little: { big: { 2: [0, 1], 4: [2, 3, 0, 1] }, little: { 2: [1, 0], 4: [3, 2, 1, 0] } },
};

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The value's bytes, most significant first; a reading out of the type's range saturates, as firmware does. */
function valueBytes(dataType: NonNullable<FieldSpec['dataType']>, raw: number | null): Uint8Array {
  const wide = dataType === 'u32' || dataType === 'i32' || dataType === 'f32';
  const bytes = new Uint8Array(wide ? 4 : 2);
  if (raw === null) return bytes.fill(0xff); // "no valid reading": every bit set
  const v = new DataView(bytes.buffer);
  if (dataType === 'f32') v.setFloat32(0, raw);
  else if (dataType === 'u32') v.setUint32(0, clamp(raw, 0, 0xffffffff));
  else if (dataType === 'i32') v.setInt32(0, clamp(raw, -0x80000000, 0x7fffffff));
  else if (dataType === 'i16') v.setInt16(0, clamp(raw, -0x8000, 0x7fff));
  else v.setUint16(0, clamp(raw, 0, 0xffff));
  return bytes;
}

/** Engineering value of a field, or null when the controller has no code for it (an unlisted arm state). */
function engineering(f: FieldSpec, value: BarrierFields[keyof BarrierFields]): number | null {
  if (f.field === 'arm_state') {
    const code = Object.entries(f.states ?? {}).find(([, s]) => s === value)?.[0];
    return code === undefined ? null : Number(code);
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  const scaled = ((value as number) - (f.offset ?? 0)) / (f.scale ?? 1);
  return f.dataType === 'f32' ? scaled : Math.round(scaled);
}

const RANGES: Partial<Record<NonNullable<FieldSpec['dataType']>, [number, number]>> = {
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};

/**
 * A controller with a no-reading code reports it for a value its register cannot hold
 * (the simulated encoder fault reads −1°, which a 0–100 % register cannot say) rather
 * than saturating it into a plausible reading.
 */
function orUnknown(f: FieldSpec, raw: number | null): number | null {
  if (f.unknown === undefined) return raw;
  const [lo, hi] = RANGES[f.dataType ?? 'u16'] ?? [-Infinity, Infinity];
  return raw === null || raw < lo || raw > hi ? f.unknown : raw;
}

/** Registers from wire bytes: each pair of bytes is one register, first byte high. */
function toRegisters(wire: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < wire.length; i += 2) out.push((wire[i]! << 8) | wire[i + 1]!);
  return out;
}

/** Write every mapped field of `values` into `into`, as the profile lays it out. */
export function layOut(profile: SimProfile, values: Partial<BarrierFields>, into: Tables): void {
  // Status words are composed from zero on every scan, so an unmapped bit always reads 0.
  const statusWords = new Map<
    string,
    { table: Map<number, number>; address: number; bits: number; byte: Order }
  >();
  for (const f of profile.fields) {
    const value = values[f.field];
    if (value === undefined) continue;
    if (f.type === 'coil' || f.type === 'discrete') {
      into[f.type].set(f.address, value === true);
      continue;
    }
    const table = into[f.type];
    const word = f.wordOrder ?? profile.wordOrder ?? 'big';
    const byte = f.byteOrder ?? profile.byteOrder ?? 'big';
    if (f.dataType === 'bitfield') {
      const key = `${f.type}:${f.address}`;
      const sw = statusWords.get(key) ?? { table, address: f.address, bits: 0, byte };
      if (value === true) sw.bits |= 1 << f.bit!;
      statusWords.set(key, sw);
      continue;
    }
    const bytes = valueBytes(f.dataType ?? 'u16', orUnknown(f, engineering(f, value)));
    const order = WIRE_BYTES[word][byte][bytes.length as 2 | 4];
    toRegisters(order.map((i) => bytes[i]!)).forEach((r, i) => table.set(f.address + i, r));
  }
  for (const sw of statusWords.values()) {
    const bytes = [sw.bits >> 8, sw.bits & 0xff];
    sw.table.set(sw.address, toRegisters(WIRE_BYTES.big[sw.byte][2].map((i) => bytes[i]!))[0]!);
  }
}
