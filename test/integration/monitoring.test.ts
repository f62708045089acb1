import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceWhen,
  simControl,
  startBarrierSim,
  startGateway,
  TEST_TOKEN,
  type GatewayProc,
} from '../helpers/gateway.ts';
import { mosq } from '../helpers/mqtt-clients.ts';
import { freePort, startTs, stopAll } from '../helpers/procs.ts';

/**
 * What monitoring sees of a running gateway (its own process, real simulators):
 * /metrics that Prometheus' own linter accepts, with devices, commands, broker and disk
 * in it, and `gatehouse status` exit codes for online, degraded, offline and unreachable.
 */

type Sim = Awaited<ReturnType<typeof startBarrierSim>>;
let gw: GatewayProc;
let sim1: Sim;
let sim2: Sim;

const yaml = (p1: number, p2: number) => `village: testville
buses:
  - { id: tcp-1, type: tcp, host: 127.0.0.1, port: ${p1}, timeoutMs: 300 }
  - { id: tcp-2, type: tcp, host: 127.0.0.1, port: ${p2}, timeoutMs: 300 }
devices:
  - { id: barrier-1, kind: barrier, driver: modbus, bus: tcp-1, unit: 1, profile: northgate-hr, site: north-lot, lane: lane-1, pollMs: 200 }
  - { id: barrier-2, kind: barrier, driver: modbus, bus: tcp-2, unit: 1, profile: northgate-hr, site: north-lot, lane: lane-2, pollMs: 200 }
`;

/** `gatehouse status` as a crew or cron runs it: its own process, token from the environment. */
async function status(args: string[], token = TEST_TOKEN) {
  const p = startTs('gateway/cli/main.ts', ['status', ...args], {
    env: { ...process.env, GATEHOUSE_API_TOKEN: token },
  });
  const { code } = await p.exited;
  return { code, out: p.output() };
}

