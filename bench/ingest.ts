import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Influx from 'influx';
import pino from 'pino';
import { Bus, type BusMessage } from '../gateway/core/bus.ts';
import { InfluxSink } from '../gateway/sinks/influx/influx-sink.ts';
import { resolveInfluxSinkConfig } from '../gateway/sinks/influx/config.ts';
import { serializePoint } from '../gateway/sinks/influx/line-protocol.ts';
import { INTEGER_FIELDS, toPoint } from '../gateway/sinks/influx/points.ts';
import { startInfluxd, type Influxd } from '../test/helpers/influxd.ts';
import type { BenchResult, BenchRun } from './types.ts';

/**
 * Canonical ingest: bus → InfluxSink → influxd, against the ceiling of raw line-protocol
 * POSTs to the same influxd in the same run (one writer, 5,000-point batches, 1,000
 * series), plus node-influx writePoints for reference. Each method writes the same
 * points into its own fresh database; every method runs twice, alternating, and the
 * better run counts (the VM is shared). Bounded: a fixed point count per run and a
 * deadline for the whole benchmark.
 */

const SERIES = 1000;
const BATCH = 5000;
const DEADLINE_MS = 150_000;

/** CPU seconds used so far by a process (utime + stime from /proc), to show where the time goes. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

interface Measured {
  ms: number;
  /** CPU seconds of influxd and of this process during the run. */
  influxCpu: number;
  ownCpu: number;
}

async function measure(influx: Influxd, fn: () => Promise<void>): Promise<Measured> {
  const pid = influx.proc()!.pid;
  const c0 = cpuSeconds(pid);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const own = process.cpuUsage(own0);
  return { ms, influxCpu: cpuSeconds(pid) - c0, ownCpu: (own.user + own.system) / 1e6 };
}

function messages(n: number): BusMessage[] {
  const base = Date.now() - 6 * 3600_000;
  const out: BusMessage[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const s = k % SERIES;
    out[k] = {
      type: 'telemetry',
      device: { id: `barrier-${s}`, kind: 'barrier', site: `site-${s % 10}`, lane: s % 2 ? 'in' : 'out' },
      fields: {
        arm_state: k % 3 ? 'closed' : 'open',
        arm_angle_deg: (k * 7) % 90,
        loop_occupied: k % 5 === 0,
        photo_eye_blocked: false,
        fault_code: 0,
        cycles: k,
        vehicles_in: k >> 1,
        motor_current_a: 1.5 + (k % 10) / 10,
        cabinet_temp_c: 21.5,
        supply_v: 24.2,
      },
      time: base + Math.floor(k / SERIES) * 1000,
    };
  }
  return out;
}

