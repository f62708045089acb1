import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, startProcess, type Proc } from '../helpers/procs.ts';
import { subscriber } from '../helpers/mqtt-clients.ts';
import type { QuerySeries } from '../helpers/influxd.ts';

// The whole demo as a user runs it (`npm run demo`): it launches simulators,
// socat and influxd, and the gateway in-process. Checked from outside only: HTTP,
// the influx CLI, mosquitto_sub/pub, and the process table.

const execFileP = promisify(execFile);
const TOKEN = 'e2e-demo-token-0123456789';
const MQTT_USER = 'e2e-operator';
const MQTT_PASSWORD = 'e2e-operator-pass';
const PREFIX = 'gatehouse/v1/demo';

interface DeviceView {
  id: string;
  kind: string;
  health: { status: string; reason?: string };
  fields: Record<string, unknown>;
}

/** A live process, not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // state is the field after the parenthesised command name
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every descendant of `root` with its command line, from /proc (children of children too). */
async function descendants(root: number): Promise<{ pid: number; cmd: string }[]> {
  const { stdout } = await execFileP('ps', ['-e', '-o', 'pid=,ppid=,args=']);
  const rows = stdout
    .split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), cmd: m[3]! }));
  const found: { pid: number; cmd: string }[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const r of rows.filter((x) => x.ppid === parent)) {
      found.push({ pid: r.pid, cmd: r.cmd });
      queue.push(r.pid);
    }
  }
  return found;
}

