import { LIMITS, unpackBits } from '../codec.ts';
import { illegalAddress, illegalValue, type Handler } from './common.ts';

/** Write Multiple Coils; the answer carries address and quantity. */
export const fc15: Handler = (unit, pdu) => {
  if (pdu.length < 7) return illegalValue(15);
  const address = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  const bytes = pdu[5]!;
  if (count < 1 || count > LIMITS.writeBits || bytes !== Math.ceil(count / 8) || pdu.length !== 6 + bytes) {
    return illegalValue(15);
  }
  if (!unit.has('coil', address, count)) return illegalAddress(15);
  unit.write('coil', address, unpackBits(pdu.subarray(6), count));
  return Buffer.from(pdu.subarray(0, 5));
};
