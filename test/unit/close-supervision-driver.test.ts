import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarrierFields } from '../../drivers/contract/canonical.ts';
import { ModbusBus, type TransactionRecord } from '../../drivers/modbus/bus.ts';
import { readRequest, writeMultipleRegisters } from '../../drivers/modbus/codec.ts';
import { ModbusBarrierDriver } from '../../drivers/modbus/driver.ts';
import { DEFAULT_PROFILE_DIR, loadProfile } from '../../drivers/modbus/profile.ts';
import { TcpTransport } from '../../drivers/modbus/transport.ts';
import { BarrierSim } from '../../device-sims/barrier/barrier.ts';
import { UnitImage } from '../../device-sims/barrier/image.ts';
import { loadProfile as simProfile } from '../../device-sims/barrier/profile.ts';
import { SimServer } from '../../device-sims/barrier/server.ts';

const ctx = { log: pino({ level: 'silent' }), emit: () => undefined, dataDir: '/tmp' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A northgate profile with a controller-side "close if clear" (command value 7): no shipped
// profile has one, so the test writes its own.
const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-cic-'));
const CIC = path.join(dir, 'northgate-cic.yaml');
writeFileSync(
  CIC,
  readFileSync(path.join(DEFAULT_PROFILE_DIR, 'northgate-hr.yaml'), 'utf8')
    .replace('name: northgate-hr', 'name: northgate-cic')
    .replace(
      'reversal: open',
      'reversal: open\ncloseIfClear: { steps: [{ write: { type: holding, address: 100, values: [7], sequence: true } }] }',
    ),
);

/**
 * The Modbus side of close supervision against the simulator's server in-process (real
 * loopback TCP), so the test sees the order of requests on the wire and each unit's
 * own account of what it was read and written.
 */
describe('close supervision on the Modbus bus and driver', () => {
  const server = new SimServer({ latencyMs: 1 });
  let bus: ModbusBus;
  const drivers = new Map<number, ModbusBarrierDriver>();
  const sims = new Map<number, BarrierSim>();
  const units = new Map<number, UnitImage>();
  const unitsOf: [number, string][] = [
    [1, 'northgate-hr'],
    [2, 'northgate-hr'],
    [3, 'pulsar-relay'],
    [4, CIC],
    [5, 'northgate-hr'],
    [6, CIC],
  ];

  beforeAll(async () => {
    for (const [id, profile] of unitsOf) {
      const sim = new BarrierSim({ openMs: 100, closeMs: 2000, seed: id, traffic: 'off', ratePerMin: 0 });
      const image = new UnitImage(id, simProfile(profile), sim);
      server.units.set(id, image);
      sims.set(id, sim);
      units.set(id, image);
    }
    const port = Number((await server.listenTcp('127.0.0.1', 0)).split(':')[1]);
    bus = new ModbusBus('t', new TcpTransport('127.0.0.1', port), {
      timeoutMs: 500,
      retries: 0,
      retryBackoffMs: 10,
      reconnectMs: 100,
    });
    for (const [id, profile] of unitsOf)
      drivers.set(
        id,
        new ModbusBarrierDriver(`b${id}`, bus, id, loadProfile(profile), ctx, {
          backoffMs: 1000,
          backoffMaxMs: 8000,
        }),
      );
  });
  afterAll(async () => {
    await bus.close();
    await server.close();
  });

  /** Arms open fast and close slowly: there is time to watch them come down. */
  const armUp = async (id: number) => {
    sims.get(id)!.command('open');
    await sleep(150);
  };

  it('supervision reads go ahead of urgent requests and routine polls', async () => {
    const order: string[] = [];
    const req = (unit: number, priority: 'supervise' | 'urgent' | 'routine') =>
      bus.request(unit, readRequest(3, 0, 1), { priority }).then(() => order.push(`${unit}${priority[0]}`));
    await Promise.all([req(1, 'routine'), req(2, 'routine'), req(1, 'urgent'), req(2, 'supervise')]);
    // The first poll was already on the wire; then supervision, then urgent, then the rest.
    expect(order).toEqual(['1r', '2s', '1u', '2r']);
  });

  it('a supervision loop keeps the line: no poll slips between two of its reads', async () => {
    const seen: TransactionRecord[] = [];
    bus.onTransaction = (t) => seen.push(t);
    const polls = Array.from({ length: 6 }, () => bus.request(2, readRequest(3, 0, 13)));
    for (let i = 0; i < 10; i++) await drivers.get(1)!.sense();
    await Promise.all(polls);
    bus.onTransaction = undefined;
    const order = seen.map((t) => (t.priority === 'supervise' ? 's' : 'r')).join('');
    // At most the poll already on the wire comes first; then the ten supervision reads in a row.
    expect(order).toMatch(/^r?s{10}r+$/);
  });

  it('an exclusive group holds the line from its read to its write', async () => {
    const seen: TransactionRecord[] = [];
    bus.onTransaction = (t) => seen.push(t);
    const polls = [2, 2, 2].map((u) => bus.request(u, readRequest(3, 0, 13)));
    const group = bus.exclusive(1, async (request) => {
      await request(readRequest(3, 0, 3));
      await sleep(5); // other requests are waiting meanwhile
      await request(readRequest(3, 1, 1));
    });
    await Promise.all([...polls, group]);
    bus.onTransaction = undefined;
    const units1 = seen.map((t) => t.unit);
    const first = units1.indexOf(1);
    expect(units1.slice(first, first + 2)).toEqual([1, 1]);
  });

  it('the guard sees the lane just before the write, and a refusal writes nothing', async () => {
    await armUp(1);
    const drv = drivers.get(1)!;
    const unit = units.get(1)!;
    sims.get(1)!.arrive('in');
    await sleep(30);
    const received = unit.counts.received;
    let sensed: BarrierFields | undefined;
    const refusal = new Error('lane occupied');
    await expect(
      drv.execute(
        { action: 'close' },
        {
          guard: (s) => {
            sensed = s;
            if (s.loop_occupied) throw refusal;
          },
        },
      ),
    ).rejects.toBe(refusal);
    expect(sensed).toMatchObject({ loop_occupied: true, arm_state: 'open' });
    expect(unit.counts.received).toBe(received);
  });

  it('a close the guard allows is written in the same turn, and the simulator saw the lane read clear', async () => {
    const sim = sims.get(2)!;
    await armUp(2);
    let written = false;
    await drivers
      .get(2)!
      .execute({ action: 'close' }, { guard: () => undefined, onWritten: () => (written = true) });
    expect(written).toBe(true);
    const rec = units.get(2)!.closes.at(-1)!;
    expect(rec).toMatchObject({ accepted: true, readLoop: false, readEye: false, race: false });
    expect(rec.windowMs).toBeLessThan(50);
    expect(units.get(2)!.counts.closesAfterReadingOccupied).toBe(0);
    expect(sim.state).toBe('closing');
  });

  it('the simulator catches a master that writes a close after reading the lane occupied', async () => {
    await armUp(2);
    const sim = sims.get(2)!;
    sim.opts.blind = true;
    sim.arrive('in');
    await sleep(30); // on the loop by the next step of the physics
    await bus.request(2, readRequest(3, 0, 4)); // reads loop occupied…
    await bus.request(2, writeMultipleRegisters(100, [2, 4242])); // …and closes anyway
    expect(units.get(2)!.counts.closesAfterReadingOccupied).toBe(1);
    sim.opts.blind = false;
  });

  it('a blind controller closes on a vehicle under the arm and counts the impact; the reversal brings it up', async () => {
    const sim = new BarrierSim({
      openMs: 100,
      closeMs: 100,
      seed: 9,
      traffic: 'off',
      ratePerMin: 0,
      blind: true,
      impactAngleDeg: 30,
    });
    const t0 = Date.now();
    sim.command('open', t0);
    sim.tick(t0 + 200);
    sim.arrive('in', false, t0 + 200);
    sim.tick(t0 + 220); // the car drives under the open arm
    expect(sim.underArm).toBe(true);
    expect(sim.command('close', t0 + 220)).toBe(true);
    sim.tick(t0 + 400);
    expect(sim.impacts).toBe(1);
    const safe = new BarrierSim({ openMs: 100, closeMs: 100, seed: 9, traffic: 'off', ratePerMin: 0 });
    safe.command('open', t0);
    safe.tick(t0 + 200);
    safe.arrive('in', false, t0 + 200);
    safe.tick(t0 + 220);
    expect(safe.command('close', t0 + 220)).toBe(false);
  });

  it('reverse sends open (northgate) or stop then open (pulsar), ahead of everything else', async () => {
    for (const id of [5, 3]) {
      const sim = sims.get(id)!;
      await armUp(id);
      await drivers.get(id)!.execute({ action: 'close' });
      await sleep(300);
      expect(sim.state).toBe('closing');
      let acked = false;
      await drivers.get(id)!.reverse({ onWritten: () => (acked = true) });
      expect(acked).toBe(true);
      expect(['opening', 'open']).toContain(sim.state);
      const log = units
        .get(id)!
        .log.slice(-2)
        .map((l) => l.action);
      expect(log).toEqual(id === 5 ? ['close', 'open'] : ['stop', 'open']);
      const rec = units.get(id)!.closes.at(-1)!;
      expect(rec.reversalAngleDeg).toBeGreaterThan(30);
    }
  });

  it('a profile with a conditional close gets it instead of a plain close, and the controller checks its lane', async () => {
    const sim = sims.get(4)!;
    await armUp(4);
    sim.opts.blind = true; // no safety of its own, but "close if clear" still looks
    sim.arrive('in');
    await sleep(30); // on the loop by the next step of the physics
    await expect(drivers.get(4)!.execute({ action: 'close' })).rejects.toMatchObject({ kind: 'rejected' });
    expect(units.get(4)!.closes.at(-1)).toMatchObject({ conditional: true, accepted: false });
    expect(sim.state).toBe('open');
    await armUp(6);
    const r = await drivers.get(6)!.execute({ action: 'close' });
    expect(r).toMatchObject({ action: 'close', conditional: true });
    expect(sims.get(6)!.state).toBe('closing');
  });

  it('sense reads only the arm and the lane, in as few requests as the profile allows', async () => {
    const seen: TransactionRecord[] = [];
    bus.onTransaction = (t) => seen.push(t);
    const s1 = await drivers.get(1)!.sense();
    const s3 = await drivers.get(3)!.sense();
    bus.onTransaction = undefined;
    for (const s of [s1, s3])
      expect(Object.keys(s).sort()).toEqual(
        ['arm_angle_deg', 'arm_state', 'fault_code', 'loop_occupied', 'photo_eye_blocked'].sort(),
      );
    expect(seen.map((t) => [t.unit, t.priority])).toEqual([
      [1, 'supervise'],
      [3, 'supervise'],
      [3, 'supervise'],
    ]);
  });
});
