import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceError } from '../../drivers/contract/errors.ts';
import type { ModbusDrivers } from '../../drivers/modbus/config.ts';
import { ptyPair } from '../helpers/socat.ts';
import type { Proc } from '../helpers/procs.ts';
import { driversOn, readUntil, startSim, type SimHandle } from '../helpers/modbus-harness.ts';

/** Poll every driver in its own loop (like the gateway's scheduler) for `ms`; count successes per unit. */
async function pollAll(
  d: ModbusDrivers,
  ms: number,
): Promise<Map<number, { ok: number; failed: number; maxMs: number }>> {
  const counts = new Map(d.drivers.map((x) => [x.unit, { ok: 0, failed: 0, maxMs: 0 }]));
  const until = Date.now() + ms;
  await Promise.all(
    d.drivers.map(async (drv) => {
      const c = counts.get(drv.unit)!;
      while (Date.now() < until) {
        const t0 = Date.now();
        try {
          await drv.read();
          c.ok++;
          c.maxMs = Math.max(c.maxMs, Date.now() - t0);
        } catch (err) {
          if (!(err instanceof DeviceError)) throw err;
          c.failed++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }),
  );
  return counts;
}

describe('a shared RS-485 line (socat pty, 9600 baud, units 1-3)', () => {
  let pty: { a: string; b: string; proc: Proc };
  let sim: SimHandle;
  let d: ModbusDrivers;
  beforeAll(async () => {
    pty = await ptyPair();
    sim = await startSim(['--serial', pty.b, '--baud', '9600', '--units', '1,2,3']);
    // Unit 4 is configured but nothing answers for it: a dead drop on the line.
    d = driversOn(
      { type: 'rtu', path: pty.a, baud: 9600, timeoutMs: 200, reconnectMs: 200 },
      [1, 2, 3, 4],
      'northgate-hr',
      {
        backoffMs: 1000,
        backoffMaxMs: 4000,
      },
    );
  });
  afterAll(async () => {
    await d?.close();
    await sim?.stop();
    await pty?.proc.stop();
  });

  it('a dead unit and a powered-off unit do not stall the others', async () => {
    await sim.post('/fault', { unit: 2, fault: 'power-loss', active: true });
    try {
      const counts = await pollAll(d, 4000);
      // A 13-register read is ~50 ms of line time at 9600 baud; two live units share the
      // line, and the silent ones cost one bounded timeout per back-off period each.
      expect(counts.get(1)!.ok, JSON.stringify([...counts])).toBeGreaterThan(15);
      expect(counts.get(3)!.ok).toBeGreaterThan(15);
      // A live unit waits at most behind one silent unit's timeout and one other read.
      expect(counts.get(1)!.maxMs).toBeLessThan(1000);
      expect(counts.get(3)!.maxMs).toBeLessThan(1000);
      expect(Math.abs(counts.get(1)!.ok - counts.get(3)!.ok)).toBeLessThan(
        Math.max(counts.get(1)!.ok, counts.get(3)!.ok) / 2,
      );
      expect(counts.get(2)!.ok).toBe(0);
      expect(counts.get(4)!.ok).toBe(0);
      expect(d.drivers[3]!.health()).toMatchObject({ status: 'offline', reason: 'timeout' });
    } finally {
      await sim.post('/fault', { unit: 2, fault: 'power-loss', active: false });
    }
    await readUntil(
      () => d.drivers[1]!.read(),
      (r) => r.health?.status === 'online',
    );
  });

  it('urgent reads overtake queued polls', async () => {
    // Queue a burst of routine polls, then one urgent read: it must finish before most of them.
    const done: string[] = [];
    const polls = Array.from({ length: 6 }, (_, i) =>
      d.drivers[i % 2 === 0 ? 0 : 2]!.read().then(() => done.push(`poll${i}`)),
    );
    const urgent = d.drivers[1]!.read({ urgent: true }).then(() => done.push('urgent'));
    await Promise.all([...polls, urgent]);
    expect(done.indexOf('urgent')).toBeLessThanOrEqual(1);
  });

  it('reconnects when the pty disappears and comes back', async () => {
    const drv = d.drivers[0]!;
    await drv.read();
    await pty.proc.stop();
    await readUntil(
      () =>
        drv.read().then(
          () => false,
          (e: DeviceError) => e.reason === 'port-unavailable' || e.reason === 'timeout',
        ),
      (x) => x,
    );
    // Same link paths again, as when a USB adapter is replugged.
    pty = await ptyPair(path.dirname(pty.a));
    const r = await readUntil(
      () => drv.read(),
      (x) => x.health?.status === 'online',
      20_000,
    );
    expect(r.fields).toMatchObject({ fault_code: 0 });
  });
});