/** Samples of a Prometheus text exposition: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function metrics(): Promise<string> {
  const res = await fetch(`${gw.api}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

beforeAll(async () => {
  const fast = ['--open-ms', '200', '--close-ms', '200', '--traffic', 'off'];
  [sim1, sim2] = await Promise.all([startBarrierSim(fast), startBarrierSim(fast)]);
  gw = await startGateway(yaml(sim1.modbus, sim2.modbus));
  for (const id of ['barrier-1', 'barrier-2'])
    await deviceWhen(gw, id, (d) => d.health.status === 'online', 'online', 30_000);
});
afterAll(stopAll);

describe('/metrics', () => {
  it('passes promtool check metrics after a command, with devices, commands, broker, sinks and disk', async () => {
    const cmd = await gw.post('/api/v1/barriers/barrier-1/commands?waitMs=8000', {
      requestId: 'metrics-open-1',
      action: 'open',
      reason: 'monitoring test',
    });
    expect(cmd.body.state).toBe('confirmed');
    const port = ['-h', '127.0.0.1', '-p', String(gw.mqttPort)];
    const denied = await mosq('mosquitto_pub', [...port, '-u', 'admin', '-P', 'wrong', '-t', 'x', '-m', '1']);
    expect(denied.code).not.toBe(0);
    const ok = await mosq('mosquitto_pub', [
      ...port,
      '-u',
      'admin',
      '-P',
      'admin-pass',
      '-t',
      'x',
      '-m',
      '1',
    ]);
    expect(ok.code).toBe(0);

    const text = await metrics();
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);

    const m = samples(text);
    const value = (k: string) => {
      expect(
        m.has(k),
        `${k} in:\n${[...m.keys()].filter((x) => !/^gatehouse_(process|nodejs)_/.test(x)).join('\n')}`,
      ).toBe(true);
      return m.get(k)!;
    };
    expect(value('gatehouse_device_status{device="barrier-1",kind="barrier",status="online"}')).toBe(1);
    expect(value('gatehouse_device_status{device="barrier-1",kind="barrier",status="offline"}')).toBe(0);
    expect(value('gatehouse_device_poll_seconds_count{device="barrier-2",kind="barrier"}')).toBeGreaterThan(
      0,
    );
    expect(value('gatehouse_commands_total{action="open",outcome="confirmed"}')).toBe(1);
    expect(value('gatehouse_command_seconds_count{action="open",until="first_write"}')).toBe(1);
    expect(value('gatehouse_command_seconds_count{action="open",until="final"}')).toBe(1);
    // accepted, executing, confirmed: each line synced before the command moved on (fewer syncs when lines share one).
    expect(value('gatehouse_audit_sync_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value('gatehouse_audit_sync_seconds_count')).toBeLessThanOrEqual(3);
    expect(value('gatehouse_broker_auth_failures_total')).toBeGreaterThanOrEqual(1);
    expect(value('gatehouse_broker_messages_received_total')).toBeGreaterThanOrEqual(1);
    expect(value('gatehouse_broker_clients')).toBeGreaterThanOrEqual(0);
    expect(value('gatehouse_spool_bytes{sink="influx"}')).toBeGreaterThanOrEqual(0);
    expect(value('gatehouse_points_dropped_total{sink="influx"}')).toBe(0);
    expect(value(`gatehouse_data_dir_free_bytes{dir="${gw.dataDir}"}`)).toBeGreaterThan(0);
    expect([...m.keys()].some((k) => k.startsWith('gatehouse_process_resident_memory_bytes'))).toBe(true);
  });
});

describe('gatehouse status', () => {
  it('exits 0 with every device online, as a table and as JSON', async () => {
    const r = await status(['--url', gw.api]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('village testville: 2 devices — 2 online, 0 degraded, 0 offline');
    expect(r.out).toMatch(/DEVICE\s+KIND\s+LANE\s+STATE\s+REASON\s+LAST SEEN/);
    expect(r.out).toMatch(/barrier-1\s+barrier\s+lane-1\s+online\s+-\s+\d+s ago/);
    const j = await status(['--url', gw.api, '--json']);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.out) as { status: string; exitCode: number; devices: { id: string }[] };
    expect(doc).toMatchObject({ status: 'online', exitCode: 0 });
    expect(doc.devices.map((d) => d.id)).toEqual(['barrier-1', 'barrier-2']);
  });

  it('exits 1 while a barrier is degraded (controller fault), and the metrics name the reason', async () => {
    await simControl(sim2.control, '/fault', { unit: 1, fault: 'motor-overcurrent', active: true });
    await deviceWhen(gw, 'barrier-2', (d) => d.health.status === 'degraded', 'degraded');
    const r = await status(['--url', gw.api]);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/^barrier-2\s+barrier\s+lane-2\s+degraded\s+barrier-fault:1/m);
    expect(r.out).toContain(
      "barrier-2: barrier controller fault 1 — read the fault on the controller's display",
    );
    const m = samples(await metrics());
    expect(m.get('gatehouse_device_reason{device="barrier-2",kind="barrier",reason="barrier-fault:1"}')).toBe(
      1,
    );
    expect(m.get('gatehouse_device_status{device="barrier-2",kind="barrier",status="degraded"}')).toBe(1);

    await simControl(sim2.control, '/fault', { unit: 1, fault: 'motor-overcurrent', active: false });
    const reset = await gw.post('/api/v1/barriers/barrier-2/commands?waitMs=8000', {
      requestId: 'metrics-reset-1',
      action: 'reset-fault',
      reason: 'motor replaced',
    });
    expect(reset.body.state).toBe('confirmed');
    await deviceWhen(gw, 'barrier-2', (d) => d.health.status === 'online', 'online again');
  });

  it('exits 2 when a barrier is offline (its controller stopped), first in the table', async () => {
    await sim2.proc.stop();
    await deviceWhen(gw, 'barrier-2', (d) => d.health.status === 'offline', 'offline', 20_000);
    const r = await status(['--url', gw.api]);
    expect(r.code, r.out).toBe(2);
    expect(r.out).toContain('1 online, 0 degraded, 1 offline');
    const lines = r.out.split('\n');
    const header = lines.findIndex((l) => l.startsWith('DEVICE'));
    expect(lines[header + 1]).toMatch(
      /^barrier-2\s+barrier\s+lane-2\s+offline\s+(timeout|connection-refused)/,
    );
    const j = JSON.parse((await status(['--url', gw.api, '--json'])).out) as { exitCode: number };
    expect(j.exitCode).toBe(2);
    const m = samples(await metrics());
    expect(m.get('gatehouse_device_status{device="barrier-2",kind="barrier",status="offline"}')).toBe(1);
    const errors = [...m].filter(([k]) =>
      k.startsWith('gatehouse_device_poll_errors_total{device="barrier-2"'),
    );
    expect(errors.reduce((n, [, v]) => n + v, 0)).toBeGreaterThan(0);
  });

  it('exits 2 when the gateway is unreachable or refuses the token', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await status(['--url', closed]);
    expect(down.code).toBe(2);
    expect(down.out).toContain(`error GH_GATEWAY_UNREACHABLE: cannot reach the gateway at ${closed}`);
    const refused = await status(['--url', gw.api], 'not-a-token-0123456789');
    expect(refused.code).toBe(2);
    expect(refused.out).toContain(`error GH_STATUS_REFUSED: the gateway at ${gw.api} answered 401`);
  });
});
