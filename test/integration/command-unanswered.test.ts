import { afterAll, beforeAll, expect, it } from 'vitest';
import { stopAll } from '../helpers/procs.ts';
import { barrierYaml, deviceWhen, simControl, startBarrierSim, startGateway } from '../helpers/gateway.ts';

// A controller that carries a write out but whose answer is lost (a noisy line, a busy
// controller answering after the timeout): the gateway must neither send the command a
// second time (a pulse register would actuate twice) nor report "failed" for an arm that
// moved. The write is recorded as executed and the state read back decides.

type Counts = { received: number; accepted: number };
let sim: Awaited<ReturnType<typeof startBarrierSim>>;
let gw: Awaited<ReturnType<typeof startGateway>>;

beforeAll(async () => {
  sim = await startBarrierSim(['--open-ms', '200', '--close-ms', '200', '--traffic', 'off']);
  gw = await startGateway(barrierYaml(sim.modbus));
  await deviceWhen(gw, 'barrier-1', (d) => d.health.status === 'online', 'online');
});
afterAll(stopAll);

const received = async () =>
  ((await simControl(sim.control, '/state')) as { units: Record<string, { counts: Counts }> }).units['1']!
    .counts.received;

it.each(['open', 'close'] as const)(
  '%s whose answer is lost: written once, confirmed by reading back',
  async (action) => {
    const before = await received();
    await simControl(sim.control, '/fault', { unit: 1, fault: 'lost-write-answer', active: true });
    const res = await gw.post('/api/v1/barriers/barrier-1/commands?waitMs=8000', {
      requestId: `lost-answer-${action}`,
      action,
      reason: 'noisy line',
    });
    await simControl(sim.control, '/fault', { unit: 1, fault: 'lost-write-answer', active: false });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const rec = res.body as { state: string; detail?: string; history: { state: string; detail?: string }[] };
    expect(rec.state, JSON.stringify(rec)).toBe('confirmed');
    expect(rec.history.map((h) => h.state)).toContain('executing');
    // The crew reads why the confirmation came from reading back.
    expect(JSON.stringify(rec.history.at(-1))).toMatch(
      /write was not answered \(.*no answer from unit 1.*\), the state was read back/,
    );
    expect(await received()).toBe(before + 1);
  },
);

it('a controller answering nothing at all: the command fails with the timeout as its reason', async () => {
  await simControl(sim.control, '/fault', { unit: 1, fault: 'power-loss', active: true });
  const res = await gw.post('/api/v1/barriers/barrier-1/commands?waitMs=8000', {
    requestId: 'powered-off-open',
    action: 'open',
    reason: 'controller off',
  });
  await simControl(sim.control, '/fault', { unit: 1, fault: 'power-loss', active: false });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const rec = res.body as { state: string; failure?: string };
  expect(rec.state).toBe('failed');
  expect(rec.failure).toBe('device-error:timeout');
});
