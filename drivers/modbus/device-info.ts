import { MAX_READ_REGISTERS } from './codec.ts';
import { countOf, type DeviceInfoItem } from './profile-sections.ts';
import type { ReadRange } from './registers.ts';

/**
 * What a controller says about itself (board id, firmware, serial number), as the
 * profile's `deviceInfo` lays it out. Read once when the gateway connects, and by the
 * commissioning sweep once a unit is recognised.
 */

/** Reads one range of a unit; undefined when the unit refuses it (a Modbus exception). */
export type RangeReader = (range: ReadRange) => Promise<readonly (number | boolean)[] | undefined>;

/** Register words → text, as the item's format says. */
export function formatInfo(item: DeviceInfoItem, words: readonly number[]): string {
  if (item.format === 'ascii') {
    const bytes = words.flatMap((w) =>
      item.byteOrder === 'little' ? [w & 0xff, w >> 8] : [w >> 8, w & 0xff],
    );
    // Printable ASCII only: a stray byte must not put control characters into an API answer.
    const text = String.fromCharCode(...bytes.map((b) => (b >= 0x20 && b < 0x7f ? b : 0)));
    return text.replace(/\0+$/, '').replace(/\0/g, '?').trimEnd();
  }
  const each = words.map((w) =>
    item.format === 'hex' ? `0x${w.toString(16).toUpperCase().padStart(4, '0')}` : String(w),
  );
  return each.join(item.join ?? '.');
}

/**
 * Read every item, one request per contiguous span of a table where the span fits one
 * request. An item the unit refuses is left out; a failure of the link (timeout) throws.
 */
export async function readDeviceInfo(
  items: readonly DeviceInfoItem[],
  read: RangeReader,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const type of ['holding', 'input'] as const) {
    const mine = items.filter((i) => i.type === type);
    if (mine.length === 0) continue;
    const start = Math.min(...mine.map((i) => i.address));
    const end = Math.max(...mine.map((i) => i.address + countOf(i)));
    const each: ReadRange[] = mine.map((i) => ({ type, address: i.address, count: countOf(i) }));
    const words = new Map<number, number>();
    const take = async (spans: ReadRange[]) => {
      for (const s of spans) (await read(s))?.forEach((v, k) => words.set(s.address + k, Number(v)));
    };
    const oneSpan = end - start <= MAX_READ_REGISTERS;
    await take(oneSpan ? [{ type, address: start, count: end - start }] : each);
    // A refused span may only have a gap the unit does not serve: then item by item.
    if (oneSpan && words.size === 0 && mine.length > 1) await take(each);
    for (const item of mine) {
      const ws = Array.from({ length: countOf(item) }, (_, k) => words.get(item.address + k));
      if (ws.every((w) => w !== undefined)) out[item.name] = formatInfo(item, ws);
    }
  }
  return out;
}
