import type { ScanHit, ScanProgress } from '../contract/plugin.ts';
import { DeviceError } from '../contract/errors.ts';
import { FC, ModbusException, READ_FC, readRequest } from './codec.ts';
import type { ReadRange } from './registers.ts';

/**
 * A sweep of one bus over unit ids: who answers, and which profile each one fits.
 * Any answer, an exception included, means a unit is there; silence, or a TCP gateway's
 * "target did not respond", means none is. Requests go one at a time, spaced by
 * `minGapMs` (a bounded rate, kind to serial device servers and to polling alike).
 */

/**
 * One request on the line at sweep priority; resolves with the data, rejects with a
 * DeviceError. `presence` asks whether anybody is there (a short wait: most ids are
 * silent); `identify` reads a unit known to answer (the line's usual wait and retry, so
 * a busy moment does not make a controller look like nothing known).
 */
export type SweepSend = (
  unit: number,
  pdu: Buffer,
  phase: 'presence' | 'identify',
) => Promise<number[] | boolean[] | null>;

/** A unit's registers as identification reads them; undefined when the unit refuses the range. */
export type UnitRead = (range: ReadRange) => Promise<number[] | boolean[] | undefined>;

/** Which profiles a unit fits, best first, from what it answers (recognise.ts). */
export type Recognise = (read: UnitRead) => Promise<string[]>;

/** What a recognised unit says about itself (its profile's deviceInfo); undefined: nothing declared. */
export type Describe = (profile: string, read: UnitRead) => Promise<Record<string, string> | undefined>;

export interface SweepOptions {
  units: readonly number[];
  recognise: Recognise;
  describe?: Describe;
  minGapMs: number;
  onProgress?: (p: ScanProgress) => void;
  signal?: AbortSignal;
}

function exceptionCode(err: unknown): number | undefined {
  const cause = err instanceof Error ? err.cause : undefined;
  return cause instanceof ModbusException ? cause.code : undefined;
}

/** Exceptions 10 and 11: a Modbus TCP gateway saying nobody is at that unit id. */
const NOBODY = new Set([0x0a, 0x0b]);

function absent(err: unknown): boolean {
  const code = exceptionCode(err);
  return (err instanceof DeviceError && err.reason === 'timeout') || (code !== undefined && NOBODY.has(code));
}

/** The unit answered with an exception: it is there, it just refuses this request. */
function refused(err: unknown): boolean {
  const code = exceptionCode(err);
  return code !== undefined && !NOBODY.has(code);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function sweep(send: SweepSend, opts: SweepOptions): Promise<ScanHit[]> {
  const hits: ScanHit[] = [];
  const total = opts.units.length;
  let done = 0;
  let last = 0;
  const paced: SweepSend = async (unit, pdu, phase) => {
    const wait = last + opts.minGapMs - Date.now();
    if (wait > 0) await sleep(wait);
    last = Date.now();
    return send(unit, pdu, phase);
  };
  opts.onProgress?.({ done, total, found: 0 });
  for (const unit of opts.units) {
    if (opts.signal?.aborted) break;
    const hit = await probeUnit(paced, unit, opts);
    if (hit) hits.push(hit);
    done++;
    opts.onProgress?.({ done, total, found: hits.length });
  }
  return hits;
}

/** Is anybody at `unit`, and what is it? A failure other than silence is reported, not thrown. */
async function probeUnit(
  send: SweepSend,
  unit: number,
  { recognise, describe }: Pick<SweepOptions, 'recognise' | 'describe'>,
): Promise<ScanHit | undefined> {
  try {
    // Holding register 0: cheap, and even a refusal (an exception) proves the unit is there.
    await send(unit, readRequest(FC.readHoldingRegisters, 0, 1), 'presence');
  } catch (err) {
    if (absent(err)) return undefined;
    if (!refused(err))
      return { unit, profiles: [], detail: `answered, but garbled: ${(err as Error).message}` };
  }
  const seen = new Map<string, number[] | boolean[] | undefined>();
  const read: UnitRead = async (r) => {
    const key = `${r.type}:${r.address}:${r.count}`;
    if (seen.has(key)) return seen.get(key);
    let data: number[] | boolean[] | undefined;
    try {
      data = (await send(unit, readRequest(READ_FC[r.type], r.address, r.count), 'identify')) ?? undefined;
    } catch (err) {
      if (!refused(err)) throw err;
    }
    seen.set(key, data);
    return data;
  };
  try {
    const profiles = await recognise(read);
    if (profiles.length === 0) return { unit, profiles, detail: 'answers, but fits no known profile' };
    const info = describe ? await describe(profiles[0]!, read) : undefined;
    return info && Object.keys(info).length > 0 ? { unit, profiles, info } : { unit, profiles };
  } catch (err) {
    return {
      unit,
      profiles: [],
      detail: `stopped answering while being identified: ${(err as Error).message}`,
    };
  }
}
