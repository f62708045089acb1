import { LIMITS } from '../codec.ts';
import { illegalAddress, illegalValue, type Handler } from './common.ts';

/** Write Multiple Registers; the answer carries address and quantity. */
export const fc16: Handler = (unit, pdu) => {
  if (pdu.length < 6) return illegalValue(16);
  const address = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  if (count < 1 || count > LIMITS.writeRegisters || pdu[5] !== count * 2 || pdu.length !== 6 + count * 2) {
    return illegalValue(16);
  }
  if (!unit.has('holding', address, count)) return illegalAddress(16);
  const words = Array.from({ length: count }, (_, i) => pdu.readUInt16BE(6 + i * 2));
  unit.write('holding', address, words);
  return Buffer.from(pdu.subarray(0, 5));
};
