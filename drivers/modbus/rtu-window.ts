import { expectedRtuResponseLength } from './codec.ts';

/**
 * RTU carries no transaction id, so an answer is told from a stale one by what it is:
 * the unit asked, the function asked, and the shape the request implies (byte count of
 * a read, echoed address and value of a write). Everything else that arrives while a
 * request waits is dropped and counted, never handed to the caller.
 */
export interface DroppedFrames {
  /** Answers from a unit after its request had timed out (or with nobody waiting). */
  late: number;
  /** Frames from a unit nobody asked (a wrong unit id on the line). */
  foreign: number;
  /** From the unit asked, but not an answer to this request (another function or shape). */
  mismatched: number;
}

export const noDrops = (): DroppedFrames => ({ late: 0, foreign: 0, mismatched: 0 });

export type Verdict = 'answer' | 'other-unit' | 'mismatch';

/** Whether a CRC-checked RTU frame answers `reqPdu` sent to `unit`. */
export function judge(reqPdu: Buffer, unit: number, frame: Buffer): Verdict {
  if (frame[0] !== unit) return 'other-unit';
  const fc = reqPdu[0]!;
  const got = frame[1]!;
  if (got === (fc | 0x80)) return 'answer'; // an exception to this very function
  if (got !== fc) return 'mismatch';
  if (fc >= 1 && fc <= 4) return frame.length === expectedRtuResponseLength(reqPdu) ? 'answer' : 'mismatch';
  // Writes echo the address and the value (fc05/06) or the quantity (fc15/16).
  return frame.subarray(2, 6).equals(reqPdu.subarray(1, 5)) ? 'answer' : 'mismatch';
}

/**
 * Requests that timed out recently: a frame fitting one of them is that unit answering
 * late, not a stranger on the line, so it neither fails the request now waiting nor
 * gets blamed on the unit now asked.
 */
export class GaveUp {
  private readonly recent: { unit: number; pdu: Buffer; until: number }[] = [];

  constructor(private readonly keepMs = 30_000) {}

  note(unit: number, pdu: Buffer, now: number): void {
    this.recent.push({ unit, pdu, until: now + this.keepMs });
    if (this.recent.length > 16) this.recent.shift();
  }

  fits(frame: Buffer, now: number): boolean {
    while (this.recent.length > 0 && this.recent[0]!.until < now) this.recent.shift();
    return this.recent.some((r) => judge(r.pdu, r.unit, frame) === 'answer');
  }
}
