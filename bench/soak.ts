/**
 * `npm run soak -- --minutes N`: the demo village (simulators as their own processes, an
 * influxd when installed) and the gateway from dist/ as a process, with faults injected on
 * a schedule; the gateway's RSS, heap, handles and event-loop delay are sampled every
 * minute into bench/soak-<date>.csv and drawn into bench/soak-<date>.svg. A flat line is
 * the pass: the slope per hour of each is printed. Not part of `npm run bench` or CI.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../device-sims/harness/child.ts';
import { launchInfluxd } from '../device-sims/harness/influxd.ts';
import { hasCommand } from '../device-sims/harness/which.ts';
import { PROBE_PASSWORD_ENV, villageYaml } from '../device-sims/village/config.ts';
import { devicesUp } from '../device-sims/village/gateway-proc.ts';
import { launchVillage, type Village } from '../device-sims/village/launch.ts';
import { cpuSeconds, load1, rssMb, scrape, sleep, startDistGateway, sum } from './gateway-run.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    'interval-s': { type: 'string', default: '60' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(`usage: npm run soak -- [--minutes N] [--interval-s S]

The demo village (4 barriers, 2 of them on an RTU line, 4 probes, influxd) and the gateway
from dist/ (npm run build first) for N minutes (default 30), faults injected on a schedule,
the gateway sampled every S seconds (default 60) into bench/soak-<date>.csv and .svg.`);
  process.exit(0);
}
const minutes = Number(values.minutes);
const intervalS = Number(values['interval-s']);
if (!(minutes > 0 && minutes <= 24 * 60) || !(intervalS >= 5 && intervalS <= 600)) {
  console.error('--minutes must be 1-1440 and --interval-s 5-600');
  process.exit(2);
}

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));

/** One fault on, then off a minute later; the schedule repeats. */
type Fault = { what: string; on: () => Promise<void>; off: () => Promise<void> };

async function post(url: string, body: unknown): Promise<void> {
  await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  }).catch(() => undefined);
}

function faultSchedule(v: Village): Fault[] {
  const faults: Fault[] = [];
  const barrier = (i: number, fault: string) => {
    const b = v.barriers[i % v.barriers.length]!;
    faults.push({
      what: `${b.id} ${fault}`,
      on: () => post(`${b.control}/fault`, { unit: b.unit, fault, active: true }),
      off: () => post(`${b.control}/fault`, { unit: b.unit, fault, active: false }),
    });
  };
  const probe = (i: number, fault: string) => {
    const p = v.probes[i % v.probes.length];
    if (!p) return;
    faults.push({
      what: `${p.id} ${fault}`,
      on: () => post(`${p.control}/fault`, { fault, active: true }),
      off: () => post(`${p.control}/fault`, { fault, active: false }),
    });
  };
  barrier(0, 'motor-overcurrent');
  probe(0, 'offline');
  barrier(1, 'power-loss');
  probe(1, 'slow');
  barrier(v.barriers.length - 1, 'crc-corruption'); // the RTU line when there is one
  probe(2, 'http-500');
  barrier(2, 'slow-response');
  probe(3, 'ir-failure');
  barrier(0, 'wrong-unit');
  probe(0, 'event-backlog');
  return faults;
}

