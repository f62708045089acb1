import { describe, expect, it } from 'vitest';
import {
  crc16,
  encodeMbap,
  encodeRtu,
  ModbusException,
  parseResponse,
  readRequest,
  rtuCrcOk,
  rtuRequestLength,
  rtuResponseLength,
  takeMbapFrames,
  writeMultipleCoils,
  writeMultipleRegisters,
  FC,
} from '../../drivers/modbus/codec.ts';
import { transactionWireMs, charTimeMs, frameGapMs } from '../../drivers/modbus/timing.ts';

describe('Modbus codec', () => {
  it('CRC16 matches the specification example (01 03 00 00 00 0A → C5 CD)', () => {
    const frame = encodeRtu(1, readRequest(FC.readHoldingRegisters, 0, 10));
    expect(frame.toString('hex')).toBe('01030000000ac5cd');
    expect(crc16(Buffer.from('123456789'))).toBe(0x4b37); // CRC-16/MODBUS check value
    expect(rtuCrcOk(frame)).toBe(true);
    frame[3]! ^= 1;
    expect(rtuCrcOk(frame)).toBe(false);
  });

  it('tells RTU frame lengths from the function code', () => {
    expect(rtuRequestLength(encodeRtu(1, readRequest(3, 0, 2)))).toBe(8);
    const fc16 = encodeRtu(1, writeMultipleRegisters(100, [1, 2, 3]));
    expect(rtuRequestLength(fc16)).toBe(fc16.length);
    expect(rtuRequestLength(fc16.subarray(0, 5))).toBe(0);
    expect(rtuRequestLength(Buffer.from([1, 0x2b, 0, 0]))).toBe(-1);
    expect(rtuResponseLength(Buffer.from([1, 0x83]))).toBe(5);
    expect(rtuResponseLength(Buffer.from([1, 3, 26]))).toBe(31);
  });

  it('splits MBAP frames across and within chunks, rejects impossible headers', () => {
    const a = encodeMbap(7, 1, readRequest(3, 0, 1));
    const b = encodeMbap(8, 2, writeMultipleCoils(0, [true, false, true]));
    const both = Buffer.concat([a, b]);
    const first = takeMbapFrames(both.subarray(0, a.length + 3));
    expect(first.frames.map((f) => f.tid)).toEqual([7]);
    const second = takeMbapFrames(Buffer.concat([first.rest, both.subarray(a.length + 3)]));
    expect(second.frames).toMatchObject([{ tid: 8, unit: 2 }]);
    expect(second.rest.length).toBe(0);
    expect(() => takeMbapFrames(Buffer.from([0, 1, 0, 5, 0, 6, 1, 3]))).toThrow(/bad MBAP/);
  });

  it('parses answers and turns exceptions and mismatches into errors', () => {
    const req = readRequest(3, 0, 2);
    expect(parseResponse(req, Buffer.from([3, 4, 0, 1, 0xff, 0xff]))).toEqual([1, 0xffff]);
    expect(parseResponse(readRequest(1, 0, 10), Buffer.from([1, 2, 0b101, 0b10]))).toEqual([
      true,
      false,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(() => parseResponse(req, Buffer.from([0x83, 2]))).toThrow(ModbusException);
    expect(() => parseResponse(req, Buffer.from([3, 2, 0, 1]))).toThrow(/expected 2 registers/);
    expect(() => parseResponse(req, Buffer.from([4, 4, 0, 1, 0, 1]))).toThrow(/function 4/);
  });

  it('computes wire time at 10 bits per character with 3.5-char silences', () => {
    expect(charTimeMs(9600)).toBeCloseTo(1.0417, 3);
    expect(frameGapMs(9600)).toBeCloseTo(3.646, 2);
    expect(frameGapMs(115200)).toBe(1.75);
    expect(transactionWireMs(8, 31, 9600)).toBeCloseTo(39 * 1.0417 + 2 * 3.646, 1);
  });
});
