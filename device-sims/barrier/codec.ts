/**
 * The slave side of the Modbus wire, written from the specifications (Modbus
 * Application Protocol v1.1b3; Modbus over Serial Line v1.02; Modbus Messaging on
 * TCP/IP v1.0b) rather than shared with the driver, so that a framing or packing
 * mistake on one side shows up as a disagreement on the wire.
 */

/** Exception codes a slave answers with (Application Protocol §7). */
export const EXCEPTION = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  gatewayTargetNoResponse: 0x0b,
} as const;

/** Quantity limits per request (Application Protocol §6.1–6.4, 6.11, 6.12). */
export const LIMITS = {
  readBits: 0x07d0,
  readRegisters: 0x007d,
  writeBits: 0x07b0,
  writeRegisters: 0x007b,
} as const;

export const exceptionPdu = (fc: number, code: number): Buffer => Buffer.from([(fc | 0x80) & 0xff, code]);

/** Bits into bytes, first bit in the low-order bit of the first byte; unused high bits zero (§6.1). */
export function packBits(bits: readonly boolean[]): Buffer {
  const out = Buffer.alloc((bits.length + 7) >> 3);
  for (let i = 0; i < bits.length; i++) if (bits[i]) out[i >> 3] = out[i >> 3]! | (1 << (i % 8));
  return out;
}

export function unpackBits(bytes: Buffer, count: number): boolean[] {
  return Array.from({ length: count }, (_, i) => ((bytes[i >> 3] ?? 0) & (1 << (i % 8))) !== 0);
}

/**
 * CRC-16/MODBUS as the serial-line spec computes it (§6.2.2): start from 0xFFFF,
 * XOR each byte in, shift right eight times, XOR 0xA001 whenever a 1 falls out.
 */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let n = 0; n < 8; n++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** RTU frame: address, PDU, then the CRC low byte first (the one field of Modbus that is little-endian). */
export function rtuFrame(unit: number, pdu: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([unit]), pdu]);
  const crc = crc16(body);
  return Buffer.concat([body, Buffer.from([crc & 0xff, crc >> 8])]);
}

export function rtuCrcOk(frame: Buffer): boolean {
  if (frame.length < 4) return false;
  const crc = crc16(frame.subarray(0, frame.length - 2));
  return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >> 8;
}

/**
 * How long the request starting at buf[0] is, told from its function code: 0 when
 * more bytes are needed, -1 for a function whose length this slave cannot tell.
 */
export function rtuRequestLength(buf: Buffer): number {
  if (buf.length < 2) return 0;
  const fc = buf[1]!;
  // address, fc, two 16-bit fields, CRC
  if (fc >= 0x01 && fc <= 0x06) return 8;
  if (fc === 0x0f || fc === 0x10) return buf.length < 7 ? 0 : 7 + buf[6]! + 2;
  return -1;
}

/** MBAP header: transaction id, protocol 0, length of what follows it, unit id. */
export function mbapFrame(transaction: number, unit: number, pdu: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt16BE(transaction & 0xffff, 0);
  head.writeUInt16BE(pdu.length + 1, 4);
  head[6] = unit;
  return Buffer.concat([head, pdu]);
}

export interface TcpRequest {
  transaction: number;
  unit: number;
  pdu: Buffer;
}

/**
 * Cut whole requests off the front of a TCP stream; the rest waits for more bytes.
 * Throws on a header no Modbus master sends: after that the stream cannot be framed.
 */
export function splitMbap(stream: Buffer): { requests: TcpRequest[]; rest: Buffer } {
  const requests: TcpRequest[] = [];
  let at = 0;
  for (;;) {
    if (stream.length - at < 7) break;
    const protocol = stream.readUInt16BE(at + 2);
    const length = stream.readUInt16BE(at + 4); // unit id + PDU, at most 1 + 253
    if (protocol !== 0 || length < 2 || length > 254)
      throw new Error(`not a Modbus TCP header (protocol ${protocol}, length ${length})`);
    const end = at + 6 + length;
    if (end > stream.length) break;
    requests.push({
      transaction: stream.readUInt16BE(at),
      unit: stream[at + 6]!,
      pdu: stream.subarray(at + 7, end),
    });
    at = end;
  }
  return { requests, rest: stream.subarray(at) };
}
