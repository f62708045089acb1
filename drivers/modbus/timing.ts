/**
 * Serial wire timing. An RTU character is a start bit, 8 data bits, a parity bit if
 * any and one or two stop bits: 11 bits with parity (8E1, CAME's line) or two stop
 * bits, 10 without (8N1, the default when a line's framing is not known).
 * Frames are separated by at least 3.5 characters of silence.
 */
export const BITS_PER_CHAR = 10;

export function bitsPerChar(f: {
  parity: 'none' | 'even' | 'odd';
  dataBits: number;
  stopBits: number;
}): number {
  return 1 + f.dataBits + (f.parity === 'none' ? 0 : 1) + f.stopBits;
}

export function charTimeMs(baud: number, bits = BITS_PER_CHAR): number {
  return (bits * 1000) / baud;
}

/** Silence that ends a frame: 3.5 chars, but never below 1.75 ms (spec, above 19200 baud). */
export function frameGapMs(baud: number, bits = BITS_PER_CHAR): number {
  return baud > 19200 ? 1.75 : 3.5 * charTimeMs(baud, bits);
}

export function bytesWireMs(bytes: number, baud: number, bits = BITS_PER_CHAR): number {
  return bytes * charTimeMs(baud, bits);
}

/** Wire time of one transaction: request and response bytes plus the silence after each. */
export function transactionWireMs(
  reqBytes: number,
  resBytes: number,
  baud: number,
  bits = BITS_PER_CHAR,
): number {
  return bytesWireMs(reqBytes + resBytes, baud, bits) + 2 * frameGapMs(baud, bits);
}

export function nowMs(): number {
  return performance.now();
}

/**
 * Wait until `performance.now()` reaches `until`, with sub-millisecond accuracy:
 * a timer for the bulk, then setImmediate turns (which still let I/O run) for the
 * last stretch, since setTimeout alone rounds up to whole milliseconds.
 */
export function waitUntil(until: number): Promise<void> {
  return new Promise((resolve) => {
    const step = () => {
      const left = until - performance.now();
      if (left <= 0) resolve();
      else if (left > 2) setTimeout(step, left - 1.5);
      else setImmediate(step);
    };
    step();
  });
}
