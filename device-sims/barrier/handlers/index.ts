import { EXCEPTION, exceptionPdu } from '../codec.ts';
import type { UnitImage } from '../image.ts';
import type { Handler } from './common.ts';
import { fc01 } from './fc01.ts';
import { fc02 } from './fc02.ts';
import { fc03 } from './fc03.ts';
import { fc04 } from './fc04.ts';
import { fc05 } from './fc05.ts';
import { fc06 } from './fc06.ts';
import { fc15 } from './fc15.ts';
import { fc16 } from './fc16.ts';

const HANDLERS: Record<number, Handler> = {
  1: fc01,
  2: fc02,
  3: fc03,
  4: fc04,
  5: fc05,
  6: fc06,
  15: fc15,
  16: fc16,
};

/** Dispatch a request PDU to its function-code handler; unknown codes get exception 01. */
export function handlePdu(unit: UnitImage, pdu: Buffer): Buffer {
  const fc = pdu[0] ?? 0;
  const h = HANDLERS[fc];
  return h ? h(unit, pdu) : exceptionPdu(fc, EXCEPTION.illegalFunction);
}
