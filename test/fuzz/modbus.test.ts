import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeMbap,
  encodeRtu,
  FC,
  ModbusException,
  parseResponse,
  readRequest,
  rtuCrcOk,
  rtuRequestLength,
  rtuResponseLength,
  takeMbapFrames,
  writeMultipleRegisters,
  writeSingleRegister,
} from '../../drivers/modbus/codec.ts';
import * as sim from '../../device-sims/barrier/codec.ts';
import { TIMEOUT_MS, fcOptions, isCrash } from './runs.ts';

// Modbus frames from a hostile or broken peer, into the driver's parsers (the master)
// and the simulator's (the slave). Each parser either answers or refuses with its own
// error; none throws a TypeError/RangeError, loops or reads past its buffer.

const bytes = (max = 300) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

/** A request the driver really sends: read 1/2/3/4 or write 6/16. */
const request = fc.oneof(
  fc
    .record({
      fc: fc.constantFrom(
        FC.readCoils,
        FC.readDiscreteInputs,
        FC.readHoldingRegisters,
        FC.readInputRegisters,
      ),
      address: fc.integer({ min: 0, max: 0xffff }),
      count: fc.integer({ min: 1, max: 125 }),
    })
    .map((r) => readRequest(r.fc, r.address, r.count)),
  fc
    .record({ address: fc.integer({ min: 0, max: 0xffff }), value: fc.integer({ min: 0, max: 0xffff }) })
    .map((r) => writeSingleRegister(r.address, r.value)),
  fc
    .record({
      address: fc.integer({ min: 0, max: 0xffff }),
      values: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 123 }),
    })
    .map((r) => writeMultipleRegisters(r.address, r.values)),
);

/** A plausible answer to `req` with some bytes flipped, cut or appended. */
const mutatedAnswer = (req: Buffer) =>
  fc.tuple(bytes(260), fc.nat(), fc.nat(255), fc.boolean()).map(([noise, at, flip, exc]) => {
    const base = exc ? Buffer.from([req[0]! | 0x80, flip]) : Buffer.concat([Buffer.from([req[0]!]), noise]);
    const out = Buffer.from(base);
    if (out.length > 0) out[at % out.length] = (out[at % out.length]! ^ flip) & 0xff;
    return out;
  });

describe('driver codec', { timeout: TIMEOUT_MS }, () => {
  it('parseResponse answers or refuses with Error/ModbusException, whatever the answer bytes', () => {
    fc.assert(
      fc.property(
        request.chain((req) => fc.tuple(fc.constant(req), fc.oneof(bytes(), mutatedAnswer(req)))),
        ([req, res]) => {
          try {
            const out = parseResponse(req, res);
            if (req[0] === FC.readHoldingRegisters || req[0] === FC.readInputRegisters)
              expect((out as number[]).length).toBe(req.readUInt16BE(3));
          } catch (err) {
            if (isCrash(err)) throw err;
            expect(err instanceof ModbusException || err instanceof Error).toBe(true);
          }
        },
      ),
      fcOptions(),
    );
  });

  it('register answers round-trip: what a slave encodes the parser reads back', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 125 }),
        (words) => {
          const req = readRequest(FC.readHoldingRegisters, 0, words.length);
          const res = Buffer.alloc(2 + words.length * 2);
          res[0] = FC.readHoldingRegisters;
          res[1] = words.length * 2;
          words.forEach((w, i) => res.writeUInt16BE(w, 2 + i * 2));
          expect(parseResponse(req, res)).toEqual(words);
          const rtu = encodeRtu(1, res);
          expect(rtuCrcOk(rtu)).toBe(true);
          expect(rtuResponseLength(rtu)).toBe(rtu.length);
        },
      ),
      fcOptions(),
    );
  });

  it('RTU frame lengths: 0 (need more), -1 (unknown) or a whole frame of at least 4 bytes', () => {
    fc.assert(
      fc.property(bytes(300), (buf) => {
        for (const len of [rtuResponseLength(buf), rtuRequestLength(buf)]) {
          expect(Number.isInteger(len)).toBe(true);
          expect(len === 0 || len === -1 || len >= 4).toBe(true);
        }
        expect(typeof rtuCrcOk(buf)).toBe('boolean');
      }),
      fcOptions(),
    );
  });

  it('takeMbapFrames: frames + rest are the stream, or a clean refusal; chunking does not matter', () => {
    const frames = fc.array(
      fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }), bytes(253)),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(frames, bytes(20), fc.array(fc.nat(), { maxLength: 8 }), (fs, junk, cuts) => {
        const valid = fs.filter(([, , pdu]) => pdu.length >= 1);
        const stream = Buffer.concat([...valid.map(([t, u, pdu]) => encodeMbap(t, u, pdu)), junk]);
        // Whole stream at once.
        let whole: { frames: unknown[]; rest: Buffer } | undefined;
        try {
          whole = takeMbapFrames(stream);
        } catch (err) {
          if (isCrash(err)) throw err;
          expect((err as Error).message).toMatch(/bad MBAP header/);
        }
        if (!whole) return;
        // The same bytes in chunks, as TCP may deliver them.
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        let rx: Buffer = Buffer.alloc(0);
        const got: unknown[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          rx = Buffer.concat([rx, stream.subarray(prev, p)]);
          prev = p;
          const r = takeMbapFrames(rx);
          got.push(...r.frames);
          rx = r.rest;
        }
        expect(got).toEqual(whole.frames);
        expect(rx.equals(whole.rest)).toBe(true);
      }),
      fcOptions(),
    );
  });
});

describe('simulator codec (the slave side, its own code)', { timeout: TIMEOUT_MS }, () => {
  it('splitMbap and the RTU request length survive any stream', () => {
    fc.assert(
      fc.property(bytes(400), (buf) => {
        try {
          const { requests, rest } = sim.splitMbap(buf);
          const used = requests.reduce((n, r) => n + 7 + r.pdu.length, 0);
          expect(used + rest.length).toBe(buf.length);
        } catch (err) {
          if (isCrash(err)) throw err;
          expect((err as Error).message).toMatch(/not a Modbus TCP header/);
        }
        const len = sim.rtuRequestLength(buf);
        expect(len === 0 || len === -1 || len >= 4).toBe(true);
        expect(typeof sim.rtuCrcOk(buf)).toBe('boolean');
      }),
      fcOptions(),
    );
  });

  it('the two codecs agree: CRC, request length and RTU frames', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 247 }), bytes(250), (unit, pdu) => {
        const a = encodeRtu(unit, pdu);
        expect(sim.rtuFrame(unit, pdu).equals(a)).toBe(true);
        expect(sim.rtuCrcOk(a)).toBe(rtuCrcOk(a));
        expect(sim.rtuRequestLength(a)).toBe(rtuRequestLength(a));
      }),
      fcOptions(),
    );
  });
});
