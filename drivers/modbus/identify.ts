import { countOf, type IdentifyCheck } from './profile-sections.ts';
import type { RangeReader } from './device-info.ts';

/**
 * Does the unit at the other end fit a profile's `identify` signature? Pure: the
 * caller brings the reads (a commissioning sweep, a test), so this module knows no bus.
 * A read the unit refuses (a Modbus exception, `undefined` from the reader) fails the
 * check it belongs to; a failure of the link (the reader throws) reaches the caller,
 * who can tell "nobody there" from "somebody else there".
 */
export interface IdentifyResult {
  profile: string;
  matched: boolean;
  /** Why, in an installer's words: the check that failed, or what matched. */
  reason: string;
  /** Index of the failed check in `identify`. */
  failed?: number;
}

type Signed = { name: string; identify?: readonly IdentifyCheck[] | undefined };

const where = (c: IdentifyCheck) =>
  `${c.type} ${c.address}${countOf(c) > 1 ? `…${c.address + countOf(c) - 1}` : ''}`;

const accepts = (c: IdentifyCheck, v: number) =>
  (c.in ?? []).some((a) => (typeof a === 'number' ? v === a : v >= a[0] && v <= a[1]));

const printable = (w: number) => [w >> 8, w & 0xff].every((b) => b === 0 || (b >= 0x20 && b < 0x7f));

function mismatch(c: IdentifyCheck, values: readonly (number | boolean)[]): string | undefined {
  const nums = values.map(Number);
  if (values.length < countOf(c)) return `${where(c)}: ${values.length} values, expected ${countOf(c)}`;
  const bad = c.in ? nums.findIndex((v) => !accepts(c, v)) : -1;
  if (bad >= 0) return `${c.type} ${c.address + bad} reads ${nums[bad]}, expected ${JSON.stringify(c.in)}`;
  const text = c.ascii ? nums.findIndex((w) => !printable(w)) : -1;
  if (text >= 0) return `${c.type} ${c.address + text} reads 0x${nums[text]!.toString(16)}, not ASCII text`;
  return undefined;
}

/** Check one profile's signature; reads are cached by range, so repeated ranges cost one request. */
export async function identify(
  profile: Signed,
  read: RangeReader,
  cache = new Map<string, Promise<readonly (number | boolean)[] | undefined>>(),
): Promise<IdentifyResult> {
  const checks = profile.identify ?? [];
  if (checks.length === 0)
    return { profile: profile.name, matched: false, reason: 'the profile declares no identify signature' };
  for (const [i, c] of checks.entries()) {
    const range = { type: c.type, address: c.address, count: countOf(c) };
    const key = `${range.type}:${range.address}:${range.count}`;
    let pending = cache.get(key);
    if (!pending) cache.set(key, (pending = read(range)));
    const values = await pending;
    const why = values === undefined ? `${where(c)}: refused (exception)` : mismatch(c, values);
    if (why) return { profile: profile.name, matched: false, reason: why, failed: i };
  }
  return { profile: profile.name, matched: true, reason: `all ${checks.length} identify checks hold` };
}

/**
 * The names of the profiles a unit fits, in the order given (a caller lists the most
 * specific first). Shares reads between profiles. Fits scan.ts's `Recognise`.
 */
export async function identifyAmong(profiles: readonly Signed[], read: RangeReader): Promise<string[]> {
  const cache = new Map<string, Promise<readonly (number | boolean)[] | undefined>>();
  const fits: string[] = [];
  for (const p of profiles) if ((await identify(p, read, cache)).matched) fits.push(p.name);
  return fits;
}
