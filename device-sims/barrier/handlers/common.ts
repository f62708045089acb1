import { EXCEPTION, exceptionPdu, LIMITS, packBits } from '../codec.ts';
import type { Table } from '../profile.ts';
import type { UnitImage } from '../image.ts';

/** A function-code handler: request PDU in, response PDU (possibly an exception) out. */
export type Handler = (unit: UnitImage, pdu: Buffer) => Buffer;

export const illegalValue = (fc: number) => exceptionPdu(fc, EXCEPTION.illegalDataValue);
export const illegalAddress = (fc: number) => exceptionPdu(fc, EXCEPTION.illegalDataAddress);

/**
 * The shape every read function shares: address + quantity, checked against the
 * protocol limit and the unit's register map, then the payload from `body`.
 */
function readHandler(
  max: number,
  type: Table,
  body: (unit: UnitImage, address: number, count: number) => Buffer,
): Handler {
  return (unit, pdu) => {
    const fc = pdu[0]!;
    if (pdu.length !== 5) return illegalValue(fc);
    const address = pdu.readUInt16BE(1);
    const count = pdu.readUInt16BE(3);
    if (count < 1 || count > max) return illegalValue(fc);
    if (!unit.has(type, address, count)) return illegalAddress(fc);
    const payload = body(unit, address, count);
    return Buffer.concat([Buffer.from([fc, payload.length]), payload]);
  };
}

/** fc01/fc02: packed bits. */
export const readBits = (type: 'coil' | 'discrete') =>
  readHandler(LIMITS.readBits, type, (u, a, n) => packBits(u.readBits(type, a, n)));

/** fc03/fc04: big-endian words. */
export const readWords = (type: 'input' | 'holding') =>
  readHandler(LIMITS.readRegisters, type, (u, a, n) => {
    const out = Buffer.allocUnsafe(n * 2);
    u.readWords(type, a, n).forEach((w, i) => out.writeUInt16BE(w, i * 2));
    return out;
  });
