import { afterAll, expect, it } from 'vitest';
import { eventually, stopAll } from '../helpers/procs.ts';
import { barrierYaml, deviceWhen, startBarrierSim, startGateway } from '../helpers/gateway.ts';

// A timed hold ends with the gateway's own release; a barrier removed by commissioning
// while held has nothing left to release, and the gateway says so instead of failing.
afterAll(stopAll);

it('a hold on a barrier removed meanwhile ends without a failed release', async () => {
  const sim = await startBarrierSim(['--open-ms', '200', '--close-ms', '200', '--traffic', 'off']);
  const gw = await startGateway(barrierYaml(sim.modbus));
  await deviceWhen(gw, 'barrier-1', (d) => d.health.status === 'online', 'online');

  const hold = await gw.post('/api/v1/barriers/barrier-1/commands?waitMs=5000', {
    requestId: 'event-hold-1',
    action: 'hold-open',
    holdSeconds: 2,
    reason: 'market day',
  });
  expect(hold.status, JSON.stringify(hold.body)).toBe(200);
  expect(hold.body.state).toBe('confirmed');
  const removed = await gw.request('DELETE', '/api/v1/commissioning/devices/barrier-1');
  expect(removed.status, JSON.stringify(removed.body)).toBe(200);

  await eventually(
    async () => /ended after the device was removed: no release sent/.test(gw.proc.output()) || undefined,
    { what: 'the hold to end', timeoutMs: 10_000 },
  );
  expect(gw.proc.output()).not.toMatch(/timed release failed/);
});
