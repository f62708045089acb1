import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import type { BenchResult, BenchRun } from './types.ts';
import { freePort, startTs, type Proc } from '../device-sims/harness/child.ts';
import { launchInfluxd, type InfluxdProcess } from '../device-sims/harness/influxd.ts';
import {
  above,
  buckets,
  cpuSeconds,
  load1,
  pct,
  quantile,
  rssMb,
  scrape,
  sleep,
  startDistGateway,
  sum,
  type Metrics,
} from './gateway-run.ts';

/**
 * Proof at village scale: one gateway from dist/ (as production runs it) with 50, 200 and
 * 500 simulated devices — nine in ten barriers (Modbus TCP, one connection per barrier; a
 * tenth of them on RTU-over-TCP lines of a serial device server at 115200 baud) polled
 * every second, one in ten ONVIF probes checked every 10 s with events on — MQTT broker
 * and InfluxDB sink on (a real influxd). Simulators serve many units per process, ≤ 8
 * processes. At each size, over a measured window: the gateway's CPU (% of one core, from
 * /proc/<pid>/stat), RSS, poll lateness (the poller's histogram in /metrics), event-loop
 * delay p99 (prom-client's monitorEventLoopDelay gauge), points/s written, and the
 * simulators' CPU apart. At 500: API and MQTT command → first Modbus write on the wire (the
 * simulator's receive time) and → confirmed. Then start-up of a 50-device village.
 *
 * The ceiling each figure is set against is measured in the same run: a bare Node
 * process's own event-loop delay and CPU (an idle timer loop) on this machine, now.
 */

const VILLAGE = 'scale';
const PROBE_USER = 'admin';
const PROBE_PASSWORD = 'scale-bench';
const PROBE_PASSWORD_ENV = 'GATEHOUSE_SCALE_PROBE_PASSWORD';
/** The monitorEventLoopDelay resolution prom-client uses: an idle loop reads this much. */
const ELD_RESOLUTION_MS = 10;
const UNITS_PER_TCP_SIM = 210;
const UNITS_PER_RTU_LINE = 25;

interface Barrier {
  id: string;
  unit: number;
  bus: Record<string, unknown>;
  control: string;
  transport: 'tcp' | 'rtu-over-tcp';
  /** Its simulator takes commands (no simulated traffic that could open the arm first). */
  quiet: boolean;
}

interface Layout {
  barriers: Barrier[];
  probes: { id: string; url: string }[];
  sims: Proc[];
  stop(): Promise<void>;
}

function split(n: number): { probes: number; tcp: number; rtu: number } {
  const probes = Math.round(n / 10);
  const barriers = n - probes;
  const rtu = Math.round(barriers / 10);
  return { probes, tcp: barriers - rtu, rtu };
}

async function startSim(args: string[]): Promise<{ proc: Proc; line: string }> {
  const proc = startTs('device-sims/main.ts', args);
  return { proc, line: await proc.waitFor(/listening/, 90_000) };
}