describe('npm run demo, end to end', () => {
  let demo: Proc;
  let dataDir: string;
  let api: string;
  let mqttPort: number;
  let influxPort: number;
  let children: { pid: number; cmd: string }[] = [];

  const get = async (p: string) => {
    const res = await fetch(api + p, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const influx = async (q: string): Promise<QuerySeries[]> => {
    const { stdout } = await execFileP(
      'influx',
      ['-host', '127.0.0.1', '-port', String(influxPort), '-database', 'gatehouse', '-format', 'json'].concat(
        ['-execute', q],
      ),
      { timeout: 20_000 },
    );
    return stdout
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((l) => (JSON.parse(l) as { results: { series?: QuerySeries[] }[] }).results)
      .flatMap((r) => r.series ?? []);
  };
  const mqttArgs = () => ['-h', '127.0.0.1', '-p', String(mqttPort), '-u', MQTT_USER, '-P', MQTT_PASSWORD];
  /** mosquitto_sub until `count` messages, as `topic payload` lines. */
  const sub = async (topic: string, count: number): Promise<string[]> => {
    const { stdout } = await execFileP(
      'mosquitto_sub',
      [...mqttArgs(), '-t', topic, '-v', '-C', String(count), '-W', '10'],
      { timeout: 15_000 },
    );
    return stdout.split('\n').filter((l) => l.trim());
  };

  /**
   * The retained messages a new subscriber to `topic` gets, one per device: live updates
   * (barriers move all the time) may arrive between them, so each message is told apart
   * by the retain flag mosquitto_sub's debug output shows.
   */
  const retained = async (topic: string, devices: number): Promise<Map<string, string>> => {
    const p = await subscriber(mqttPort, ['-u', MQTT_USER, '-P', MQTT_PASSWORD], ['-t', topic]);
    try {
      return await eventually(
        () => {
          const seen = new Map<string, string>();
          let retainedNext = false;
          for (const line of p.output().split('\n')) {
            const pub = /received PUBLISH \(d\d, q\d, r(\d),/.exec(line);
            if (pub) retainedNext = pub[1] === '1';
            else if (retainedNext && line.startsWith(`${PREFIX}/`)) {
              const [t, ...rest] = line.split(' ');
              seen.set(t!.split('/')[3]!, rest.join(' '));
              retainedNext = false;
            }
          }
          return seen.size >= devices ? seen : undefined;
        },
        { what: `${devices} retained messages on ${topic}`, timeoutMs: 10_000 },
      );
    } finally {
      await p.stop();
    }
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-e2e-demo-'));
    const [apiPort, mqtt] = [await freePort(), await freePort()];
    // Exactly the README's command, in a process group of its own like a terminal's.
    demo = startProcess(
      'npm',
      [
        'run',
        'demo',
        '--',
        '--api-port',
        String(apiPort),
        '--mqtt-port',
        String(mqtt),
        '--data-dir',
        dataDir,
      ],
      {
        detached: true,
        env: {
          ...process.env,
          GATEHOUSE_API_TOKEN: TOKEN,
          GATEHOUSE_MQTT_USER: MQTT_USER,
          GATEHOUSE_MQTT_PASSWORD: MQTT_PASSWORD,
        },
      },
    );
    await demo.waitFor(/^ready: demo village/, 100_000);
    // The ready block is several lines; the config line is its last.
    await demo.waitFor(/^\s+config\s/, 5_000);
    const out = demo.output();
    api = out.match(/API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1\/devices/)![1]!;
    mqttPort = Number(out.match(/MQTT\s+mqtt:\/\/127\.0\.0\.1:(\d+)\s/)![1]);
    influxPort = Number(out.match(/InfluxDB\s+http:\/\/127\.0\.0\.1:(\d+)/)![1]);
    expect(api).toBe(`http://127.0.0.1:${apiPort}`);
    expect(mqttPort).toBe(mqtt);
    expect(out).toMatch(new RegExp(`user ${MQTT_USER}\\s`));
    expect(out).toMatch(new RegExp(`status page\\s+${api}/#token=${TOKEN}`));
    children = await descendants(demo.pid);
  }, 120_000);

  afterAll(async () => {
    // The demo runs in its own process group: end the whole group, then wait for npm.
    if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
      try {
        process.kill(-demo.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await demo?.stop(10_000);
    // Safety net only (the last test asserts none is left): processes the demo started for us.
    for (const c of children) if (alive(c.pid)) process.kill(c.pid, 'SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('prints the ready block and started simulators, socat and influxd as child processes', () => {
    const cmds = children.map((c) => c.cmd);
    expect(cmds.filter((c) => /device-sims\/main\.ts barrier/.test(c)).length).toBeGreaterThanOrEqual(3);
    expect(cmds.filter((c) => /device-sims\/main\.ts probe/.test(c)).length).toBeGreaterThanOrEqual(4);
    expect(cmds.some((c) => /^socat /.test(c))).toBe(true);
    expect(cmds.some((c) => /^influxd /.test(c))).toBe(true);
    expect(demo.output()).toMatch(/ready: demo village with \d+ devices online \(4 barriers, 4 probes\)/);
    expect(existsSync(path.join(dataDir, 'village.yaml'))).toBe(true);
  });

  it('lists every device over the API, online or degraded', async () => {
    const anon = await fetch(`${api}/api/v1/devices`);
    expect(anon.status).toBe(401);
    const { status, body } = await get('/api/v1/devices');
    expect(status).toBe(200);
    expect(body.village).toBe('demo');
    const devices = body.devices as DeviceView[];
    expect(devices.filter((d) => d.kind === 'barrier').length).toBeGreaterThanOrEqual(4);
    expect(devices.filter((d) => d.kind === 'probe').length).toBeGreaterThanOrEqual(4);
    for (const d of devices) expect(['online', 'degraded'], d.id).toContain(d.health.status);
  });

  it('writes the canonical measurements to InfluxDB, as the influx CLI sees them', async () => {
    // The sink flushes every second; give the first batches time to land.
    const measurements = await eventually(
      async () => {
        const names = (await influx('SHOW MEASUREMENTS')).flatMap((s) => s.values.map((v) => String(v[0])));
        return ['barrier', 'probe', 'device_health'].every((m) => names.includes(m)) ? names : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 1000, what: 'barrier, probe and device_health in InfluxDB' },
    );
    expect(measurements).toEqual(expect.arrayContaining(['barrier', 'probe', 'device_health']));

    for (const m of ['barrier', 'probe', 'device_health']) {
      const keys = (await influx(`SHOW TAG KEYS FROM "${m}"`))[0]!.values.map((v) => v[0]);
      expect(keys, m).toEqual(expect.arrayContaining(['village', 'device', 'kind', 'site', 'lane']));
    }
    const fieldTypes = (m: string) =>
      influx(`SHOW FIELD KEYS FROM "${m}"`).then(
        (s) => new Map(s[0]!.values.map((v) => [String(v[0]), String(v[1])])),
      );
    const barrierFields = await fieldTypes('barrier');
    expect(barrierFields.get('arm_state')).toBe('string');
    expect(barrierFields.get('vehicles_in')).toBe('integer');
    expect(barrierFields.get('loop_occupied')).toBe('boolean');
    expect(barrierFields.get('supply_v')).toBe('float');
    const probeFields = await fieldTypes('probe');
    expect(probeFields.get('ir_mode')).toBe('string');
    expect(probeFields.get('snapshot_luma')).toBe('float');
    expect(probeFields.get('night')).toBe('boolean');
    expect((await fieldTypes('device_health')).get('online')).toBe('boolean');

    // One series per barrier, tagged with where it stands.
    const barriers = await eventually(
      async () => {
        const s = await influx(
          'SELECT last("arm_state") FROM "barrier" GROUP BY "device", "lane", "site", "village", "kind"',
        );
        return s.length >= 4 ? s : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 1000, what: 'four barrier series' },
    );
    for (const s of barriers) {
      expect(s.tags).toMatchObject({ village: 'demo', kind: 'barrier', site: 'main-lot' });
      expect(s.tags!.lane).toBe(s.tags!.device!.replace('barrier-', 'lane-'));
      expect(['open', 'opening', 'closed', 'closing', 'stopped', 'fault']).toContain(s.values[0]![1]);
    }
    const health = await eventually(
      async () => {
        const s = await influx('SELECT last("online") FROM "device_health" GROUP BY "device"');
        return s.length >= 8 ? s : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 1000, what: 'device_health for all 8 devices' },
    );
    expect(health.map((s) => s.tags!.device).sort()).toEqual(
      expect.arrayContaining(['barrier-1', 'barrier-4', 'probe-1', 'probe-4']),
    );
  });

  it('publishes retained availability and state, and canonical telemetry, to authenticated MQTT clients', async () => {
    const avail = await retained(`${PREFIX}/+/availability`, 8);
    expect([...avail.keys()].sort()).toEqual([
      ...['barrier-1', 'barrier-2', 'barrier-3', 'barrier-4'],
      ...['probe-1', 'probe-2', 'probe-3', 'probe-4'],
    ]);
    for (const payload of avail.values()) expect(payload).toBe('online');

    const states = await retained(`${PREFIX}/+/state`, 8);
    const byDevice = new Map(
      [...states].map(
        ([device, payload]) => [device, JSON.parse(payload) as Record<string, unknown>] as const,
      ),
    );
    expect(byDevice.size).toBe(8);
    expect(byDevice.get('barrier-1')).toMatchObject({
      device: 'barrier-1',
      kind: 'barrier',
      status: 'online',
    });
    expect(byDevice.get('probe-1')).toMatchObject({ device: 'probe-1', kind: 'probe' });

    const [tele] = await sub(`${PREFIX}/barrier-1/telemetry`, 1);
    const body = JSON.parse(tele!.slice(tele!.indexOf(' ') + 1)) as {
      device: string;
      kind: string;
      time: string;
      fields: Record<string, unknown>;
    };
    expect(body).toMatchObject({ device: 'barrier-1', kind: 'barrier', lane: 'lane-1', site: 'main-lot' });
    expect(Number.isNaN(Date.parse(body.time))).toBe(false);
    expect(typeof body.fields.arm_state).toBe('string');
    expect(Number.isInteger(body.fields.vehicles_in)).toBe(true);
  });

  it('refuses an anonymous MQTT client', async () => {
    const anon = execFileP(
      'mosquitto_sub',
      ['-h', '127.0.0.1', '-p', String(mqttPort), '-t', `${PREFIX}/#`, '-C', '1', '-W', '5'],
      { timeout: 10_000 },
    );
    const err = (await anon.then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: number; stderr?: string } | undefined;
    expect(err, 'anonymous mosquitto_sub must fail').toBeDefined();
    expect(err!.code).not.toBe(0);
    expect(err!.stderr).toMatch(/not authori[sz]ed/i);
  });

  it('carries a gate command from MQTT to the simulated barrier and reports each step', async () => {
    // cmd/result is not retained: subscribe (and see the SUBACK) before publishing.
    // stdbuf: mosquitto_sub block-buffers stdout into a pipe.
    const results = startProcess('stdbuf', [
      '-oL',
      'mosquitto_sub',
      ...mqttArgs(),
      '-t',
      `${PREFIX}/barrier-1/cmd/result`,
      '-v',
      '-d',
      '-W',
      '30',
    ]);
    try {
      await results.waitFor(/SUBACK/, 10_000);
      await execFileP('mosquitto_pub', [
        ...mqttArgs(),
        '-q',
        '1',
        '-t',
        `${PREFIX}/barrier-1/cmd`,
        '-m',
        JSON.stringify({ requestId: 'e2e-1', action: 'open', reason: 'e2e' }),
      ]);
      await results.waitFor(/"requestId":"e2e-1".*"state":"(confirmed|failed)"/, 20_000);
      const states = results
        .output()
        .split('\n')
        .filter((l) => l.startsWith(`${PREFIX}/barrier-1/cmd/result `))
        .map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as { requestId?: string; state: string })
        .filter((r) => r.requestId === 'e2e-1')
        .map((r) => r.state);
      expect(states).toEqual(['accepted', 'executing', 'confirmed']);
    } finally {
      await results.stop();
    }

    // The gateway confirmed from the controller's sensed state; the API tells the same story.
    const { body } = await get('/api/v1/commands?limit=20');
    const rec = (body.commands as { requestId: string; state: string; actor: string; device: string }[]).find(
      (c) => c.requestId === 'e2e-1',
    );
    expect(rec).toMatchObject({ device: 'barrier-1', state: 'confirmed', actor: `mqtt:${MQTT_USER}` });
    const confirmedAt = Date.parse((rec as unknown as { updatedAt: string }).updatedAt);
    const d = (await get('/api/v1/devices/barrier-1')).body as unknown as {
      recentEvents: { type: string; detail: string }[];
    };
    expect(d.recentEvents.filter((e) => e.type === 'command').map((e) => e.detail)).toEqual(
      expect.arrayContaining(['open accepted', 'open confirmed']),
    );
    // The controller itself reported the arm open (its telemetry, as stored in InfluxDB).
    const open = await eventually(
      async () => {
        const s = await influx(
          `SELECT count("arm_angle_deg") FROM "barrier" WHERE "device" = 'barrier-1' AND "arm_state" = 'open' AND time >= ${confirmedAt - 2000}ms`,
        );
        return Number(s[0]?.values[0]?.[1] ?? 0) > 0;
      },
      { timeoutMs: 10_000, intervalMs: 1000, what: 'barrier-1 telemetry with arm_state open' },
    );
    expect(open).toBe(true);
  });

  it('writes the gateway measurement after its stats interval', async () => {
    // The gateway writes its own counters every 10 s (statsIntervalMs default).
    const s = await eventually(
      async () => {
        const r = await influx('SELECT last("rss_mb") FROM "gateway" GROUP BY *');
        return r.length > 0 ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 1000, what: 'gateway measurement' },
    );
    expect(s[0]!.tags).toMatchObject({ village: 'demo' });
    expect(Number(s[0]!.values[0]![1])).toBeGreaterThan(10);
  });

  it('stops cleanly on SIGINT and leaves none of its processes behind', async () => {
    expect(children.length).toBeGreaterThanOrEqual(8);
    for (const c of children) expect(alive(c.pid), `${c.pid} ${c.cmd}`).toBe(true);
    const t0 = Date.now();
    // Ctrl-C: the whole group gets SIGINT (npm, tsx's wrapper and the gateway, which
    // therefore sees it more than once) — the gateway must still stop cleanly.
    process.kill(-demo.pid, 'SIGINT');
    const exited = await Promise.race([
      demo.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000)),
    ]);
    expect(exited, 'demo did not exit within 20 s of SIGINT').not.toBe('hung');
    // npm ends itself with the signal it was given once its script is done (its convention).
    expect([
      JSON.stringify({ code: 0, signal: null }),
      JSON.stringify({ code: null, signal: 'SIGINT' }),
    ]).toContain(JSON.stringify(exited));
    expect(demo.output()).not.toMatch(/exiting now/);
    expect(Date.now() - t0).toBeLessThan(20_000);
    await eventually(() => children.every((c) => !alive(c.pid)), {
      timeoutMs: 5_000,
      what: `no child left: ${children
        .filter((c) => alive(c.pid))
        .map((c) => c.cmd)
        .join('; ')}`,
    }).catch(() => undefined);
    expect(children.filter((c) => alive(c.pid)).map((c) => `${c.pid} ${c.cmd}`)).toEqual([]);
    expect(demo.output()).toMatch(/stopped cleanly/);
  }, 40_000);
});
