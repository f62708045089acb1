import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayViewSchema } from '../../gateway/api/routes/gateway.ts';
import { LIVE_EVENTS, type LiveEventName } from '../../gateway/api/live/frames.ts';
import { eventually, freePort, startTs, stopAll } from '../helpers/procs.ts';
import {
  deviceWhen,
  simControl,
  startBarrierSim,
  startGateway,
  TEST_TOKEN,
  type GatewayProc,
} from '../helpers/gateway.ts';

// The crew's API against a real gateway process, a barrier simulator and a camera
// simulator: who am I, the gateway strip, cached snapshots, and the live event stream.

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));

const READER = 'crew-reader-token-0123456789';
const PLATFORM = 'crew-lead-token-0123456789';

interface Frame {
  event: LiveEventName;
  data: Record<string, unknown>;
}

/** An open stream, its frames as they come. */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers, signal: ctrl.signal });
  const frames: Frame[] = [];
  if (res.ok) {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += decoder.decode(value, { stream: true });
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1] as LiveEventName | undefined;
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) frames.push({ event, data: JSON.parse(data) as Record<string, unknown> });
          }
        }
      } catch {
        // aborted
      }
    })();
  }
  const next = (what: string, holds: (f: Frame) => boolean, timeoutMs = 15_000) =>
    eventually(() => frames.find(holds), { what, timeoutMs });
  return { res, frames, next, close: () => ctrl.abort() };
}

