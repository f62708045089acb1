import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModbusBus } from '../../drivers/modbus/bus.ts';
import { FC, readRequest } from '../../drivers/modbus/codec.ts';
import { createBus } from '../../drivers/modbus/config.ts';
import { ptyPair } from '../helpers/socat.ts';
import type { Proc } from '../helpers/procs.ts';
import { startSim, type SimHandle } from '../helpers/modbus-harness.ts';

/**
 * RTU has no transaction id: an answer is known only by the unit, the function and the
 * shape it comes in, and by arriving while its request waits. Two CAME units share one
 * line (a socat pty pair at 38400 8E1); each says a serial number of its own, so the
 * test can tell whose answer a request got. The simulator's slow-response fault makes a
 * unit answer after the gateway gave up on it.
 */
const serialOf = (words: number[]) =>
  String.fromCharCode(...words.flatMap((w) => [w >> 8, w & 0xff])).replace(/\0+$/, '');
const SERIAL = readRequest(FC.readHoldingRegisters, 4, 7);
const GATE = readRequest(FC.readHoldingRegisters, 100, 2);

describe('a late answer on a shared RTU line is never taken for the next one', () => {
  let pty: { a: string; b: string; proc: Proc };
  let sim: SimHandle;
  let bus: ModbusBus;
  beforeAll(async () => {
    pty = await ptyPair();
    sim = await startSim([
      ...['--serial', pty.b, '--baud', '38400', '--framing', '8E1'],
      ...['--units', '1,2', '--profile', 'came-barrier'],
    ]);
    bus = createBus(
      { id: 'line', type: 'rtu', path: pty.a, baud: 38400, parity: 'even', timeoutMs: 150, retries: 0 },
      { log: pino({ level: 'silent' }) },
    );
  });
  afterAll(async () => {
    await bus?.close();
    await sim?.stop();
    await pty?.proc.stop();
  });
  const slow = (unit: number, delayMs: number | false) =>
    sim.post('/fault', { unit, fault: 'slow-response', active: delayMs !== false, delayMs: delayMs || 0 });
  const dropped = () => ({ ...bus.droppedFrames });

  it('both units answer in time, each with its own serial number', async () => {
    expect(serialOf((await bus.request(1, SERIAL)) as number[])).toBe('SIM00000000001');
    expect(serialOf((await bus.request(2, SERIAL)) as number[])).toBe('SIM00000000002');
  });

  it("unit 1 answers after its timeout, while unit 2's request waits: unit 2 gets its own answer", async () => {
    await slow(1, 400);
    await slow(2, 350); // unit 2 is slow too, so unit 1's late answer arrives inside unit 2's window
    const before = dropped();
    try {
      await expect(bus.request(1, SERIAL)).rejects.toMatchObject({ reason: 'timeout' });
      const t0 = performance.now();
      const words = (await bus.request(2, SERIAL, { timeoutMs: 800 })) as number[];
      // The late answer (due ~250 ms after unit 1's timeout) came while this request waited.
      expect(performance.now() - t0).toBeGreaterThan(300);
      expect(serialOf(words)).toBe('SIM00000000002');
      expect(dropped().late).toBe(before.late + 1);
      expect(dropped().foreign).toBe(before.foreign); // a late answer is no stranger: nobody is blamed
    } finally {
      await slow(1, false);
      await slow(2, false);
    }
  });

  it('a late answer from the unit asked, to another request of its own, is dropped too', async () => {
    await slow(1, 300);
    const before = dropped();
    try {
      await expect(bus.request(1, SERIAL)).rejects.toMatchObject({ reason: 'timeout' });
      // Same unit, same function, another range: only the answer's shape tells them apart.
      const gate = (await bus.request(1, GATE, { timeoutMs: 800 })) as number[];
      expect(gate).toEqual([17, 0]); // closed, position 0 %: not the serial number's first words
      expect(dropped().late).toBe(before.late + 1);
    } finally {
      await slow(1, false);
    }
  });

  it('an answer arriving with nobody waiting is counted and forgotten', async () => {
    await slow(1, 250);
    const before = dropped();
    try {
      await expect(bus.request(1, GATE)).rejects.toMatchObject({ reason: 'timeout' });
      await new Promise((r) => setTimeout(r, 300));
      expect(dropped().late).toBe(before.late + 1);
    } finally {
      await slow(1, false);
    }
    expect((await bus.request(1, GATE)) as number[]).toEqual([17, 0]);
    expect(serialOf((await bus.request(2, SERIAL)) as number[])).toBe('SIM00000000002');
  });
});
