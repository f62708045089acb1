import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ptyPair } from '../helpers/socat.ts';
import { startTs, type Proc } from '../helpers/procs.ts';
import { startSim, type SimHandle } from '../helpers/modbus-harness.ts';

/** Run mbpoll once (-1) with PDU addressing (-0); returns the register values it printed. */
function mbpoll(args: string[]): { values: Map<number, number>; out: string; status: number | null } {
  const r = spawnSync('mbpoll', ['-1', '-0', '-o', '2', ...args], { encoding: 'utf8', timeout: 20_000 });
  const out = `${r.stdout}${r.stderr}`;
  const values = new Map<number, number>();
  for (const m of out.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)) values.set(Number(m[1]), Number(m[2]));
  return { values, out, status: r.status };
}

describe('barrier simulator speaks Modbus to mbpoll', () => {
  let sim: SimHandle;
  let pty: { a: string; b: string; proc: Proc };
  beforeAll(async () => {
    pty = await ptyPair();
    sim = await startSim(['--tcp', '127.0.0.1:0', '--serial', pty.b, '--baud', '9600', '--units', '1,7']);
  });
  afterAll(async () => {
    await sim?.stop();
    await pty?.proc.stop();
  });
  const tcp = (unit: string, ...rest: string[]) =>
    mbpoll(['-m', 'tcp', '-p', String(sim.tcpPort), '-a', unit, ...rest]);
  const rtu = (unit: string, ...rest: string[]) =>
    mbpoll(['-m', 'rtu', '-b', '9600', '-P', 'none', '-a', unit, ...rest]);

  it('holding registers over Modbus TCP match the simulator state', async () => {
    await sim.post('/traffic', { unit: 1, arrive: 'in' });
    const r = tcp('1', '-r', '0', '-c', '13', '127.0.0.1');
    expect(r.status, r.out).toBe(0);
    const s = (await sim.state()).units['1']!;
    expect(r.values.get(0)).toBe(0); // closed
    expect(r.values.get(2)! & 1).toBe(1); // loop occupied by the waiting car
    expect(r.values.get(12)! / 10).toBeCloseTo(s.supply_v as number, 0);
  });

  it('input registers over RTU on a pty at 9600 baud, two units on the line', async () => {
    for (const unit of ['1', '7']) {
      const r = rtu(unit, '-t', '4', '-r', '10', '-c', '3', pty.a);
      expect(r.status, r.out).toBe(0);
      expect(r.values.get(12)! / 10).toBeGreaterThan(20); // supply volts
    }
  });

  it('answers an unmapped address with an exception, and unknown units not at all', () => {
    const bad = tcp('1', '-r', '50', '-c', '2', '127.0.0.1');
    expect(bad.out).toMatch(/Illegal data address/i);
    const silent = rtu('9', '-o', '0.3', '-r', '0', '-c', '1', pty.a);
    expect(silent.out).toMatch(/timed out|Connection timed out/i);
  });

  it('a write through mbpoll commands the barrier (fc16: command + sequence, echoed)', async () => {
    const w = tcp('7', '-r', '100', '127.0.0.1', '3', '4242');
    expect(w.status, w.out).toBe(0);
    const echo = tcp('7', '-t', '3', '-r', '0', '127.0.0.1');
    expect(echo.values.get(0)).toBe(4242);
    const s = (await sim.state()).units['7']!;
    expect(s.hold_open).toBe(true);
    expect(['opening', 'open']).toContain(s.arm_state);
  });
});

describe('simulator CLI', () => {
  it('--help lists listeners and options', async () => {
    const p = startTs('device-sims/main.ts', ['barrier', '--help']);
    await p.exited;
    expect(p.output()).toMatch(/--rtu-tcp HOST:PORT/);
    expect(p.output()).toMatch(/northgate-hr, pulsar-relay/);
  });

  it('stops cleanly on SIGTERM', async () => {
    const s = await startSim(['--tcp', '127.0.0.1:0']);
    const r = await s.stop();
    expect(r).toMatchObject({ code: 0 });
    expect(s.proc.output()).toMatch(/stopped after serving/);
  });
});
