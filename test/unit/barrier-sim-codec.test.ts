import { describe, expect, it } from 'vitest';
import * as driver from '../../drivers/modbus/codec.ts';
import * as driverTiming from '../../drivers/modbus/timing.ts';
import {
  crc16,
  exceptionPdu,
  LIMITS,
  mbapFrame,
  packBits,
  rtuCrcOk,
  rtuFrame,
  rtuRequestLength,
  splitMbap,
  unpackBits,
} from '../../device-sims/barrier/codec.ts';
import { characterMs, interFrameMs, parseFraming, wireMs } from '../../device-sims/barrier/timing.ts';
import { mulberry32 } from '../../device-sims/barrier/barrier.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Vectors from the specifications and the CRC catalogue, not from either implementation.
describe('simulator codec against the Modbus specifications', () => {
  it('CRC-16/MODBUS: catalogue check value and the serial-line examples', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x4b37);
    expect(rtuFrame(0x11, hex('03 006B 0003'))).toEqual(hex('11 03 006B 0003 7687'));
    expect(rtuFrame(0x01, hex('03 0000 000A'))).toEqual(hex('01 03 0000 000A C5CD'));
    expect(rtuCrcOk(hex('01 03 0000 000A C5CD'))).toBe(true);
    expect(rtuCrcOk(hex('01 03 0000 000A CDC5'))).toBe(false);
    expect(rtuCrcOk(hex('01 03 C5'))).toBe(false);
  });

  it('bit packing: the read-coils example (coils 20-38 = CD 6B 05) and the write-coils example', () => {
    const bits = unpackBits(hex('CD 6B 05'), 19);
    // 0xCD = 1100 1101: coil 20 is the low bit.
    expect(bits.slice(0, 8)).toEqual([true, false, true, true, false, false, true, true]);
    expect(bits.slice(16)).toEqual([true, false, true]);
    expect(packBits(bits)).toEqual(hex('CD 6B 05'));
    const ten = [true, false, true, true, false, false, true, true, true, false];
    expect(packBits(ten)).toEqual(hex('CD 01'));
    expect(packBits([])).toEqual(Buffer.alloc(0));
  });

  it('exception PDUs set the high bit of the function code', () => {
    expect(exceptionPdu(0x03, 0x02)).toEqual(hex('83 02'));
    expect(exceptionPdu(0x10, 0x03)).toEqual(hex('90 03'));
  });

  it('quantity limits per request', () => {
    expect(LIMITS).toEqual({ readBits: 2000, readRegisters: 125, writeBits: 1968, writeRegisters: 123 });
  });

  it('RTU request lengths come from the function code and, for fc15/16, the byte count', () => {
    expect(rtuRequestLength(hex('01'))).toBe(0);
    expect(rtuRequestLength(hex('01 03 0000'))).toBe(8);
    expect(rtuRequestLength(hex('01 05 0004 FF00'))).toBe(8);
    expect(rtuRequestLength(hex('01 10 0064 0002'))).toBe(0);
    expect(rtuRequestLength(hex('01 10 0064 0002 04'))).toBe(13);
    expect(rtuRequestLength(hex('01 0F 0013 000A 02'))).toBe(11);
    expect(rtuRequestLength(hex('01 2B 0E 01 00'))).toBe(-1);
  });

  it('MBAP: frames a response and cuts requests off a stream, keeping a partial one', () => {
    expect(mbapFrame(0x1234, 7, hex('03 02 002A'))).toEqual(hex('1234 0000 0005 07 03 02 002A'));
    const stream = hex('0001 0000 0006 01 03 0000 000D  0002 0000 0006 02 01 0000 0005  0003 0000');
    const { requests, rest } = splitMbap(stream);
    expect(requests).toEqual([
      { transaction: 1, unit: 1, pdu: hex('03 0000 000D') },
      { transaction: 2, unit: 2, pdu: hex('01 0000 0005') },
    ]);
    expect(rest).toEqual(hex('0003 0000'));
    expect(() => splitMbap(hex('0001 0001 0006 01 03 0000 000D'))).toThrow(/protocol 1/);
    expect(() => splitMbap(hex('0001 0000 0001 01'))).toThrow(/length 1/);
  });
});

describe('simulator RTU timing', () => {
  it('a character is start + 8 data + parity + stop bits', () => {
    expect(characterMs(9600)).toBeCloseTo(10 / 9.6, 9);
    expect(characterMs(9600, parseFraming('8E1'))).toBeCloseTo(11 / 9.6, 9);
    expect(characterMs(9600, parseFraming('8N2'))).toBeCloseTo(11 / 9.6, 9);
    expect(wireMs(8, 19200)).toBeCloseTo((8 * 10) / 19.2, 9);
  });

  it('3.5 characters between frames, fixed at 1.75 ms above 19200 baud', () => {
    expect(interFrameMs(9600)).toBeCloseTo(3.5 * (10 / 9.6), 9);
    expect(interFrameMs(9600, parseFraming('8O1'))).toBeCloseTo(3.5 * (11 / 9.6), 9);
    expect(interFrameMs(19200)).toBeCloseTo(3.5 * (10 / 19.2), 9);
    expect(interFrameMs(38400)).toBe(1.75);
    expect(interFrameMs(115200, parseFraming('8E1'))).toBe(1.75);
  });

  it('framing names', () => {
    expect(parseFraming('8n1')).toEqual({ parity: 'none', stopBits: 1 });
    expect(parseFraming('8O2')).toEqual({ parity: 'odd', stopBits: 2 });
    for (const bad of ['7E1', '8X1', '8N3', '']) expect(() => parseFraming(bad)).toThrow(/framing must be/);
  });
});

// The driver's codec was written separately; both must put the same bytes on the wire.
describe('simulator and driver codecs agree byte for byte', () => {
  const rand = mulberry32(7);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));

  it('CRC and RTU frames', () => {
    for (let i = 0; i < 200; i++) {
      const pdu = bytes(1 + Math.floor(rand() * 252));
      const unit = Math.floor(rand() * 248);
      expect(crc16(pdu)).toBe(driver.crc16(pdu));
      expect(rtuFrame(unit, pdu)).toEqual(driver.encodeRtu(unit, pdu));
    }
  });

  it('bit packing and MBAP frames', () => {
    for (let i = 0; i < 200; i++) {
      const bits = Array.from({ length: 1 + Math.floor(rand() * 60) }, () => rand() < 0.5);
      expect(packBits(bits)).toEqual(driver.packBits(bits));
      expect(unpackBits(packBits(bits), bits.length)).toEqual(driver.unpackBits(packBits(bits), bits.length));
      const pdu = bytes(1 + Math.floor(rand() * 252));
      expect(mbapFrame(i * 331, 1, pdu)).toEqual(driver.encodeMbap(i * 331, 1, pdu));
    }
  });

  it('8N1 line timing', () => {
    for (const baud of [1200, 9600, 19200, 38400, 115200]) {
      expect(interFrameMs(baud)).toBeCloseTo(driverTiming.frameGapMs(baud), 9);
      expect(wireMs(13, baud)).toBeCloseTo(driverTiming.bytesWireMs(13, baud), 9);
    }
  });
});
