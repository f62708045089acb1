import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusBus } from '../../drivers/modbus/bus.ts';
import { readRequest } from '../../drivers/modbus/codec.ts';
import { loadProfile } from '../../drivers/modbus/profile.ts';
import { TcpTransport } from '../../drivers/modbus/transport.ts';
import { BarrierSim } from '../../device-sims/barrier/barrier.ts';
import { UnitImage } from '../../device-sims/barrier/image.ts';
import { SimServer } from '../../device-sims/barrier/server.ts';

// The simulator's server runs in-process here (real loopback TCP) so the test can see
// the exact order in which the bus put requests on the wire.
describe('bus scheduling', () => {
  const server = new SimServer({ latencyMs: 3 });
  let bus: ModbusBus;
  beforeAll(async () => {
    const profile = loadProfile('northgate-hr');
    for (const id of [1, 2, 3]) {
      const sim = new BarrierSim({ openMs: 1000, closeMs: 1000, seed: id, traffic: 'off', ratePerMin: 0 });
      server.units.set(id, new UnitImage(id, profile, sim));
    }
    const port = Number((await server.listenTcp('127.0.0.1', 0)).split(':')[1]);
    bus = new ModbusBus('t', new TcpTransport('127.0.0.1', port), {
      timeoutMs: 500,
      retries: 0,
      retryBackoffMs: 10,
      reconnectMs: 100,
    });
  });
  afterAll(async () => {
    await bus.close();
    await server.close();
  });

  it('serves urgent requests first and polls units round-robin', async () => {
    const order: string[] = [];
    const req = (unit: number, urgent = false) =>
      bus
        .request(unit, readRequest(3, 0, 1), { urgent })
        .then(() => order.push(`${unit}${urgent ? '!' : ''}`));
    const all = [req(1), req(1), req(1), req(1), req(2), req(3), req(2, true)];
    await Promise.all(all);
    // The first poll was already on the wire; then the urgent one; then units take turns.
    expect(order).toEqual(['1', '2!', '2', '3', '1', '1', '1']);
  });

  it('one transaction at a time: the wire never carries two', async () => {
    const spans: [number, number][] = [];
    bus.onTransaction = (t) => spans.push([t.writtenAt, t.answeredAt]);
    await Promise.all(Array.from({ length: 30 }, (_, i) => bus.request((i % 3) + 1, readRequest(3, 0, 13))));
    expect(spans).toHaveLength(30);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(bus.queueDepth).toBe(0);
  });

  it('a write answered with an exception rejects with the mapped reason and is not retried', async () => {
    await expect(bus.request(1, readRequest(3, 500, 1))).rejects.toMatchObject({ reason: 'illegal-address' });
    await expect(bus.request(1, Buffer.from([0x2b, 0x0e, 1, 0]))).rejects.toMatchObject({
      reason: 'illegal-function',
    });
  });
});
