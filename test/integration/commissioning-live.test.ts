import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mosq } from '../helpers/mqtt-clients.ts';
import { stopAll } from '../helpers/procs.ts';
import { deviceWhen, startBarrierSim, startGateway, type GatewayProc } from '../helpers/gateway.ts';

// Changing a running village without a restart: devices added, changed and removed, a bus
// added and removed, each seen at once in the API and saved into a commented config. Then
// the config's directory turns read-only under the gateway (a read-only bind mount in the
// gateway's own mount namespace: it refuses root too, unlike chmod), and every change is
// refused with the reason, leaving memory and file as they were.

const comments = (text: string) =>
  text.split('\n').flatMap((l) => (l.includes('#') ? [l.slice(l.indexOf('#'))] : []));

const village = (port: number) => `# Testville — the crew's notes stay in this file
village: livetest # topic prefix

buses:
  # the west cabinet's controller port
  - { id: tcp-1, type: tcp, host: 127.0.0.1, port: ${port}, timeoutMs: 300 }

devices:
  # the one barrier we had at the start
  - id: barrier-1 # by the gate house
    kind: barrier
    driver: modbus
    bus: tcp-1
    unit: 1 # DIP switches
    profile: northgate-hr
    pollMs: 200
# end
`;

interface View {
  id: string;
  lane?: string;
  pollMs?: number;
  health: { status: string };
}

