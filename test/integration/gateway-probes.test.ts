import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTs, eventually, stopAll } from '../helpers/procs.ts';
import {
  barrierYaml,
  deviceWhen,
  startBarrierSim,
  simControl,
  startGateway,
  TEST_TOKEN,
  type DeviceView,
  type GatewayProc,
} from '../helpers/gateway.ts';

describe('probes through the gateway: IR mode, snapshots, passage evidence', () => {
  let gw: GatewayProc;
  let sim: Awaited<ReturnType<typeof startBarrierSim>>;

  beforeAll(async () => {
    sim = await startBarrierSim(['--open-ms', '200', '--close-ms', '200', '--traffic', 'off']);
    const http = await freePort();
    const probe = startTs('device-sims/main.ts', [
      'probe',
      '--http',
      `127.0.0.1:${http}`,
      '--user',
      'admin',
      '--password',
      'pw',
      '--no-discovery',
    ]);
    await probe.waitFor(/listening/, 30_000);
    const yaml = barrierYaml(
      sim.modbus,
      `  - id: cam-1
    kind: probe
    driver: onvif
    url: http://127.0.0.1:${http}/onvif/device_service
    username: admin
    password: { env: GH_TEST_CAM_PW }
    site: north-lot
    lane: lane-1
    pollMs: 2000
evidence: { maxFiles: 2 }
`,
    );
    gw = await startGateway(yaml, { env: { GH_TEST_CAM_PW: 'pw' } });
    await eventually(
      async () => {
        const r = (await gw.get('/api/v1/devices')).body as { devices: { health: { status: string } }[] };
        return r.devices.every((d) => d.health.status === 'online');
      },
      { what: 'barrier and probe online', timeoutMs: 30_000 },
    );
  });
  afterAll(stopAll);

  it('sets the IR mode and answers with what the camera reads back, audited', async () => {
    const r = await fetch(`${gw.api}/api/v1/probes/cam-1/ir-mode`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'on', reason: 'dark lane' }),
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { mode: string; command: { state: string; actor: string } };
    expect(body.mode).toBe('on');
    expect(body.command).toMatchObject({ state: 'confirmed', actor: 'api:admin' });
    const bad = await fetch(`${gw.api}/api/v1/probes/cam-1/ir-mode`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'bright', reason: 'x' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toBe(
      'body.mode must be one of on, off, auto',
    );
  });

  it('returns a snapshot taken on demand', async () => {
    const r = await fetch(`${gw.api}/api/v1/probes/cam-1/snapshot`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/jpeg');
    expect(Number(r.headers.get('x-luma'))).toBeGreaterThan(50); // daylight scene
    const jpeg = Buffer.from(await r.arrayBuffer());
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    const notProbe = await fetch(`${gw.api}/api/v1/probes/barrier-1/snapshot`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(notProbe.status).toBe(422);
  });

  it('keeps a snapshot per passage, referenced from the event, oldest removed first', async () => {
    const held = await gw.post('/api/v1/barriers/barrier-1/commands?waitMs=5000', {
      requestId: 'hold-1',
      action: 'hold-open',
      reason: 'market day',
    });
    expect(held.body.state).toBe('confirmed');
    for (let i = 0; i < 3; i++) await simControl(sim.control, '/traffic', { unit: 1, arrive: 'in' });
    const passagesOf = (d: DeviceView) => d.recentEvents.filter((e) => e.type === 'passage-in');
    const events = passagesOf(
      await deviceWhen(gw, 'barrier-1', (d) => passagesOf(d).length >= 3, 'three passages', 30_000),
    );
    const dir = path.join(gw.dataDir, 'evidence');
    for (const e of events)
      expect(e.data).toMatchObject({
        probe: 'cam-1',
        snapshot: expect.stringMatching(/_barrier-1_cam-1\.jpg$/),
      });
    const files = readdirSync(dir).sort();
    expect(files.length).toBe(2); // bounded: maxFiles 2
    const names = events.map((e) => String(e.data!.snapshot)).sort();
    expect(files).toEqual(names.slice(-2));
    expect(existsSync(path.join(dir, names[0]!))).toBe(false);
  });
});
