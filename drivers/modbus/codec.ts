/**
 * The driver's Modbus frame codec: PDUs, the MBAP header of Modbus TCP and the
 * CRC16-framed ADU of Modbus RTU. Pure functions on Buffers, no I/O. The barrier
 * simulator has its own (device-sims/barrier/codec.ts), so the two ends of the wire
 * are checked against each other rather than against one shared encoder.
 */

export const FC = {
  readCoils: 0x01,
  readDiscreteInputs: 0x02,
  readHoldingRegisters: 0x03,
  readInputRegisters: 0x04,
  writeSingleCoil: 0x05,
  writeSingleRegister: 0x06,
  writeMultipleCoils: 0x0f,
  writeMultipleRegisters: 0x10,
} as const;

/** The read function of each register table a profile names. */
export const READ_FC = {
  coil: FC.readCoils,
  discrete: FC.readDiscreteInputs,
  input: FC.readInputRegisters,
  holding: FC.readHoldingRegisters,
} as const;

export const EXCEPTION = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  serverDeviceFailure: 0x04,
} as const;

/** Protocol ceilings per request (Modbus Application Protocol v1.1b3, 6.1–6.4). */
export const MAX_READ_REGISTERS = 125;
export const MAX_READ_BITS = 2000;
export const MAX_WRITE_REGISTERS = 123;
export const MAX_WRITE_BITS = 1968;

// ---------- CRC16 (poly 0xA001, init 0xFFFF), table driven ----------
const CRC_TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  CRC_TABLE[i] = c;
}

export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ buf[i]!) & 0xff]!;
  return crc;
}

// ---------- RTU ADU: unit | pdu | crc(lo, hi) ----------
export function encodeRtu(unit: number, pdu: Buffer): Buffer {
  const out = Buffer.allocUnsafe(pdu.length + 3);
  out[0] = unit;
  pdu.copy(out, 1);
  out.writeUInt16LE(crc16(out, 0, pdu.length + 1), pdu.length + 1);
  return out;
}

export function rtuCrcOk(frame: Buffer): boolean {
  if (frame.length < 4) return false;
  return crc16(frame, 0, frame.length - 2) === frame.readUInt16LE(frame.length - 2);
}

/**
 * Length of the RTU request frame starting at buf[0] (server side), or 0 when more
 * bytes are needed, or -1 when the function code is unknown (length cannot be told).
 */
export function rtuRequestLength(buf: Buffer): number {
  if (buf.length < 2) return 0;
  const fc = buf[1]!;
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === FC.writeMultipleCoils || fc === FC.writeMultipleRegisters) {
    if (buf.length < 7) return 0;
    return 9 + buf[6]!;
  }
  return -1;
}

/** Length of the RTU response frame starting at buf[0] (client side); 0 = need more, -1 = unknown. */
export function rtuResponseLength(buf: Buffer): number {
  if (buf.length < 2) return 0;
  const fc = buf[1]!;
  if (fc & 0x80) return 5;
  if (fc >= 1 && fc <= 4) return buf.length < 3 ? 0 : 5 + buf[2]!;
  if (fc === 5 || fc === 6 || fc === 15 || fc === 16) return 8;
  return -1;
}

/** Length of the RTU answer a request PDU asks for (exceptions are shorter). */
export function expectedRtuResponseLength(reqPdu: Buffer): number {
  const fc = reqPdu[0]!;
  const count = reqPdu.length >= 5 ? reqPdu.readUInt16BE(3) : 0;
  if (fc === FC.readCoils || fc === FC.readDiscreteInputs) return 5 + Math.ceil(count / 8);
  if (fc === FC.readHoldingRegisters || fc === FC.readInputRegisters) return 5 + 2 * count;
  return 8;
}

