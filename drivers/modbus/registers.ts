import type { ArmState, BarrierFields } from '../contract/canonical.ts';
import { MAX_READ_BITS, MAX_READ_REGISTERS } from './codec.ts';
import {
  BOOLEAN_FIELDS,
  INTEGER_FIELDS,
  wordsOf,
  type DataType,
  type FieldMap,
  type Profile,
  type RegisterType,
} from './profile.ts';

/**
 * Values ↔ registers for a profile: the read plan (batched ranges), decoding register
 * words into canonical fields (driver) and encoding canonical fields into words (sim).
 */
export interface RegisterImage {
  coil: Map<number, boolean>;
  discrete: Map<number, boolean>;
  input: Map<number, number>;
  holding: Map<number, number>;
}

export function emptyImage(): RegisterImage {
  return { coil: new Map(), discrete: new Map(), input: new Map(), holding: new Map() };
}

export const isBitTable = (t: RegisterType): t is 'coil' | 'discrete' => t === 'coil' || t === 'discrete';

export interface ReadRange {
  type: RegisterType;
  address: number;
  count: number;
}

/** Contiguous (or overlapping) addresses of one table merge into one request, up to the protocol limit. */
export function planReads(profile: Profile): ReadRange[] {
  const spans = profile.fields.map((f) => ({
    type: f.type,
    start: f.address,
    end: f.address + (isBitTable(f.type) ? 1 : wordsOf(f.dataType)),
  }));
  const out: ReadRange[] = [];
  for (const type of ['coil', 'discrete', 'input', 'holding'] as const) {
    const max = isBitTable(type) ? MAX_READ_BITS : MAX_READ_REGISTERS;
    const mine = spans.filter((s) => s.type === type).sort((a, b) => a.start - b.start);
    let cur: { start: number; end: number } | undefined;
    for (const s of mine) {
      if (cur && s.start <= cur.end && Math.max(cur.end, s.end) - cur.start <= max) {
        cur.end = Math.max(cur.end, s.end);
        continue;
      }
      if (cur) out.push({ type, address: cur.start, count: cur.end - cur.start });
      cur = { start: s.start, end: s.end };
    }
    if (cur) out.push({ type, address: cur.start, count: cur.end - cur.start });
  }
  return out;
}

const wordOrderOf = (f: FieldMap, p: Profile) => f.wordOrder ?? p.wordOrder ?? 'big';
const byteOrderOf = (f: FieldMap, p: Profile) => f.byteOrder ?? p.byteOrder ?? 'big';
const swapBytes = (w: number) => ((w & 0xff) << 8) | ((w >> 8) & 0xff);

/** One scratch word pair for 32-bit values: decoding runs on every poll, and allocates nothing. */
const pair = new DataView(new ArrayBuffer(4));

/** The first (or only) and second register word, in wire order → the number they hold. */
function rawOf(w0: number, w1: number, dataType: DataType, wordOrder: string, byteOrder: string): number {
  if (byteOrder === 'little') {
    w0 = swapBytes(w0);
    w1 = swapBytes(w1);
  }
  if (wordsOf(dataType) === 1) return dataType === 'i16' ? (w0 << 16) >> 16 : w0;
  pair.setUint16(0, wordOrder === 'little' ? w1 : w0);
  pair.setUint16(2, wordOrder === 'little' ? w0 : w1);
  if (dataType === 'i32') return pair.getInt32(0);
  if (dataType === 'f32') return pair.getFloat32(0);
  return pair.getUint32(0);
}

/** Raw register words (in wire order) → the number they hold. */
export function wordsToRaw(
  words: number[],
  dataType: DataType,
  wordOrder: string,
  byteOrder: string,
): number {
  return rawOf(words[0]!, words[1] ?? 0, dataType, wordOrder, byteOrder);
}