/** The simulators for `n` devices, each kind in as few processes as it takes. */
async function launch(n: number): Promise<Layout> {
  const { probes: nProbes, tcp, rtu } = split(n);
  const sims: Proc[] = [];
  const stop = async () => {
    await Promise.allSettled(sims.map((p) => p.stop()));
  };
  const barriers: Barrier[] = [];
  const probes: Layout['probes'] = [];
  try {
    const jobs: Promise<void>[] = [];
    const common = ['--profile', 'northgate-hr', '--open-ms', '400', '--close-ms', '400'];
    // Modbus TCP: every barrier its own connection (its own controller on the network).
    for (let first = 0, k = 0; first < tcp; first += UNITS_PER_TCP_SIM, k++) {
      const count = Math.min(UNITS_PER_TCP_SIM, tcp - first);
      const units = Array.from({ length: count }, (_, i) => i + 1);
      const [port, control] = [await freePort(), await freePort()];
      const quiet = k === 0;
      for (const unit of units) {
        const id = `b${first + unit}`;
        barriers.push({
          id,
          unit,
          transport: 'tcp',
          quiet,
          control: `http://127.0.0.1:${control}`,
          bus: { id: `${id}-tcp`, type: 'tcp', host: '127.0.0.1', port, timeoutMs: 500 },
        });
      }
      const traffic = quiet ? ['--traffic', 'off'] : ['--traffic', 'random', '--rate-per-min', '1'];
      jobs.push(
        startSim([
          'barrier',
          '--tcp',
          `127.0.0.1:${port}`,
          '--units',
          units.join(','),
          '--control',
          `127.0.0.1:${control}`,
          ...common,
          ...traffic,
          '--seed',
          String(k + 1),
        ]).then(({ proc }) => void sims.push(proc)),
      );
    }
    // RTU over TCP: a serial device server per line of up to 25 units at 115200 baud.
    for (let first = 0, k = 0; first < rtu; first += UNITS_PER_RTU_LINE, k++) {
      const count = Math.min(UNITS_PER_RTU_LINE, rtu - first);
      const units = Array.from({ length: count }, (_, i) => i + 1);
      const [port, control] = [await freePort(), await freePort()];
      const bus = {
        id: `line-${k + 1}`,
        type: 'rtu-over-tcp',
        host: '127.0.0.1',
        port,
        baud: 115200,
        timeoutMs: 300,
      };
      for (const unit of units) {
        barriers.push({
          id: `r${first + unit}`,
          unit,
          transport: 'rtu-over-tcp',
          quiet: false,
          control: `http://127.0.0.1:${control}`,
          bus,
        });
      }
      jobs.push(
        startSim([
          'barrier',
          '--rtu-tcp',
          `127.0.0.1:${port}`,
          '--baud',
          '115200',
          '--units',
          units.join(','),
          '--control',
          `127.0.0.1:${control}`,
          ...common,
          '--traffic',
          'random',
          '--rate-per-min',
          '1',
          '--seed',
          String(100 + k),
        ]).then(({ proc }) => void sims.push(proc)),
      );
    }
    if (nProbes > 0) {
      const proc = startTs('device-sims/main.ts', [
        'probe',
        '--count',
        String(nProbes),
        '--http',
        '127.0.0.1:0',
        '--rtsp',
        '127.0.0.1:0',
        '--control',
        '127.0.0.1:0',
        '--user',
        PROBE_USER,
        '--password',
        PROBE_PASSWORD,
        '--no-discovery',
      ]);
      sims.push(proc);
      jobs.push(
        (async () => {
          const deadline = Date.now() + 90_000;
          for (;;) {
            const lines = proc.output().match(/probe-sim listening cam=\d+ device_service=\S+/g) ?? [];
            if (lines.length >= nProbes) {
              lines.forEach((l, i) =>
                probes.push({ id: `p${i + 1}`, url: /device_service=(\S+)/.exec(l)![1]! }),
              );
              return;
            }
            if (proc.child.exitCode !== null || Date.now() > deadline)
              throw new Error(
                `probe simulator: ${lines.length}/${nProbes} cameras; ${proc.output().slice(-1500)}`,
              );
            await sleep(100);
          }
        })(),
      );
    }
    await Promise.all(jobs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { barriers, probes, sims, stop };
}

function configYaml(l: Layout): string {
  const buses = new Map<string, Record<string, unknown>>();
  for (const b of l.barriers) buses.set(b.bus.id as string, b.bus);
  const devices: Record<string, unknown>[] = [
    ...l.barriers.map((b) => ({
      id: b.id,
      kind: 'barrier',
      driver: 'modbus',
      bus: b.bus.id,
      unit: b.unit,
      profile: 'northgate-hr',
      lane: `lane-${b.id}`,
      pollMs: 1000,
    })),
    ...l.probes.map((p) => ({
      id: p.id,
      kind: 'probe',
      driver: 'onvif',
      url: p.url,
      username: PROBE_USER,
      password: { env: PROBE_PASSWORD_ENV },
      pollMs: 10_000,
      events: true,
    })),
  ];
  return stringify({
    village: VILLAGE,
    site: 'bench',
    broker: { host: '127.0.0.1' },
    api: { limits: { commandsPerToken: 100_000, commandsPerAddress: 100_000 } },
    buses: [...buses.values()],
    devices,
  });
}

interface Running {
  gateway: Proc;
  api: string;
  mqttPort: number;
  token: string;
  mqttUser: string;
  mqttPassword: string;
  startedAt: number;
  readyLineAt: number;
  allPolledAt: number;
  stop(): Promise<void>;
}

/** The gateway from dist/ for this layout; resolves once every device has been polled once. */
async function startGateway(
  l: Layout,
  influxUrl: string,
  dir: string,
  nodeFlags: string[] = [],
): Promise<Running> {
  const configFile = path.join(dir, 'village.yaml');
  writeFileSync(configFile, configYaml(l));
  const [apiPort, mqttPort] = [await freePort(), await freePort()];
  const token = randomBytes(18).toString('base64url');
  const mqttUser = 'gatehouse';
  const mqttPassword = randomBytes(12).toString('base64url');
  const api = `http://127.0.0.1:${apiPort}`;
  const total = l.barriers.length + l.probes.length;
  for (let attempt = 1; ; attempt++) {
    const dataDir = mkdtempSync(path.join(dir, 'data-'));
    const startedAt = performance.now();
    const gateway = startDistGateway({
      configFile,
      apiPort,
      mqttPort,
      dataDir,
      influxUrl,
      nodeFlags,
      env: {
        GATEHOUSE_API_TOKEN: token,
        GATEHOUSE_MQTT_USER: mqttUser,
        GATEHOUSE_MQTT_PASSWORD: mqttPassword,
        [PROBE_PASSWORD_ENV]: PROBE_PASSWORD,
        GATEHOUSE_LOG_LEVEL: 'info',
      },
    });
    try {
      await gateway.waitFor(/gateway ready/, 60_000);
      const readyLineAt = performance.now();
      // All devices polled once: none left in "offline (not-polled-yet)".
      const deadline = Date.now() + 60_000;
      for (;;) {
        const m = await scrape(api).catch(() => new Map() as Metrics);
        const notYet = sum(m, 'gatehouse_device_reason', 'reason="not-polled-yet"');
        if (m.size > 0 && notYet === 0 && sum(m, 'gatehouse_devices') === total) break;
        if (Date.now() > deadline) throw new Error(`not every device polled within 60 s (${notYet} left)`);
        await sleep(25);
      }
      const allPolledAt = performance.now();
      return {
        gateway,
        api,
        mqttPort,
        token,
        mqttUser,
        mqttPassword,
        startedAt,
        readyLineAt,
        allPolledAt,
        stop: async () => void (await gateway.stop(15_000)),
      };
    } catch (err) {
      await gateway.stop(5000);
      // Another engineer's half-saved file can break a start: retry once a little later.
      if (attempt >= 2) throw err;
      await sleep(5000);
    }
  }
}

interface SizeResult {
  n: number;
  barriers: number;
  probes: number;
  rtu: number;
  simProcs: number;
  windowS: number;
  cpuPct: number;
  rss: number;
  heapMb: number;
  lateP50: number;
  lateP99: number;
  lateOver: number;
  latePolls: number;
  eldP99: number;
  pointsPerS: number;
  readingsPerS: number;
  pollErrors: number;
  simCpuPct: number;
  influxCpuPct: number;
  load: number;
}

async function measure(l: Layout, r: Running, influxd: InfluxdProcess, windowS: number): Promise<SizeResult> {
  const pids = { gw: r.gateway.pid, sims: l.sims.map((p) => p.pid), influx: influxd.proc.pid };
  const cpu = () => ({
    gw: cpuSeconds(pids.gw),
    sims: pids.sims.reduce((a, p) => a + cpuSeconds(p), 0),
    influx: cpuSeconds(pids.influx),
  });
  const m0 = await scrape(r.api); // also resets the event-loop delay histogram
  const c0 = cpu();
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const c1 = cpu();
  const t1 = performance.now();
  const m1 = await scrape(r.api);
  const secs = (t1 - t0) / 1000;
  const late = buckets(m1, 'gatehouse_poll_lateness_seconds', [], m0);
  const lateB = buckets(m1, 'gatehouse_poll_lateness_seconds', ['kind="barrier"'], m0);
  const lateP = buckets(m1, 'gatehouse_poll_lateness_seconds', ['kind="probe"'], m0);
  const d = (name: string, ...match: string[]) => sum(m1, name, ...match) - sum(m0, name, ...match);
  const { probes, tcp, rtu } = split(l.barriers.length + l.probes.length);
  return {
    n: l.barriers.length + l.probes.length,
    barriers: tcp + rtu,
    probes,
    rtu,
    simProcs: l.sims.length,
    windowS: secs,
    cpuPct: ((c1.gw - c0.gw) / secs) * 100,
    rss: rssMb(pids.gw),
    heapMb: sum(m1, 'gatehouse_nodejs_heap_size_used_bytes') / 2 ** 20,
    lateP50: quantile(late, 0.5) * 1000,
    lateP99: quantile(late, 0.99) * 1000,
    lateOver: above(lateB, 1) + above(lateP, 10),
    latePolls: late.at(-1)?.[1] ?? 0,
    eldP99: sum(m1, 'gatehouse_nodejs_eventloop_lag_p99_seconds') * 1000 - ELD_RESOLUTION_MS,
    pointsPerS: d('gatehouse_points_written_total') / secs,
    readingsPerS: d('gatehouse_readings_total') / secs,
    pollErrors: d('gatehouse_device_poll_errors_total'),
    simCpuPct: ((c1.sims - c0.sims) / secs) * 100,
    influxCpuPct: ((c1.influx - c0.influx) / secs) * 100,
    load: load1(),
  };
}

interface SimCommand {
  action: string;
  atMs: number;
}

/** Each unit's recent commands as its simulator logged them. */
async function simCommands(control: string): Promise<Map<number, SimCommand[]>> {
  const res = await fetch(`${control}/state`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { units: Record<string, { commands: SimCommand[] }> };
  return new Map(Object.entries(body.units).map(([u, s]) => [Number(u), s.commands]));
}

interface CommandRun {
  firstWrite: number[];
  confirmed: number[];
  failed: number;
}

/**
 * `count` opens, one per barrier (of the simulator without traffic), `spacingMs` apart:
 * send → the simulator's receive time of the first write, and the command record's
 * accepted → confirmed from its history.
 */
async function commands(
  r: Running,
  l: Layout,
  via: 'api' | 'mqtt',
  targets: Barrier[],
  spacingMs: number,
): Promise<CommandRun> {
  const sent: { b: Barrier; at: number; requestId: string; id?: string }[] = [];
  const client =
    via === 'mqtt'
      ? await mqtt.connectAsync(`mqtt://127.0.0.1:${r.mqttPort}`, {
          username: r.mqttUser,
          password: r.mqttPassword,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
        })
      : undefined;
  const results = new Map<string, { id: string }>();
  try {
    if (client) {
      await client.subscribeAsync(`gatehouse/v1/${VILLAGE}/+/cmd/result`, { qos: 1 });
      client.on('message', (_t, payload) => {
        try {
          const rec = JSON.parse(payload.toString()) as { id?: string; requestId?: string };
          if (rec.requestId && rec.id) results.set(rec.requestId, { id: rec.id });
        } catch {
          // not a record
        }
      });
    }
    for (const b of targets) {
      const requestId = `bench-${via}-${b.id}-${randomBytes(4).toString('hex')}`;
      const body = { requestId, action: 'open', reason: 'scale benchmark' };
      const at = performance.timeOrigin + performance.now();
      if (client) {
        client.publish(`gatehouse/v1/${VILLAGE}/${b.id}/cmd`, JSON.stringify(body), { qos: 1 });
        sent.push({ b, at, requestId });
      } else {
        const res = await fetch(`${r.api}/api/v1/barriers/${b.id}/commands`, {
          method: 'POST',
          headers: { authorization: `Bearer ${r.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const rec = (await res.json()) as { id?: string };
        sent.push({ b, at, requestId, ...(rec.id ? { id: rec.id } : {}) });
      }
      await sleep(spacingMs);
    }
    await sleep(3000); // arm travel is 400 ms; confirmation follows the next reads
  } finally {
    await client?.endAsync().catch(() => undefined);
  }
  const byControl = new Map<string, Map<number, SimCommand[]>>();
  for (const c of new Set(targets.map((b) => b.control))) byControl.set(c, await simCommands(c));
  const firstWrite: number[] = [];
  const confirmed: number[] = [];
  let failed = 0;
  for (const s of sent) {
    const logged = byControl.get(s.b.control)?.get(s.b.unit) ?? [];
    const w = logged.find((c) => c.action === 'open' && c.atMs >= s.at - 1);
    if (w) firstWrite.push(w.atMs - s.at);
    const id = s.id ?? results.get(s.requestId)?.id;
    if (!id) {
      failed++;
      continue;
    }
    const res = await fetch(`${r.api}/api/v1/commands/${id}`, {
      headers: { authorization: `Bearer ${r.token}` },
      signal: AbortSignal.timeout(10_000),
    });
    const rec = (await res.json()) as { state: string; history: { state: string; at: string }[] };
    const acc = rec.history.find((h) => h.state === 'accepted');
    const conf = rec.history.find((h) => h.state === 'confirmed');
    if (acc && conf) confirmed.push(Date.parse(conf.at) - Date.parse(acc.at));
    else failed++;
  }
  void l;
  return { firstWrite, confirmed, failed };
}

/** The ceiling: a bare Node process on this machine, now — its event-loop delay p99 over `ms` (idle timer loop). */
async function bareLoopDelay(ms: number): Promise<number> {
  const code =
    `const {monitorEventLoopDelay}=require('perf_hooks');const h=monitorEventLoopDelay({resolution:${ELD_RESOLUTION_MS}});` +
    `h.enable();setTimeout(()=>{console.log(h.percentile(99)/1e6)},${ms});`;
  const { startProcess } = await import('../device-sims/harness/child.ts');
  const p = startProcess(process.execPath, ['-e', code]);
  const line = await p.waitFor(/^\d/, ms + 10_000);
  await p.stop();
  return Number(line) - ELD_RESOLUTION_MS;
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

export const run: BenchRun = async ({ quick, log }) => {
  // SCALE_SIZES=500 SCALE_PROFILE_DIR=/tmp/prof: one size, the gateway under --cpu-prof (for profiling).
  const sizes = process.env.SCALE_SIZES?.split(',').map(Number) ?? (quick ? [50, 500] : [50, 200, 500]);
  const prof = process.env.SCALE_PROFILE_DIR;
  const nodeFlags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const windowS = quick ? 20 : 30;
  const settleS = quick ? 5 : 10;
  const nCommands = quick ? 20 : 50;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-scale-'));
  const influxd = await launchInfluxd(path.join(dir, 'influxdb'));
  const lines: string[] = [];
  const ratios: BenchResult['ratios'] = [];
  const rows: SizeResult[] = [];
  let cmd: { api: CommandRun; mqtt: CommandRun; sync: { p50: number; p99: number; n: number } } | undefined;
  let startup: { readyMs: number; polledMs: number } | undefined;
  let bareEld = NaN;
  try {
    bareEld = await bareLoopDelay(5000);
    log(`scale: ceiling — a bare Node loop's event-loop delay p99 now: ${f1(bareEld)} ms (load ${load1()})`);
    for (const n of sizes) {
      const { probes, tcp, rtu } = split(n);
      log(`scale: ${n} devices (${tcp} Modbus TCP, ${rtu} RTU-over-TCP, ${probes} ONVIF probes)`);
      const l = await launch(n);
      const sub = mkdtempSync(path.join(dir, `n${n}-`));
      let r: Running | undefined;
      try {
        r = await startGateway(l, influxd.url, sub, nodeFlags);
        log(
          `scale: ${n}: ready line ${f1(r.readyLineAt - r.startedAt)} ms, all polled ${f1(r.allPolledAt - r.startedAt)} ms; ${l.sims.length} simulator processes`,
        );
        await sleep(settleS * 1000);
        const row = await measure(l, r, influxd, windowS);
        rows.push(row);
        log(
          `scale: ${n}: cpu ${f1(row.cpuPct)} % rss ${f1(row.rss)} MB heap ${f1(row.heapMb)} MB lateness p50/p99 ${f2(row.lateP50)}/${f2(row.lateP99)} ms ` +
            `(${row.lateOver} of ${row.latePolls} later than an interval) eld p99 ${f1(row.eldP99)} ms ` +
            `points/s ${f1(row.pointsPerS)} sims cpu ${f1(row.simCpuPct)} % influxd ${f1(row.influxCpuPct)} % load ${row.load}`,
        );
        if (n === sizes.at(-1)) {
          const quiet = l.barriers.filter((b) => b.quiet && b.transport === 'tcp');
          log(`scale: ${n}: ${nCommands} API and ${nCommands} MQTT opens, one per barrier`);
          const before = await scrape(r.api);
          const api = await commands(r, l, 'api', quiet.slice(0, nCommands), 100);
          const mq = await commands(r, l, 'mqtt', quiet.slice(nCommands, 2 * nCommands), 100);
          // The floor under every command: the audit line it waits for before its first write.
          const sync = buckets(await scrape(r.api), 'gatehouse_audit_sync_seconds', [], before);
          cmd = {
            api,
            mqtt: mq,
            sync: {
              p50: quantile(sync, 0.5) * 1000,
              p99: quantile(sync, 0.99) * 1000,
              n: sync.at(-1)?.[1] ?? 0,
            },
          };
        }
      } finally {
        await r?.stop();
        await l.stop();
        rmSync(sub, { recursive: true, force: true });
      }
    }
    // Start-up of a 50-device village: process start → ready line → every device polled once.
    log('scale: start-up, 50 devices, best of 3');
    const l = await launch(50);
    try {
      const runs: { readyMs: number; polledMs: number }[] = [];
      for (let i = 0; i < 3; i++) {
        const sub = mkdtempSync(path.join(dir, `startup-${i}-`));
        const r = await startGateway(l, influxd.url, sub);
        runs.push({ readyMs: r.readyLineAt - r.startedAt, polledMs: r.allPolledAt - r.startedAt });
        await r.stop();
        rmSync(sub, { recursive: true, force: true });
      }
      log(`scale: start-up runs: ${runs.map((x) => `${f1(x.readyMs)}/${f1(x.polledMs)} ms`).join(', ')}`);
      startup = runs.reduce((a, b) => (b.polledMs < a.polledMs ? b : a));
    } finally {
      await l.stop();
    }
  } finally {
    await influxd.proc.stop(10_000);
    rmSync(dir, { recursive: true, force: true });
  }

  const last = rows.at(-1)!;
  lines.push(
    `Gateway from dist/ as its own process; simulators in ≤ 8 processes; a measured window of ${windowS} s at each size after ${settleS} s of settling. ` +
      `Ceiling in the same run: a bare Node process's event-loop delay p99 ${f1(bareEld)} ms. ` +
      `Event-loop delay is prom-client's monitorEventLoopDelay p99 minus its ${ELD_RESOLUTION_MS} ms resolution.`,
    '',
    '| devices (TCP / RTU / probes) | sim procs | gateway CPU % of a core | RSS MB | heap used MB | poll lateness p50 / p99 ms | polls later than an interval | event-loop p99 ms | points/s | readings/s | poll errors | simulators CPU % | influxd CPU % | load 1 min |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (x) =>
        `| ${x.n} (${x.barriers - x.rtu} / ${x.rtu} / ${x.probes}) | ${x.simProcs} | ${f1(x.cpuPct)} | ${f1(x.rss)} | ${f1(x.heapMb)} | ${f2(x.lateP50)} / ${f2(x.lateP99)} | ${x.lateOver} of ${x.latePolls} | ${f1(x.eldP99)} | ${f1(x.pointsPerS)} | ${f1(x.readingsPerS)} | ${x.pollErrors} | ${f1(x.simCpuPct)} | ${f1(x.influxCpuPct)} | ${x.load} |`,
    ),
  );
  const met = (ok: boolean) => (ok ? 'met' : 'not met');
  lines.push(
    '',
    `- at ${last.n}: CPU ${f1(last.cpuPct)} % (target < 25 %: ${met(last.cpuPct < 25)}), RSS ${f1(last.rss)} MB (< 150: ${met(last.rss < 150)}), ` +
      `no poll later than one interval (${last.lateOver} late: ${met(last.lateOver === 0)}), event-loop p99 ${f1(last.eldP99)} ms (< 20: ${met(last.eldP99 < 20)})`,
  );
  ratios.push(
    { label: `scale ${last.n}: gateway CPU % of one core`, value: last.cpuPct, max: 25 },
    { label: `scale ${last.n}: RSS MB`, value: last.rss, max: 150 },
    { label: `scale ${last.n}: polls later than one interval`, value: last.lateOver, max: 1 },
    { label: `scale ${last.n}: event-loop delay p99 ms`, value: last.eldP99, max: 20 },
    {
      label: `scale ${last.n}: event-loop p99 vs bare Node loop (×)`,
      value: last.eldP99 / Math.max(0.01, bareEld),
    },
  );
  if (cmd) {
    const row = (name: string, c: CommandRun) =>
      `| ${name} | ${c.firstWrite.length} | ${f2(pct(c.firstWrite, 50))} / ${f2(pct(c.firstWrite, 99))} | ${f1(pct(c.confirmed, 50))} / ${f1(pct(c.confirmed, 99))} | ${c.failed} |`;
    lines.push(
      '',
      `Commands at ${last.n} devices (open, one per Modbus TCP barrier, 100 ms apart; first write timestamped by the simulator on receipt; confirmed from the command record's history, ms resolution, includes 400 ms of simulated arm travel):`,
      '',
      '| path | commands | → first write p50 / p99 ms | accepted → confirmed p50 / p99 ms | not confirmed |',
      '|---|---:|---:|---:|---:|',
      row('API POST → first Modbus write', cmd.api),
      row('MQTT <device>/cmd → first Modbus write', cmd.mqtt),
      '',
      `- API → first write p99 ${f2(pct(cmd.api.firstWrite, 99))} ms (target < 5 ms: ${met(pct(cmd.api.firstWrite, 99) < 5)}); MQTT ${f2(pct(cmd.mqtt.firstWrite, 99))} ms (${met(pct(cmd.mqtt.firstWrite, 99) < 5)})`,
      `- ceiling in the same run: the audit log's fdatasync, which every command waits for before its first write, p50 ${f2(cmd.sync.p50)} / p99 ${f2(cmd.sync.p99)} ms over ${cmd.sync.n} syncs (gatehouse_audit_sync_seconds, interpolated in its buckets)`,
    );
    ratios.push(
      {
        label: `scale ${last.n}: API → first write p99 vs audit fdatasync p99 (×)`,
        value: pct(cmd.api.firstWrite, 99) / Math.max(0.001, cmd.sync.p99),
      },
      { label: `scale ${last.n}: API → first write p99 ms`, value: pct(cmd.api.firstWrite, 99), max: 5 },
      { label: `scale ${last.n}: MQTT → first write p99 ms`, value: pct(cmd.mqtt.firstWrite, 99), max: 5 },
    );
  }
  if (startup) {
    lines.push(
      '',
      `- start-up, 50 devices from dist/ (best of 3): process start → "gateway ready" ${f1(startup.readyMs)} ms, → every device polled once ${f1(startup.polledMs)} ms (target < 2000 ms: ${met(startup.polledMs < 2000)})`,
    );
    ratios.push({ label: 'start-up 50 devices → all polled, ms', value: startup.polledMs, max: 2000 });
  }
  for (const x of lines) log(x);
  return { name: 'scale', lines, ratios };
};