// ---------- MBAP (TCP) ADU: tid(2) pid(2)=0 len(2) unit(1) | pdu ----------
export function encodeMbap(tid: number, unit: number, pdu: Buffer): Buffer {
  const out = Buffer.allocUnsafe(7 + pdu.length);
  out.writeUInt16BE(tid & 0xffff, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(pdu.length + 1, 4);
  out[6] = unit;
  pdu.copy(out, 7);
  return out;
}

export interface MbapFrame {
  tid: number;
  unit: number;
  pdu: Buffer;
}

/**
 * Split complete MBAP frames off the front of a stream buffer. Returns the frames and
 * the unconsumed rest; throws on a header no Modbus peer would send (the caller drops
 * the connection, since the stream can no longer be framed).
 */
export function takeMbapFrames(buf: Buffer): { frames: MbapFrame[]; rest: Buffer } {
  const frames: MbapFrame[] = [];
  let off = 0;
  while (buf.length - off >= 7) {
    const pid = buf.readUInt16BE(off + 2);
    const len = buf.readUInt16BE(off + 4);
    if (pid !== 0 || len < 2 || len > 254)
      throw new Error(`bad MBAP header (protocol ${pid}, length ${len})`);
    if (buf.length - off < 6 + len) break;
    frames.push({
      tid: buf.readUInt16BE(off),
      unit: buf[off + 6]!,
      pdu: buf.subarray(off + 7, off + 6 + len),
    });
    off += 6 + len;
  }
  return { frames, rest: off === 0 ? buf : buf.subarray(off) };
}

// ---------- PDUs the client sends ----------
export function readRequest(fc: number, address: number, count: number): Buffer {
  const b = Buffer.allocUnsafe(5);
  b[0] = fc;
  b.writeUInt16BE(address, 1);
  b.writeUInt16BE(count, 3);
  return b;
}

export function writeSingleCoil(address: number, on: boolean): Buffer {
  const b = Buffer.allocUnsafe(5);
  b[0] = FC.writeSingleCoil;
  b.writeUInt16BE(address, 1);
  b.writeUInt16BE(on ? 0xff00 : 0x0000, 3);
  return b;
}

export function writeSingleRegister(address: number, value: number): Buffer {
  const b = Buffer.allocUnsafe(5);
  b[0] = FC.writeSingleRegister;
  b.writeUInt16BE(address, 1);
  b.writeUInt16BE(value & 0xffff, 3);
  return b;
}

export function writeMultipleCoils(address: number, values: boolean[]): Buffer {
  const bytes = packBits(values);
  const b = Buffer.allocUnsafe(6 + bytes.length);
  b[0] = FC.writeMultipleCoils;
  b.writeUInt16BE(address, 1);
  b.writeUInt16BE(values.length, 3);
  b[5] = bytes.length;
  bytes.copy(b, 6);
  return b;
}

export function writeMultipleRegisters(address: number, values: number[]): Buffer {
  const b = Buffer.allocUnsafe(6 + values.length * 2);
  b[0] = FC.writeMultipleRegisters;
  b.writeUInt16BE(address, 1);
  b.writeUInt16BE(values.length, 3);
  b[5] = values.length * 2;
  values.forEach((v, i) => b.writeUInt16BE(v & 0xffff, 6 + i * 2));
  return b;
}

export function exceptionPdu(fc: number, code: number): Buffer {
  return Buffer.from([fc | 0x80, code]);
}

export function packBits(values: boolean[]): Buffer {
  const bytes = Buffer.alloc(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v) bytes[i >> 3]! |= 1 << (i & 7);
  });
  return bytes;
}

export function unpackBits(bytes: Buffer, count: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < count; i++) out.push(((bytes[i >> 3] ?? 0) >> (i & 7)) & 1 ? true : false);
  return out;
}

/** A Modbus exception the server answered with. */
export class ModbusException extends Error {
  constructor(
    readonly fc: number,
    readonly code: number,
  ) {
    super(`exception ${code} (${exceptionName(code)}) to function ${fc}`);
    this.name = 'ModbusException';
  }
}

export function exceptionName(code: number): string {
  return (
    { 1: 'illegal function', 2: 'illegal data address', 3: 'illegal data value', 4: 'server device failure' }[
      code
    ] ?? 'unknown'
  );
}

/**
 * Check a response PDU against the request it answers and return the data it carries:
 * register words for fc03/04, bits for fc01/02, nothing for writes. Throws
 * ModbusException for exception responses and Error for anything malformed.
 */
export function parseResponse(req: Buffer, res: Buffer): number[] | boolean[] | null {
  const fc = req[0]!;
  if (res.length < 2) throw new Error(`response of ${res.length} bytes`);
  if (res[0] === (fc | 0x80)) throw new ModbusException(fc, res[1]!);
  if (res[0] !== fc) throw new Error(`response function ${res[0]} to request function ${fc}`);
  const count = req.readUInt16BE(3);
  if (fc === FC.readHoldingRegisters || fc === FC.readInputRegisters) {
    if (res[1] !== count * 2 || res.length !== 2 + count * 2) {
      throw new Error(`expected ${count} registers, got byte count ${res[1]} in ${res.length} bytes`);
    }
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(res.readUInt16BE(2 + i * 2));
    return out;
  }
  if (fc === FC.readCoils || fc === FC.readDiscreteInputs) {
    const n = Math.ceil(count / 8);
    if (res[1] !== n || res.length !== 2 + n) throw new Error(`expected ${n} bit bytes, got ${res[1]}`);
    return unpackBits(res.subarray(2), count);
  }
  // Writes echo address and value/quantity.
  if (res.length !== 5 || !res.subarray(1, 5).equals(req.subarray(1, 5))) {
    throw new Error(`write echo mismatch`);
  }
  return null;
}
