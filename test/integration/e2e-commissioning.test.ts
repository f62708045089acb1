import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eventually, freePort, startTs, stopAll, type Proc } from '../helpers/procs.ts';
import { startGateway, type GatewayProc } from '../helpers/gateway.ts';

// An installer on site: a gateway that knows only its village name, one real probe
// simulator process, and the commissioning API: discover → test → save → polled.

const PASSWORD = 'pw-commissioning';

interface Job {
  id: string;
  state: 'running' | 'done' | 'failed';
  progress: { done: number; total: number; found: number };
  result?: { address: string; xaddrs: string[]; auth: string; serial?: string; manufacturer?: string }[];
  error?: string;
}

describe('commissioning a camera on a bare gateway', () => {
  let gw: GatewayProc;
  let probe: Proc;
  let discoveryPort: number;
  let url: string;
  const camera = () => ({
    id: 'cam-1',
    kind: 'probe',
    driver: 'onvif',
    url,
    username: 'admin',
    password: PASSWORD,
    lane: 'lane-1',
  });

  beforeAll(async () => {
    const http = await freePort();
    url = `http://127.0.0.1:${http}/onvif/device_service`;
    probe = startTs('device-sims/main.ts', [
      'probe',
      '--http',
      `127.0.0.1:${http}`,
      // 0: the simulator picks a free UDP port and prints it; multicast stays on 127.0.0.1.
      '--discovery-port',
      '0',
      '--user',
      'admin',
      '--password',
      PASSWORD,
      '--serial',
      'COMM-0001',
    ]);
    const [line, started] = await Promise.all([
      probe.waitFor(/probe-sim listening/, 30_000),
      startGateway('village: commtest\n'),
    ]);
    gw = started;
    discoveryPort = Number(line.match(/discovery=(\d+)/)![1]);
    expect(discoveryPort).toBeGreaterThan(0);
  }, 90_000);
  afterAll(stopAll);

  it('starts with no devices, API and readiness up', async () => {
    const { status, body } = await gw.get('/api/v1/devices');
    expect(status).toBe(200);
    expect(body).toEqual({ village: 'commtest', devices: [] });
    expect((await fetch(`${gw.api}/readyz`)).status).toBe(200);
  });

  it('finds the camera by a unicast WS-Discovery scan, as a job with progress, and logs in to it', async () => {
    const start = await gw.post('/api/v1/commissioning/discover', {
      hosts: ['127.0.0.1'],
      port: discoveryPort,
      username: 'admin',
      password: PASSWORD,
      timeoutMs: 2000,
    });
    expect(start.status).toBe(202);
    const id = (start.body as unknown as Job).id;
    expect(id).toMatch(/^job-/);
    const job = await eventually(
      async () => {
        const j = (await gw.get(`/api/v1/commissioning/jobs/${id}`)).body as unknown as Job;
        return j.state !== 'running' ? j : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'discovery job done' },
    );
    expect(job.error).toBeUndefined();
    expect(job.state).toBe('done');
    expect(job.progress).toEqual({ done: 1, total: 1, found: 1 });
    expect(job.result).toHaveLength(1);
    expect(job.result![0]).toMatchObject({ address: '127.0.0.1', auth: 'ok', serial: 'COMM-0001' });
    expect(job.result![0]!.xaddrs).toContain(url);

    const missing = await gw.get('/api/v1/commissioning/jobs/job-nope');
    expect(missing.status).toBe(404);
  });

  it('reports a wrong password in the scan as auth failed, still listing the camera', async () => {
    const start = await gw.post('/api/v1/commissioning/discover', {
      hosts: ['127.0.0.1'],
      port: discoveryPort,
      username: 'admin',
      password: 'wrong',
    });
    const id = (start.body as unknown as Job).id;
    const job = await eventually(
      async () => {
        const j = (await gw.get(`/api/v1/commissioning/jobs/${id}`)).body as unknown as Job;
        return j.state !== 'running' ? j : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'discovery job done' },
    );
    expect(job.result).toHaveLength(1);
    expect(job.result![0]!.auth).toBe('failed');
  });

  it('tests the camera definition against the real camera without adding it', async () => {
    const ok = await gw.post('/api/v1/commissioning/test', camera());
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true });
    const fields = ok.body.fields as Record<string, unknown>;
    expect(fields.online).toBe(true);
    expect(typeof fields.snapshot_luma).toBe('number');
    expect(['day', 'night', 'auto', 'on', 'off']).toContain(fields.ir_mode);

    const wrong = await gw.post('/api/v1/commissioning/test', { ...camera(), password: 'nope' });
    expect(wrong.status).toBe(200);
    expect(wrong.body).toMatchObject({ ok: false, reason: 'auth-failed' });

    expect((await gw.get('/api/v1/devices')).body.devices).toEqual([]);
  });

  it('refuses bad definitions with 400 and a message naming the field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...camera(), colour: 'red' }, /colour/],
      [{ ...camera(), kind: 'barrier' }, /kind/],
      [{ ...camera(), id: 'bar-1', kind: 'barrier', driver: 'onvif-relay' }, /relay/],
      [{ ...camera(), driver: 'teleport' }, /driver/],
      [{ ...camera(), url: undefined }, /url/],
      [{ ...camera(), pollMs: 5 }, /pollMs/],
    ];
    for (const [body, field] of cases) {
      const r = await gw.post('/api/v1/commissioning/devices', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code, JSON.stringify(r.body)).toBe('GH_DEVICE_INVALID');
      expect(String(r.body.message), JSON.stringify(body)).toMatch(field);
    }
    expect((await gw.get('/api/v1/devices')).body.devices).toEqual([]);
    // Tests and refusals keep the typed password in memory only.
    const secrets = path.join(gw.dataDir, 'secrets');
    expect(existsSync(secrets) ? readdirSync(secrets) : []).toEqual([]);
  });

  it('adds the camera: polled at once, online, saved to the config with its password in a file', async () => {
    const saved = await gw.post('/api/v1/commissioning/devices', camera());
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ id: 'cam-1', savedTo: gw.configFile });

    const device = await eventually(
      async () => {
        const r = await gw.get('/api/v1/devices/cam-1');
        const d = r.body as { health?: { status: string } };
        return d.health?.status === 'online' ? r.body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'cam-1 online' },
    );
    expect(device).toMatchObject({ id: 'cam-1', kind: 'probe', driver: 'onvif', lane: 'lane-1' });
    expect((await gw.get('/api/v1/devices')).body.devices as unknown[]).toHaveLength(1);

    const text = readFileSync(gw.configFile, 'utf8');
    expect(text).not.toContain(PASSWORD);
    const config = parse(text) as { village: string; devices: Record<string, unknown>[] };
    expect(config.village).toBe('commtest');
    expect(config.devices).toHaveLength(1);
    const entry = config.devices[0]!;
    expect(entry).toMatchObject({ id: 'cam-1', kind: 'probe', driver: 'onvif', url, username: 'admin' });
    const secret = (entry.password as { file: string }).file;
    expect(readFileSync(secret, 'utf8')).toBe(PASSWORD);
    expect(statSync(secret).mode & 0o777).toBe(0o600);

    // The same id again is refused; the config keeps one entry.
    const again = await gw.post('/api/v1/commissioning/devices', camera());
    expect(again.status).toBe(400);
    expect(String(again.body.message)).toMatch(/cam-1/);
    expect((parse(readFileSync(gw.configFile, 'utf8')) as { devices: unknown[] }).devices).toHaveLength(1);
  });

  it('keeps commissioning for admins only', async () => {
    const r = await gw.post('/api/v1/commissioning/devices', { ...camera(), id: 'cam-2' }, 'not-a-token');
    expect(r.status).toBe(401);
  });

  it('starts again from the saved config with the camera in it', async () => {
    // The real proof that the saved YAML is valid: the gateway loads it.
    const { code } = await gw.proc.stop(10_000);
    expect(code).toBe(0);
    const again = await startGateway(readFileSync(gw.configFile, 'utf8'));
    const d = await eventually(
      async () => {
        const r = await again.get('/api/v1/devices/cam-1');
        return (r.body as { health?: { status: string } }).health?.status === 'online' ? r.body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'cam-1 online after restart' },
    );
    expect(d).toMatchObject({ id: 'cam-1', lane: 'lane-1' });
  });
});
