/**
 * RTU line timing as the serial-line spec defines it (Modbus over Serial Line v1.02,
 * §2.5.1.1): a character is a start bit, eight data bits, an optional parity bit and
 * one or two stop bits; frames are separated by 3.5 characters of silence, fixed at
 * 1.75 ms above 19200 baud. A simulated slave answers when a real one on the same
 * line could have, so a master's timing is tried as it would be on the wire.
 */
export interface Framing {
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

export const DEFAULT_FRAMING: Framing = { parity: 'none', stopBits: 1 };

/** "8N1", "8E1", "8O1", "8N2" (RTU always has eight data bits). */
export function parseFraming(s: string): Framing {
  const m = /^8([NEO])([12])$/i.exec(s);
  if (!m) throw new Error(`framing must be 8N1, 8E1, 8O1 or 8N2, got "${s}"`);
  const parity = ({ N: 'none', E: 'even', O: 'odd' } as const)[m[1]!.toUpperCase() as 'N' | 'E' | 'O'];
  return { parity, stopBits: m[2] === '2' ? 2 : 1 };
}

export const bitsPerCharacter = (f: Framing): number => 1 + 8 + (f.parity === 'none' ? 0 : 1) + f.stopBits;

export function characterMs(baud: number, f: Framing = DEFAULT_FRAMING): number {
  return (bitsPerCharacter(f) / baud) * 1000;
}

export function interFrameMs(baud: number, f: Framing = DEFAULT_FRAMING): number {
  return baud > 19200 ? 1.75 : 3.5 * characterMs(baud, f);
}

export function wireMs(bytes: number, baud: number, f: Framing = DEFAULT_FRAMING): number {
  return bytes * characterMs(baud, f);
}

export const nowMs = (): number => performance.now();

/**
 * Resolve once performance.now() reaches `at`. Timers alone round to whole
 * milliseconds, a third of a character at 9600 baud, so the last stretch is spent in
 * setImmediate turns, which still let I/O through.
 */
export function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const left = at - performance.now();
      if (left <= 0) resolve();
      else if (left > 2) setTimeout(check, left - 1.5);
      else setImmediate(check);
    };
    check();
  });
}
