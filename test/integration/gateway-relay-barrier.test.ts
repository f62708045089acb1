import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTs, stopAll } from '../helpers/procs.ts';
import {
  barrierYaml,
  deviceWhen,
  simControl,
  startBarrierSim,
  startGateway,
  type GatewayProc,
} from '../helpers/gateway.ts';

type Rec = { state: string; failure?: string; id: string };

/**
 * A side gate whose arm is driven by a camera's relay output: commanded through the
 * same command service as any barrier (interlocks, idempotency, audit), guarded by the
 * loop of the Modbus controller in the same lane, confirmed from the relay's state.
 */
describe('a barrier on a probe’s relay output', () => {
  let gw: GatewayProc;
  let sim: Awaited<ReturnType<typeof startBarrierSim>>;
  let probeControl: string;

  beforeAll(async () => {
    sim = await startBarrierSim(['--open-ms', '200', '--close-ms', '200', '--traffic', 'off']);
    const [http, control] = [await freePort(), await freePort()];
    probeControl = `http://127.0.0.1:${control}`;
    const probe = startTs('device-sims/main.ts', [
      'probe',
      '--http',
      `127.0.0.1:${http}`,
      '--control',
      `127.0.0.1:${control}`,
      '--user',
      'gate',
      '--password',
      'pw',
      '--no-discovery',
    ]);
    await probe.waitFor(/listening/, 30_000);
    gw = await startGateway(
      barrierYaml(
        sim.modbus,
        `  - id: side-gate
    kind: barrier
    driver: onvif-relay
    url: http://127.0.0.1:${http}/onvif/device_service
    username: gate
    password: { env: GH_TEST_RELAY_PW }
    relay: { token: RelayOutput_0, mode: bistable }
    site: north-lot
    lane: lane-1
    pollMs: 1000
`,
      ),
      { env: { GH_TEST_RELAY_PW: 'pw' } },
    );
    await deviceWhen(gw, 'side-gate', (d) => d.health.status === 'online', 'online', 30_000);
  });
  afterAll(stopAll);

  const command = async (body: Record<string, unknown>) =>
    (await gw.post('/api/v1/barriers/side-gate/commands?waitMs=5000', body)).body as unknown as Rec;
  const relay = async () =>
    ((await simControl(probeControl, '/state')) as { relay?: { logicalState?: string } }).relay?.logicalState;

  it('opens by energising the relay, confirmed from the relay state', async () => {
    const r = await command({ requestId: 'side-1', action: 'open', reason: 'delivery' });
    expect(r.state).toBe('confirmed');
    expect(await relay()).toBe('active');
    const again = await command({ requestId: 'side-1', action: 'open', reason: 'retry' });
    expect(again.id).toBe(r.id);
  });

  it('will not close while the lane’s loop (on the Modbus controller) is occupied', async () => {
    await simControl(sim.control, '/traffic', { unit: 1, arrive: 'in' });
    await deviceWhen(gw, 'barrier-1', (d) => d.fields.loop_occupied === true, 'loop occupied');
    const r = await command({ requestId: 'side-2', action: 'close', reason: 'end of delivery' });
    expect(r).toMatchObject({ state: 'failed', failure: 'interlock:loop-occupied' });
    expect(await relay()).toBe('active');
  });

  it('closes once the lane is clear', async () => {
    // Let the waiting car through the Modbus barrier so the loop clears.
    const open = await gw.post('/api/v1/barriers/barrier-1/commands?waitMs=5000', {
      requestId: 'main-1',
      action: 'open',
      reason: 'paid',
    });
    expect(open.body.state).toBe('confirmed');
    await deviceWhen(
      gw,
      'barrier-1',
      (d) => d.fields.loop_occupied === false && d.fields.photo_eye_blocked === false,
      'lane clear',
    );
    const r = await command({ requestId: 'side-3', action: 'close', reason: 'end of delivery' });
    expect(r.state).toBe('confirmed');
    expect(await relay()).toBe('inactive');
  });

  it('an open whose answer the camera loses is confirmed from the relay read back, not failed', async () => {
    await simControl(probeControl, '/fault', { fault: 'lost-write-answer', active: true });
    try {
      // The camera's answer never comes: the gateway gives up after the probe's timeout (3 s).
      const res = await gw.post('/api/v1/barriers/side-gate/commands?waitMs=15000', {
        requestId: 'side-4',
        action: 'open',
        reason: 'delivery',
      });
      const r = res.body as { state: string; history: { state: string; detail?: string }[] };
      expect(r.state, JSON.stringify(r)).toBe('confirmed');
      expect(r.history.map((h) => h.state)).toEqual(['accepted', 'executing', 'confirmed']);
      expect(r.history.at(-1)!.detail).toMatch(/the write was not answered \(.*\), the state was read back/);
      expect(await relay()).toBe('active');
    } finally {
      await simControl(probeControl, '/fault', { fault: 'lost-write-answer', active: false });
    }
  }, 30_000);
});