describe('live API for the crew', () => {
  let gw: GatewayProc;
  let barrier: Awaited<ReturnType<typeof startBarrierSim>>;
  let camControl: string;

  const get = (p: string, token = TEST_TOKEN, headers: Record<string, string> = {}) =>
    fetch(gw.api + p, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const served = async () =>
    ((await simControl(camControl, '/state')) as { snapshotsServed: number }).snapshotsServed;

  beforeAll(async () => {
    barrier = await startBarrierSim(['--open-ms', '300', '--close-ms', '300', '--traffic', 'off']);
    const [http, control] = [await freePort(), await freePort()];
    camControl = `http://127.0.0.1:${control}`;
    const cam = startTs('device-sims/main.ts', [
      'probe',
      '--http',
      `127.0.0.1:${http}`,
      '--control',
      `127.0.0.1:${control}`,
      '--user',
      'admin',
      '--password',
      'pw',
      '--no-discovery',
    ]);
    await cam.waitFor(/listening/, 30_000);
    const yaml = `village: nightshift
site: north-lot
api:
  tokens:
    - { name: admin, role: admin, token: { env: GATEHOUSE_API_TOKEN } }
    - { name: crew-lead, role: platform, token: { env: GH_TEST_PLATFORM } }
    - { name: crew, role: reader, token: { env: GH_TEST_READER } }
buses:
  - { id: tcp-1, type: tcp, host: 127.0.0.1, port: ${barrier.modbus}, timeoutMs: 300 }
devices:
  - { id: barrier-1, kind: barrier, driver: modbus, bus: tcp-1, unit: 1, profile: northgate-hr, lane: lane-1, pollMs: 300 }
  - id: cam-1
    kind: probe
    driver: onvif
    url: http://127.0.0.1:${http}/onvif/device_service
    username: admin
    password: { env: GH_TEST_CAM_PW }
    lane: lane-1
    pollMs: 1000
`;
    gw = await startGateway(yaml, {
      env: { GH_TEST_CAM_PW: 'pw', GH_TEST_PLATFORM: PLATFORM, GH_TEST_READER: READER },
    });
    await deviceWhen(gw, 'cam-1', (d) => d.fields.snapshot_luma !== undefined, 'a first snapshot', 30_000);
    await deviceWhen(gw, 'barrier-1', (d) => d.health.status === 'online', 'barrier online');
  }, 90_000);
  afterAll(stopAll);

  it('tells a token who it is, and refuses no token', async () => {
    expect(await (await get('/api/v1/whoami', READER)).json()).toEqual({ name: 'crew', role: 'reader' });
    expect(await (await get('/api/v1/whoami', PLATFORM)).json()).toEqual({
      name: 'crew-lead',
      role: 'platform',
    });
    expect((await fetch(`${gw.api}/api/v1/whoami`)).status).toBe(401);
  });

  it("shows the gateway's own health: storage spooling without InfluxDB, disk, broker", async () => {
    const res = await get('/api/v1/gateway', READER);
    expect(res.status).toBe(200);
    const g = (await res.json()) as { storage: { status: string }[]; disk?: { freeBytes: number } };
    expect(Value.Errors(GatewayViewSchema, g).First()).toBeUndefined();
    expect(g.storage.map((s) => s.status)).toEqual(['spooling']); // no influx URL in this config
    expect(g.disk!.freeBytes).toBeGreaterThan(0);
  });

  it('serves snapshots from its cache: a dozen phones cost the camera nothing, 304 while the same', async () => {
    const before = await served();
    const answers = await Promise.all(Array.from({ length: 12 }, () => get('/api/v1/probes/cam-1/snapshot')));
    const after = await served();
    // One poll may fall in between; the twelve requests themselves reach no camera.
    expect(after - before).toBeLessThanOrEqual(1);
    for (const r of answers) {
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/jpeg');
      expect(r.headers.get('etag')).toMatch(/^"[\w-]+"$/);
      expect(r.headers.get('cache-control')).toMatch(/^private, max-age=[01]$/); // polled every second
    }
    const etag = answers[0]!.headers.get('etag')!;
    const again = await get('/api/v1/probes/cam-1/snapshot', TEST_TOKEN, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
  });

  it('streams hello, then live health, commands to their end and new pictures, each frame as documented', async () => {
    const s = await openStream(`${gw.api}/api/v1/events/stream`, { authorization: `Bearer ${PLATFORM}` });
    try {
      expect(s.res.status).toBe(200);
      expect(s.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const hello = await s.next('hello', (f) => f.event === 'hello');
      expect((hello.data.devices as { id: string }[]).map((d) => d.id).sort()).toEqual([
        'barrier-1',
        'cam-1',
      ]);

      await simControl(barrier.control, '/fault', { unit: 1, fault: 'motor-overcurrent', active: true });
      await s.next(
        'the fault as health',
        (f) => f.event === 'health' && (f.data.health as { reason?: string }).reason === 'barrier-fault:1',
      );
      await simControl(barrier.control, '/fault', { unit: 1, fault: 'motor-overcurrent', active: false });
      const reset = await gw.post('/api/v1/barriers/barrier-1/commands?waitMs=5000', {
        requestId: 'live-reset-1',
        action: 'reset-fault',
        reason: 'test',
      });
      expect(reset.body.state).toBe('confirmed');

      const sent = await fetch(`${gw.api}/api/v1/barriers/barrier-1/commands`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PLATFORM}`, 'content-type': 'application/json' },
        body: JSON.stringify({ requestId: 'live-open-1', action: 'open', reason: 'test' }),
      });
      expect(sent.status).toBe(202);
      const done = await s.next(
        'the open confirmed',
        (f) => f.event === 'command' && f.data.requestId === 'live-open-1' && f.data.state === 'confirmed',
      );
      const steps = s.frames
        .filter((f) => f.event === 'command' && f.data.requestId === 'live-open-1')
        .map((f) => f.data.state);
      expect(steps).toEqual(['accepted', 'executing', 'confirmed']);
      expect(done.data.actor).toBe('api:crew-lead');
      await s.next(
        'the arm open in state',
        (f) => f.event === 'state' && (f.data.fields as { arm_state?: string }).arm_state === 'open',
      );

      // Night falls: the picture changes, and the stream says so with the new tag.
      await simControl(camControl, '/clock', { mode: 'night' });
      const shot = await s.next('a new picture', (f) => f.event === 'snapshot' && f.data.device === 'cam-1');
      expect(shot.data.etag).toMatch(/^"[\w-]+"$/);
      // What the route serves is a picture the stream announced (its event may still be on the way).
      const pic = await get('/api/v1/probes/cam-1/snapshot');
      expect(pic.status).toBe(200);
      const tag = pic.headers.get('etag');
      await s.next('the served picture announced', (f) => f.event === 'snapshot' && f.data.etag === tag);
      await s.next('a heartbeat', (f) => f.event === 'gateway', 10_000);
      for (const f of s.frames)
        expect(Value.Errors(LIVE_EVENTS[f.event], f.data).First(), f.event).toBeUndefined();
    } finally {
      s.close();
    }
  });

  it('takes the token as ?token= for EventSource, and refuses a wrong one', async () => {
    const ok = await openStream(`${gw.api}/api/v1/events/stream?token=${READER}`);
    try {
      expect(ok.res.status).toBe(200);
      await ok.next('hello', (f) => f.event === 'hello');
    } finally {
      ok.close();
    }
    const bad = await openStream(`${gw.api}/api/v1/events/stream?token=not-a-token-at-all`);
    expect(bad.res.status).toBe(401);
    expect(((await bad.res.json()) as { code: string }).code).toBe('GH_API_UNAUTHORIZED');
  });
});
