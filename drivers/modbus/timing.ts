/**
 * Serial wire timing. An RTU character is 11 bits on the wire with parity or two stop
 * bits and 10 without; we use 10 (8N1, the common RS-485 setting) as the issue asks.
 * Frames are separated by at least 3.5 characters of silence.
 */
export const BITS_PER_CHAR = 10;

export function charTimeMs(baud: number): number {
  return (BITS_PER_CHAR * 1000) / baud;
}

/** Silence that ends a frame: 3.5 chars, but never below 1.75 ms (spec, above 19200 baud). */
export function frameGapMs(baud: number): number {
  return baud > 19200 ? 1.75 : 3.5 * charTimeMs(baud);
}

export function bytesWireMs(bytes: number, baud: number): number {
  return bytes * charTimeMs(baud);
}

/** Wire time of one transaction: request and response bytes plus the silence after each. */
export function transactionWireMs(reqBytes: number, resBytes: number, baud: number): number {
  return bytesWireMs(reqBytes + resBytes, baud) + 2 * frameGapMs(baud);
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
