import { illegalAddress, illegalValue, type Handler } from './common.ts';

/** Write Single Coil: the value must be 0xFF00 (on) or 0x0000 (off); the answer echoes the request. */
export const fc05: Handler = (unit, pdu) => {
  if (pdu.length !== 5) return illegalValue(5);
  const address = pdu.readUInt16BE(1);
  const value = pdu.readUInt16BE(3);
  if (value !== 0xff00 && value !== 0x0000) return illegalValue(5);
  if (!unit.has('coil', address, 1)) return illegalAddress(5);
  unit.write('coil', address, [value === 0xff00]);
  return Buffer.from(pdu);
};