/** The number → register words in wire order (inverse of wordsToRaw). Out-of-range values saturate. */
export function rawToWords(raw: number, dataType: DataType, wordOrder: string, byteOrder: string): number[] {
  const b = Buffer.allocUnsafe(4);
  const clampInt = (lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(raw)));
  let ws: number[];
  if (wordsOf(dataType) === 1) {
    ws = [dataType === 'i16' ? clampInt(-32768, 32767) & 0xffff : clampInt(0, 0xffff)];
  } else {
    if (dataType === 'f32') b.writeFloatBE(raw, 0);
    else if (dataType === 'i32') b.writeInt32BE(clampInt(-0x80000000, 0x7fffffff), 0);
    else b.writeUInt32BE(clampInt(0, 0xffffffff), 0);
    const hi = b.readUInt16BE(0);
    const lo = b.readUInt16BE(2);
    ws = wordOrder === 'little' ? [lo, hi] : [hi, lo];
  }
  return byteOrder === 'little' ? ws.map(swapBytes) : ws;
}

const tidy = (v: number) => Math.round(v * 1e6) / 1e6;

/** Decode every mapped field present in the image into canonical barrier fields. */
export function decodeFields(profile: Profile, img: RegisterImage): BarrierFields {
  return decodeReading(profile, img).fields;
}

/** The fields, and those whose register holds the profile's "no valid reading" marker. */
export function decodeReading(
  profile: Profile,
  img: RegisterImage,
): { fields: BarrierFields; unknown: string[] } {
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const f of profile.fields) {
    if (isBitTable(f.type)) {
      const v = (f.type === 'coil' ? img.coil : img.discrete).get(f.address);
      if (v !== undefined) out[f.field] = v;
      continue;
    }
    const table = f.type === 'input' ? img.input : img.holding;
    const w0 = table.get(f.address);
    const w1 = wordsOf(f.dataType) === 2 ? table.get(f.address + 1) : 0;
    if (w0 === undefined || w1 === undefined) continue;
    const word = wordOrderOf(f, profile);
    const byte = byteOrderOf(f, profile);
    const dt = f.dataType ?? 'u16';
    if (dt === 'bitfield') {
      out[f.field] = ((rawOf(w0, 0, 'u16', word, byte) >> (f.bit ?? 0)) & 1) === 1;
      continue;
    }
    const raw = rawOf(w0, w1, dt, word, byte);
    // "No valid reading": no value rather than the marker scaled into one.
    if (f.unknown !== undefined && raw === f.unknown) {
      unknown.push(f.field);
      continue;
    }
    if (f.field === 'arm_state') {
      out[f.field] = (f.states?.[String(raw)] ?? 'unknown') satisfies ArmState;
    } else if (BOOLEAN_FIELDS.includes(f.field)) {
      out[f.field] = raw !== 0;
    } else {
      const v = raw * (f.scale ?? 1) + (f.offset ?? 0);
      out[f.field] = INTEGER_FIELDS.includes(f.field) ? Math.round(v) : tidy(v);
    }
  }
  return { fields: out as BarrierFields, unknown };
}

/** Write canonical values into the image as the profile lays them out (simulator side). */
export function encodeFields(profile: Profile, fields: BarrierFields, img: RegisterImage): void {
  for (const f of profile.fields) {
    const value = (fields as Record<string, unknown>)[f.field];
    if (value === undefined) continue;
    if (isBitTable(f.type)) {
      (f.type === 'coil' ? img.coil : img.discrete).set(f.address, Boolean(value));
      continue;
    }
    const table = f.type === 'input' ? img.input : img.holding;
    const word = wordOrderOf(f, profile);
    const byte = byteOrderOf(f, profile);
    const dt = f.dataType ?? 'u16';
    if (dt === 'bitfield') {
      const cur = wordsToRaw([table.get(f.address) ?? 0], 'u16', word, byte);
      const mask = 1 << (f.bit ?? 0);
      const next = value ? cur | mask : cur & ~mask;
      table.set(f.address, rawToWords(next, 'u16', word, byte)[0]!);
      continue;
    }
    let raw: number;
    if (f.field === 'arm_state') {
      const hit = Object.entries(f.states ?? {}).find(([, s]) => s === value);
      raw = hit ? Number(hit[0]) : 0xffff;
    } else if (typeof value === 'boolean') {
      raw = value ? 1 : 0;
    } else {
      raw = ((value as number) - (f.offset ?? 0)) / (f.scale ?? 1);
    }
    rawToWords(raw, dt, word, byte).forEach((w, i) => table.set(f.address + i, w));
  }
}