describe('live commissioning changes, saved, and refused when the config cannot be written', () => {
  let gw: GatewayProc;
  let original: string;
  const configDir = () => path.dirname(gw.configFile);
  /** Run a command in the gateway's mount namespace. */
  const inGateway = (...cmd: string[]) => execFileSync('nsenter', ['-t', String(gw.proc.pid), '-m', ...cmd]);
  const ids = async () =>
    ((await gw.get('/api/v1/devices')).body.devices as { id: string }[]).map((d) => d.id).sort();
  const fileIds = () =>
    ((parse(readFileSync(gw.configFile, 'utf8')) as { devices: { id: string }[] }).devices ?? [])
      .map((d) => d.id)
      .sort();
  const barrier = (id: string, unit: number, extra: Record<string, unknown> = {}) => ({
    id,
    kind: 'barrier',
    driver: 'modbus',
    bus: 'tcp-1',
    unit,
    profile: 'northgate-hr',
    pollMs: 200,
    ...extra,
  });

  beforeAll(async () => {
    const sim = await startBarrierSim(['--units', '1,2,3']);
    original = village(sim.modbus);
    gw = await startGateway(original, {
      // Data elsewhere: only the config's directory goes read-only below.
      dataDir: path.join(mkdtempSync(path.join(os.tmpdir(), 'gh-live-data-')), 'data'),
      prefix: ['unshare', '--mount', '--propagation', 'private'],
    });
    await deviceWhen(gw, 'barrier-1', (d) => d.health.status === 'online', 'online');
  }, 90_000);
  afterAll(stopAll);

  it('adds a device: polled at once, and in the file with every comment kept', async () => {
    const r = await gw.post('/api/v1/commissioning/devices', barrier('barrier-2', 2, { lane: 'east' }));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toEqual({ id: 'barrier-2', savedTo: gw.configFile });
    await deviceWhen(gw, 'barrier-2', (d) => d.health.status === 'online', 'online');
    expect(await ids()).toEqual(['barrier-1', 'barrier-2']);
    const text = readFileSync(gw.configFile, 'utf8');
    expect(comments(text)).toEqual(comments(original));
    expect(fileIds()).toEqual(['barrier-1', 'barrier-2']);
  });

  it('changes a device live: the new definition polls in place of the old one', async () => {
    const r = await gw.request(
      'PUT',
      '/api/v1/commissioning/devices/barrier-2',
      barrier('barrier-2', 3, { lane: 'west' }),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const d = await deviceWhen(gw, 'barrier-2', (v) => v.health.status === 'online', 'online again');
    expect((d as unknown as View).lane).toBe('west');
    const entry = (parse(readFileSync(gw.configFile, 'utf8')) as { devices: Record<string, unknown>[] })
      .devices[1];
    expect(entry).toMatchObject({ id: 'barrier-2', unit: 3, lane: 'west' });
    expect(comments(readFileSync(gw.configFile, 'utf8'))).toEqual(comments(original));

    const renamed = await gw.request(
      'PUT',
      '/api/v1/commissioning/devices/barrier-2',
      barrier('barrier-9', 3),
    );
    expect(renamed.status).toBe(400);
    const missing = await gw.request('PUT', '/api/v1/commissioning/devices/nope', barrier('nope', 3));
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('GH_DEVICE_NOT_FOUND');
  });

  it('refuses every change while the config directory is read-only, and keeps memory and file as they were', async () => {
    const before = readFileSync(gw.configFile, 'utf8');
    inGateway('mount', '--bind', configDir(), configDir());
    inGateway('mount', '-o', 'remount,bind,ro', configDir());
    try {
      const attempts: [string, string, unknown?][] = [
        ['POST', '/api/v1/commissioning/devices', barrier('barrier-3', 1)],
        // A typed password goes to a file of its own first; the refusal takes it back.
        [
          'POST',
          '/api/v1/commissioning/devices',
          {
            id: 'cam-1',
            kind: 'probe',
            driver: 'onvif',
            url: 'http://127.0.0.1:9/onvif',
            password: 'typed-pw',
          },
        ],
        ['PUT', '/api/v1/commissioning/devices/barrier-2', barrier('barrier-2', 3, { lane: 'north' })],
        ['DELETE', '/api/v1/commissioning/devices/barrier-2'],
        ['POST', '/api/v1/commissioning/buses', { id: 'tcp-2', type: 'tcp', host: '127.0.0.1', port: 1502 }],
      ];
      for (const [method, url, body] of attempts) {
        const r = await gw.request(method, url, body);
        expect(r.status, `${method} ${url}: ${JSON.stringify(r.body)}`).toBe(500);
        expect(r.body.code).toBe('GH_CONFIG_WRITE');
        expect(String(r.body.message)).toContain(
          `nothing was changed: could not save ${gw.configFile}: EROFS`,
        );
      }
      expect(readFileSync(gw.configFile, 'utf8')).toBe(before);
      expect(await ids()).toEqual(['barrier-1', 'barrier-2']);
      expect(await ids()).toEqual(fileIds());
      const kept = (await gw.get('/api/v1/devices/barrier-2')).body as unknown as View;
      expect(kept.lane).toBe('west');
      await deviceWhen(gw, 'barrier-2', (d) => d.health.status === 'online', 'still polled');
      const buses = (await gw.get('/api/v1/commissioning/buses')).body.buses as { id: string }[];
      expect(buses.map((b) => b.id)).toEqual(['tcp-1']);
      expect(readdirSync(path.join(gw.dataDir, 'secrets'))).toEqual([]);
      expect(readdirSync(configDir())).toEqual(['village.yaml']);
    } finally {
      inGateway('umount', configDir());
    }
  });

  it('adds and removes a bus and removes a device once the file can be written again', async () => {
    const bus = await gw.post('/api/v1/commissioning/buses', {
      id: 'tcp-2',
      type: 'tcp',
      host: '127.0.0.1',
      port: 1502,
    });
    expect(bus.status, JSON.stringify(bus.body)).toBe(201);
    let buses = (await gw.get('/api/v1/commissioning/buses')).body.buses as {
      id: string;
      devices: string[];
    }[];
    expect(buses).toMatchObject([
      { id: 'tcp-1', devices: ['barrier-1', 'barrier-2'] },
      { id: 'tcp-2', devices: [] },
    ]);
    const inUse = await gw.request('DELETE', '/api/v1/commissioning/buses/tcp-1');
    expect(inUse.status).toBe(409);
    expect(inUse.body.code).toBe('GH_BUS_IN_USE');

    const gone = await gw.request('DELETE', '/api/v1/commissioning/devices/barrier-2');
    expect(gone.status, JSON.stringify(gone.body)).toBe(200);
    expect(await ids()).toEqual(['barrier-1']);
    expect((await gw.get('/api/v1/devices/barrier-2')).status).toBe(404);
    // Nor does MQTT go on showing it: its retained availability and state are cleared.
    // Every message of 2 s with its retain flag (--retained-only would stop at the first live
    // one, which may come before the retained ones: MQTT does not order the two).
    const retained = await mosq('mosquitto_sub', [
      ...['-h', '127.0.0.1', '-p', String(gw.mqttPort), '-u', 'admin', '-P', 'admin-pass'],
      ...['-t', 'gatehouse/v1/livetest/+/availability', '-t', 'gatehouse/v1/livetest/+/state'],
      ...['-F', '%r %t', '-W', '2'],
    ]);
    const topics = [
      ...new Set(
        retained.out.split('\n').flatMap((l) => (l.startsWith('1 gatehouse/') ? [l.split(' ')[1]!] : [])),
      ),
    ];
    expect(topics.sort()).toEqual([
      'gatehouse/v1/livetest/barrier-1/availability',
      'gatehouse/v1/livetest/barrier-1/state',
    ]);
    expect((await gw.request('DELETE', '/api/v1/commissioning/buses/tcp-2')).status).toBe(200);
    buses = (await gw.get('/api/v1/commissioning/buses')).body.buses as { id: string; devices: string[] }[];
    expect(buses.map((b) => b.id)).toEqual(['tcp-1']);

    // Back where it started, comments and all.
    expect(readFileSync(gw.configFile, 'utf8')).toBe(original);
    await deviceWhen(gw, 'barrier-1', (d) => d.health.status === 'online', 'still online');
  });
});