interface Sample {
  minute: number;
  rssMb: number;
  heapMb: number;
  handles: number;
  eldP99Ms: number;
  cpuPct: number;
  fault: string;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** A small SVG: one panel per series, minutes on x, with the slope per hour in each title. */
function svg(samples: Sample[], title: string, slopes: Record<string, number>): string {
  const series: [keyof Sample, string, string][] = [
    ['rssMb', 'RSS (MB)', '#1f77b4'],
    ['heapMb', 'heap used (MB)', '#2ca02c'],
    ['handles', 'active handles', '#9467bd'],
    ['eldP99Ms', 'event-loop delay p99 (ms)', '#d62728'],
  ];
  const W = 720;
  const PH = 130;
  const L = 60;
  const R = 20;
  const T = 40;
  const xMax = Math.max(1, ...samples.map((s) => s.minute));
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${T + series.length * (PH + 30) + 20}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${L}" y="20" font-size="14">${title}</text>`,
  ];
  series.forEach(([key, label, color], i) => {
    const y0 = T + i * (PH + 30) + 20;
    const ys = samples.map((s) => s[key] as number);
    const yMax = Math.max(1, ...ys) * 1.15;
    const px = (m: number) => L + ((W - L - R) * m) / xMax;
    const py = (v: number) => y0 + PH - (PH * v) / yMax;
    const perH = slopes[key as string];
    out.push(
      `<text x="${L}" y="${y0 - 6}">${label}${perH === undefined || Number.isNaN(perH) ? '' : ` — slope ${perH >= 0 ? '+' : ''}${perH.toFixed(2)}/h`}</text>`,
      `<rect x="${L}" y="${y0}" width="${W - L - R}" height="${PH}" fill="none" stroke="#ccc"/>`,
      `<text x="${L - 4}" y="${y0 + 10}" text-anchor="end">${yMax.toFixed(1)}</text>`,
      `<text x="${L - 4}" y="${y0 + PH}" text-anchor="end">0</text>`,
      `<text x="${W - R}" y="${y0 + PH + 12}" text-anchor="end">${xMax.toFixed(0)} min</text>`,
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${samples.map((s) => `${px(s.minute).toFixed(1)},${py(s[key] as number).toFixed(1)}`).join(' ')}"/>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-soak-'));
const stops: (() => Promise<unknown>)[] = [];
const stopAll = async () => {
  for (const fn of stops.reverse()) await fn().catch(() => undefined);
};
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    stopping = true;
  });
}

try {
  console.log(`soak: ${minutes} min, a sample every ${intervalS} s; data in ${dir}`);
  const village = await launchVillage({ barriers: 4, probes: 4, traffic: 'random' });
  stops.push(() => village.stop());
  let influxUrl: string | undefined;
  if (hasCommand('influxd')) {
    const influxd = await launchInfluxd(path.join(dir, 'influxdb'));
    stops.push(() => influxd.proc.stop(10_000));
    influxUrl = influxd.url;
  }
  const configFile = path.join(dir, 'village.yaml');
  writeFileSync(configFile, villageYaml(village, { brokerHost: '127.0.0.1' }));
  const token = randomBytes(18).toString('base64url');
  const [apiPort, mqttPort] = [await freePort(), await freePort()];
  const gateway = startDistGateway({
    configFile,
    apiPort,
    mqttPort,
    dataDir: path.join(dir, 'data'),
    ...(influxUrl ? { influxUrl } : {}),
    env: {
      GATEHOUSE_API_TOKEN: token,
      GATEHOUSE_MQTT_USER: 'gatehouse',
      GATEHOUSE_MQTT_PASSWORD: randomBytes(12).toString('base64url'),
      [PROBE_PASSWORD_ENV]: village.probes[0]?.password ?? 'unused',
    },
  });
  stops.push(() => gateway.stop(15_000));
  await gateway.waitFor(/gateway ready/, 60_000);
  const api = `http://127.0.0.1:${apiPort}`;
  await devicesUp(api, token);
  console.log(`soak: ${village.barriers.length} barriers and ${village.probes.length} probes online`);

  const faults = faultSchedule(village);
  const samples: Sample[] = [];
  const started = Date.now();
  const endAt = started + minutes * 60_000;
  let active: Fault | undefined;
  let nextFault = 0;
  let lastCpu = cpuSeconds(gateway.pid);
  let lastAt = started;
  await scrape(api); // resets the event-loop histogram: the first sample covers its own interval
  for (let i = 1; Date.now() < endAt && !stopping; i++) {
    // A fault goes on at the start of each interval, the previous one off.
    if (active) await active.off();
    active = faults[nextFault++ % faults.length];
    if (active) await active.on();
    const due = started + i * intervalS * 1000;
    while (Date.now() < Math.min(due, endAt) && !stopping) await sleep(500);
    if (gateway.child.exitCode !== null)
      throw new Error(`the gateway exited:\n${gateway.output().slice(-2000)}`);
    const m = await scrape(api);
    const now = Date.now();
    const cpu = cpuSeconds(gateway.pid);
    const s: Sample = {
      minute: (now - started) / 60_000,
      rssMb: rssMb(gateway.pid),
      heapMb: sum(m, 'gatehouse_nodejs_heap_size_used_bytes') / 2 ** 20,
      handles: sum(m, 'gatehouse_nodejs_active_handles'),
      eldP99Ms: sum(m, 'gatehouse_nodejs_eventloop_lag_p99_seconds') * 1000,
      cpuPct: ((cpu - lastCpu) / ((now - lastAt) / 1000)) * 100,
      fault: active?.what ?? '',
    };
    lastCpu = cpu;
    lastAt = now;
    samples.push(s);
    console.log(
      `soak: ${s.minute.toFixed(1)} min rss ${s.rssMb.toFixed(1)} MB heap ${s.heapMb.toFixed(1)} MB handles ${s.handles} ` +
        `eld p99 ${s.eldP99Ms.toFixed(1)} ms cpu ${s.cpuPct.toFixed(1)} % load ${load1()} (fault: ${s.fault})`,
    );
  }
  if (active) await active.off();

  // Slopes from the second sample on: the first minute holds start-up and JIT warm-up.
  const steady = samples.length > 3 ? samples.slice(1) : samples;
  const hours = steady.map((s) => s.minute / 60);
  const perHour = (key: 'rssMb' | 'heapMb' | 'handles' | 'eldP99Ms') =>
    slope(
      hours,
      steady.map((s) => s[key]),
    );
  const slopes: Record<string, number> = {
    rssMb: perHour('rssMb'),
    heapMb: perHour('heapMb'),
    handles: perHour('handles'),
    eldP99Ms: perHour('eldP99Ms'),
  };
  const date = new Date(started).toISOString().slice(0, 10);
  const durationMin = samples.at(-1)?.minute ?? 0;
  const csv = [
    'minute,rss_mb,heap_used_mb,active_handles,eventloop_p99_ms,cpu_pct,fault',
    ...samples.map(
      (s) =>
        `${s.minute.toFixed(2)},${s.rssMb.toFixed(1)},${s.heapMb.toFixed(2)},${s.handles},${s.eldP99Ms.toFixed(2)},${s.cpuPct.toFixed(2)},${s.fault}`,
    ),
  ].join('\n');
  const csvPath = path.join(BENCH_DIR, `soak-${date}.csv`);
  const svgPath = path.join(BENCH_DIR, `soak-${date}.svg`);
  writeFileSync(csvPath, csv + '\n');
  writeFileSync(
    svgPath,
    svg(
      samples,
      `gatehouse soak ${date}: ${durationMin.toFixed(0)} min, demo village (${village.barriers.length} barriers, ${village.probes.length} probes), faults every ${intervalS} s`,
      slopes,
    ),
  );
  const flat = Math.abs(slopes.rssMb!) < 5 && Math.abs(slopes.heapMb!) < 2 && Math.abs(slopes.handles!) < 2;
  console.log(
    `soak: ${durationMin.toFixed(1)} min, ${samples.length} samples; slope per hour: RSS ${slopes.rssMb!.toFixed(2)} MB, ` +
      `heap ${slopes.heapMb!.toFixed(2)} MB, handles ${slopes.handles!.toFixed(2)}, eld p99 ${slopes.eldP99Ms!.toFixed(2)} ms — ` +
      `${flat ? 'met' : 'not met'} (flat: |RSS| < 5 MB/h, |heap| < 2 MB/h, |handles| < 2/h)`,
  );
  console.log(`soak: wrote ${csvPath} and ${svgPath}`);
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
