import { illegalAddress, illegalValue, type Handler } from './common.ts';

/** Write Single Register; the answer echoes the request. */
export const fc06: Handler = (unit, pdu) => {
  if (pdu.length !== 5) return illegalValue(6);
  const address = pdu.readUInt16BE(1);
  if (!unit.has('holding', address, 1)) return illegalAddress(6);
  unit.write('holding', address, [pdu.readUInt16BE(3)]);
  return Buffer.from(pdu);
};