/** The raw ceiling: pre-serialized batches POSTed one after the other on a keep-alive socket. */
async function rawWrites(influx: Influxd, db: string, batches: Buffer[]): Promise<Measured> {
  await influx.query(`CREATE DATABASE ${db}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(`${influx.url}/write?db=${db}&precision=ms`);
  const post = (body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        url,
        { method: 'POST', agent, headers: { 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 204 ? resolve() : reject(new Error(`raw write ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const m = await measure(influx, async () => {
    for (const b of batches) await post(b);
  });
  agent.destroy();
  return m;
}

async function pipeline(influx: Influxd, db: string, msgs: BusMessage[], dataDir: string): Promise<Measured> {
  const sink = new InfluxSink({
    config: resolveInfluxSinkConfig({ url: influx.url, database: db, batchSize: BATCH }),
    village: 'bench',
    dataDir,
    logger: pino({ level: 'warn' }),
  });
  await sink.start();
  const bus = new Bus();
  bus.subscribe((m) => sink.handle(m));
  const m = await measure(influx, async () => {
    for (let i = 0; i < msgs.length; i += BATCH) {
      const end = Math.min(i + BATCH, msgs.length);
      for (let k = i; k < end; k++) bus.publish(msgs[k]!);
      // A live source yields between polls; keep a couple of batches queued, as a steady poller would.
      await new Promise((r) => setImmediate(r));
      while (sink.stats().queue_depth! > 2 * BATCH) await new Promise((r) => setTimeout(r, 1));
    }
    await sink.flush();
  });
  const s = sink.stats();
  await sink.close();
  if (s.points_written !== msgs.length)
    throw new Error(`pipeline wrote ${s.points_written} of ${msgs.length}`);
  return m;
}

async function nodeInflux(influx: Influxd, db: string, msgs: BusMessage[]): Promise<Measured> {
  const client = new Influx.InfluxDB({ host: '127.0.0.1', port: influx.httpPort, database: db });
  await client.createDatabase(db);
  const points: Influx.IPoint[] = msgs.map((m) => {
    const p = toPoint(m, 'bench');
    return { measurement: p.measurement, tags: p.tags, fields: p.fields, timestamp: p.time };
  });
  return measure(influx, async () => {
    for (let i = 0; i < points.length; i += BATCH) {
      await client.writePoints(points.slice(i, i + BATCH), { precision: 'ms' });
    }
  });
}

async function count(influx: Influxd, db: string): Promise<number> {
  const s = await influx.query('SELECT count(cycles) FROM barrier', db);
  return Number(s[0]?.values[0]?.[1] ?? 0);
}

type Method = 'raw' | 'pipeline' | 'nodeInflux';

export const run: BenchRun = async ({ quick, log }) => {
  const n = quick ? 50_000 : 150_000;
  const rounds = quick ? 2 : 3;
  const deadline = Date.now() + DEADLINE_MS;
  const msgs = messages(n);
  // The raw ceiling's batches, serialized up front. Built batch by batch so no array of
  // 150k line strings stays alive to weigh on the garbage collector during the runs.
  const batches: Buffer[] = [];
  for (let i = 0; i < n; i += BATCH) {
    const lines = msgs.slice(i, i + BATCH).map((m) => {
      const p = toPoint(m, 'bench');
      return serializePoint(p, INTEGER_FIELDS[p.measurement]);
    });
    batches.push(Buffer.from(lines.join('')));
  }

  const influx = await startInfluxd();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-bench-ingest-'));
  const runs: Record<Method, Measured[]> = { raw: [], pipeline: [], nodeInflux: [] };
  try {
    for (let round = 0; round < rounds && Date.now() < deadline; round++) {
      // Alternate which goes first: influxd slows as its databases grow and the VM is shared.
      const order: Method[] =
        round % 2 ? ['pipeline', 'raw', 'nodeInflux'] : ['raw', 'pipeline', 'nodeInflux'];
      for (const method of order) {
        const db = `${method}${round}`;
        const m =
          method === 'raw'
            ? await rawWrites(influx, db, batches)
            : method === 'pipeline'
              ? await pipeline(influx, db, msgs, path.join(dataDir, db))
              : await nodeInflux(influx, db, msgs);
        const c = await count(influx, db);
        if (c !== n) throw new Error(`${method}: influxd holds ${c} of ${n} points`);
        runs[method].push(m);
      }
      const r = (x: Measured | undefined) => (x ? Math.round(n / (x.ms / 1000)) : 0);
      log(
        `round ${round + 1}: raw ${r(runs.raw[round])} pts/s, pipeline ${r(runs.pipeline[round])} pts/s, node-influx ${r(runs.nodeInflux[round])} pts/s`,
      );
    }
  } finally {
    await influx.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const best = (method: Method) => runs[method].reduce((a, b) => (b.ms < a.ms ? b : a));
  const raw = best('raw');
  const pipe = best('pipeline');
  const ni = best('nodeInflux');
  const rate = (m: Measured) => Math.round(n / (m.ms / 1000)).toLocaleString('en');
  const us = (cpu: number) => ((cpu / n) * 1e6).toFixed(1);
  const row = (label: string, m: Measured) =>
    `| ${label} | ${rate(m)} | ${Math.round((raw.ms / m.ms) * 100)} % | ${us(m.influxCpu)} | ${us(m.ownCpu)} |`;
  const result: BenchResult = {
    name: 'ingest',
    lines: [
      `Canonical ingest, ${n.toLocaleString('en')} barrier points (10 fields), ${SERIES} series, ${BATCH}-point batches, one writer, best of ${runs.raw.length} alternating runs:`,
      '',
      '| path | points/s | vs raw | influxd CPU µs/point | gateway CPU µs/point |',
      '|---|---:|---:|---:|---:|',
      row('raw line protocol → influxd (ceiling)', raw),
      row('bus → InfluxSink → influxd', pipe),
      row('node-influx writePoints → influxd', ni),
    ],
    ratios: [
      { label: 'ingest vs raw influxd', value: raw.ms / pipe.ms, target: 0.8 },
      { label: 'node-influx vs raw influxd', value: raw.ms / ni.ms },
    ],
  };
  return result;
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run({ quick: process.argv.includes('--quick'), log: (l) => console.log(l) });
  console.log(r.lines.join('\n'));
}
