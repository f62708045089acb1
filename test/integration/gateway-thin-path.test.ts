import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, stopAll } from '../helpers/procs.ts';
import {
  barrierYaml,
  startBarrierSim,
  startGateway,
  TEST_TOKEN,
  type GatewayProc,
} from '../helpers/gateway.ts';

type Device = { health: { status: string; reason?: string }; fields: Record<string, unknown> };

describe('thin path: barrier simulator → gateway → API', () => {
  let sim: Awaited<ReturnType<typeof startBarrierSim>>;
  let gw: GatewayProc;

  beforeAll(async () => {
    sim = await startBarrierSim(['--open-ms', '300', '--close-ms', '300']);
    gw = await startGateway(barrierYaml(sim.modbus));
  });
  afterAll(stopAll);

  const device = async () => (await gw.get('/api/v1/devices/barrier-1')).body as unknown as Device;

  it('shows the simulated barrier online with canonical state', async () => {
    const d = await eventually(
      async () => {
        const d = await device();
        return d.health.status === 'online' && d.fields.arm_state ? d : undefined;
      },
      { what: 'barrier-1 online' },
    );
    expect(d.fields.arm_state).toBe('closed');
    expect(typeof d.fields.supply_v).toBe('number');
    const list = await gw.get('/api/v1/devices');
    expect((list.body.devices as { id: string }[]).map((x) => x.id)).toEqual(['barrier-1']);
  });

  it('answers liveness and readiness, and refuses the API without a token', async () => {
    expect((await fetch(`${gw.api}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.api}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks['sink:influx']).toBe(
      'spooling',
    );
    const anon = await fetch(`${gw.api}/api/v1/devices`);
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { code: string }).code).toBe('GH_API_UNAUTHORIZED');
    const wrong = await fetch(`${gw.api}/api/v1/devices`, {
      headers: { authorization: `Bearer x${TEST_TOKEN}` },
    });
    expect(wrong.status).toBe(401);
  });

  it('404s an unknown device with a message', async () => {
    const r = await gw.get('/api/v1/devices/nope');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ code: 'GH_DEVICE_NOT_FOUND', message: 'no device with id "nope"' });
  });

  it('marks the barrier offline with a reason when its simulator dies, and online when it returns', async () => {
    const ports = sim.ports;
    sim.proc.child.kill('SIGKILL');
    await sim.proc.exited;
    const down = await eventually(
      async () => {
        const d = await device();
        return d.health.status === 'offline' ? d : undefined;
      },
      { what: 'barrier-1 offline' },
    );
    expect(['timeout', 'connection-refused']).toContain(down.health.reason);

    sim = await startBarrierSim(['--open-ms', '300', '--close-ms', '300'], ports);
    const up = await eventually(
      async () => {
        const d = await device();
        return d.health.status === 'online' ? d : undefined;
      },
      { what: 'barrier-1 back online', timeoutMs: 20_000 },
    );
    expect(up.health.reason).toBeUndefined();
    const events = (up as unknown as { recentEvents: { type: string; detail: string }[] }).recentEvents;
    expect(events.some((e) => e.type === 'health' && /→ online/.test(e.detail))).toBe(true);
  });

  it('serves MQTT over WebSocket on the API port, with the same authentication', async () => {
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${new URL(gw.api).port}/mqtt`, {
      username: 'admin',
      password: 'admin-pass',
      reconnectPeriod: 0,
    });
    try {
      const got = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(p.toString())));
      await client.subscribeAsync('gatehouse/v1/testville/barrier-1/availability');
      expect(await got).toBe('online');
    } finally {
      await client.endAsync();
    }
    await expect(
      mqtt.connectAsync(`ws://127.0.0.1:${new URL(gw.api).port}/mqtt`, {
        username: 'admin',
        password: 'wrong',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Bad username or password|Not authorized/i);
  });

  it('shuts down cleanly on SIGTERM with exit code 0', async () => {
    gw.proc.child.kill('SIGTERM');
    const { code } = await gw.proc.exited;
    expect(code).toBe(0);
    expect(gw.proc.output()).toMatch(/stopped cleanly/);
    // Secrets given to it never reached its log.
    expect(gw.proc.output()).not.toContain(TEST_TOKEN);
    expect(gw.proc.output()).not.toContain('admin-pass');
  });
});
