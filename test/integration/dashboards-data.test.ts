import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusMessage, DeviceRef } from '../../gateway/core/bus.ts';
import { resolveInfluxSinkConfig } from '../../gateway/sinks/influx/config.ts';
import { InfluxSink } from '../../gateway/sinks/influx/influx-sink.ts';
import { DOWNSAMPLED_MEASUREMENTS } from '../../gateway/sinks/influx/points.ts';
import { downsampleSelect } from '../../gateway/sinks/influx/schema.ts';
import { startInfluxd, type Influxd, type QuerySeries } from '../helpers/influxd.ts';
import { ROOT } from '../helpers/procs.ts';

/**
 * The Grafana dashboards, run on data: three villages of canonical points written by the
 * gateway's own InfluxDB sink (and downsampled by the continuous queries' own SELECT)
 * into a real influxd; then every panel's, variable's and annotation's InfluxQL, with
 * Grafana's template variables substituted as Grafana does, must return series.
 */

const DIR = path.join(ROOT, 'dashboards', 'grafana', 'dashboards');
const DB = 'gatehouse';
const VILLAGES = ['oakfield', 'elmbrook', 'ashby'];
const MIN = 60_000;
const NOW = Date.now();
/** Three days back at 10 minutes, the last three hours at one minute: the long-range panels need days. */
const TIMES = [
  ...Array.from({ length: (3 * 24 * 60 - 180) / 10 }, (_, i) => NOW - 3 * 24 * 60 * MIN + i * 10 * MIN),
  ...Array.from({ length: 180 }, (_, i) => NOW - 180 * MIN + i * MIN),
];

interface Variable {
  name: string;
  query?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
interface Target {
  refId: string;
  query: string;
}
interface Panel {
  type: string;
  title?: string;
  timeFrom?: string;
  /** The panel's minimum interval. */
  interval?: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  time: { from: string };
  panels: Panel[];
  templating: { list: Variable[] };
  annotations?: { list: { name: string; query?: string }[] };
}

const flatten = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...flatten(p.panels ?? [])]);
const dashboards = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as Dashboard);

/**
 * What goes wrong in each village in the last half hour. Ashby (the first a variable
 * offers) has every kind of problem, so every panel has something to show for it alone.
 */
const TROUBLE: Record<string, { silent?: number; fault?: number; irFault?: boolean }> = {
  ashby: { fault: 0, silent: 1, irFault: true },
  elmbrook: { irFault: true },
  oakfield: { fault: 1 },
};

/** The demo town: what each village's gateway would have written over three days. */
function villageMessages(village: string, vi: number): BusMessage[] {
  const trouble = TROUBLE[village]!;
  const site = `${village}-lot`;
  const barriers: DeviceRef[] = [1, 2, 3].map((n) => ({
    id: `barrier-${n}`,
    kind: 'barrier',
    site,
    lane: `lane-${n}`,
  }));
  const probe: DeviceRef = { id: 'cam-1', kind: 'probe', site, lane: 'lane-1' };
  const out: BusMessage[] = [];
  TIMES.forEach((time, i) => {
    const recent = time > NOW - 30 * MIN;
    const hourOfDay = new Date(time).getHours();
    const night = hourOfDay < 6 || hourOfDay >= 20 || recent; // the test's "now" is a night
    for (const [bi, b] of barriers.entries()) {
      const fault = trouble.fault === bi && recent;
      const silent = trouble.silent === bi && recent;
      if (!silent) {
        out.push({
          type: 'telemetry',
          device: b,
          time,
          fields: {
            arm_state: fault ? 'stopped' : i % 3 === 0 ? 'open' : 'closed',
            arm_angle_deg: i % 3 === 0 ? 90 : 0,
            loop_occupied: i % 3 === 0,
            photo_eye_blocked: false,
            fault_code: fault ? 1 : 0,
            cycles: 1000 + i,
            vehicles_in: 500 + i * (bi + 1),
            vehicles_out: 480 + i * (bi + 1) - (i % 4 === 0 ? 1 : 0),
            motor_current_a: 1.2 + (i % 5) / 10,
            cabinet_temp_c: 15 + (i % 7),
            supply_v: 24 - (i % 3) / 10,
          },
        });
      }
      out.push({
        type: 'health',
        device: b,
        time,
        errors: silent ? 3 : 0,
        ...(silent ? {} : { pollMs: 12 + (i % 5) }),
        health: fault
          ? { status: 'degraded', reason: 'barrier-fault:1', since: '' }
          : silent
            ? { status: 'offline', reason: 'timeout', since: '' }
            : { status: 'online', since: '' },
      });
      if (i % 5 === 0 && !silent) {
        out.push({
          type: 'event',
          device: b,
          time: time + 1,
          event: { type: i % 10 === 0 ? 'passage-in' : 'passage-out', detail: 'vehicle passed' },
        });
      }
      if (fault && time === TIMES.find((t) => t > NOW - 30 * MIN)) {
        out.push({
          type: 'event',
          device: b,
          time: time + 2,
          event: { type: 'fault', detail: 'motor overcurrent' },
        });
      }
    }
    // A camera that sees black at night: its IR illuminator is out.
    const irFault = Boolean(trouble.irFault) && night;
    out.push({
      type: 'telemetry',
      device: probe,
      time,
      fields: {
        online: true,
        clock_skew_s: 0.2 * vi + (i % 3) / 10,
        snapshot_ms: 120 + (i % 9) * 10,
        snapshot_luma: irFault ? 3 : night ? 40 : 120,
        ir_mode: 'auto',
        night,
        motion: i % 7 === 0,
        tamper: false,
        stream_ok: true,
      },
    });
    out.push({
      type: 'health',
      device: probe,
      time,
      errors: 0,
      pollMs: 150 + (i % 4) * 10,
      health: irFault
        ? { status: 'degraded', reason: 'ir-fault', since: '' }
        : { status: 'online', since: '' },
    });
    if (i % 30 === 0) {
      out.push({
        type: 'event',
        device: probe,
        time: time + 3,
        event: { type: 'health', detail: 'offline (timeout) → online' },
      });
    }
    out.push({
      type: 'gateway',
      time,
      fields: {
        cpu: 2 + (i % 4),
        rss_mb: 90 + vi * 5,
        spool_bytes: village === 'ashby' ? i * 100 : 0,
        queue_depth: i % 6,
        points_written: i * 40,
        points_dropped: 0,
      },
    });
  });
  // Gate commands through the day, the last a moment ago: accepted, executing, confirmed.
  for (const [k, at] of [NOW - 5 * 60 * MIN, NOW - 2 * 60 * MIN, NOW - 20_000].entries()) {
    for (const [j, state] of ['accepted', 'executing', 'confirmed'].entries()) {
      out.push({
        type: 'event',
        device: barriers[0]!,
        time: at + j * 500,
        event: {
          type: 'command',
          detail: `open ${state}`,
          commandId: `cmd-${village}-${k}`,
          actor: 'api:fee-system',
        },
      });
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

/** Grafana's `$timeFilter` and the range a panel sees (its own relative time wins). */
function range(dash: Dashboard, panel?: Panel): { from: number; to: number } {
  const rel = panel?.timeFrom ?? dash.time.from.replace(/^now-/, '');
  if (rel === 'now/d') {
    const midnight = new Date(NOW);
    midnight.setHours(0, 0, 0, 0);
    return { from: midnight.getTime(), to: NOW };
  }
  const m = /^(\d+)([mhd])$/.exec(rel);
  if (!m) throw new Error(`relative time ${rel} not understood by this test`);
  const unit = { m: MIN, h: 60 * MIN, d: 24 * 60 * MIN }[m[2] as 'm' | 'h' | 'd'];
  return { from: NOW - Number(m[1]) * unit, to: NOW };
}

/** Regex-safe, as Grafana's InfluxDB datasource escapes values of multi-value variables. */
const escapeRegex = (v: string) => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

/** A variable's value as Grafana writes it into a `=~ /^$var$/` regex. */
function formatted(v: Variable, values: string[]): string {
  if (values.length === 1 && !v.multi && !v.includeAll) return values[0]!;
  if (values.length === 1) return escapeRegex(values[0]!);
  return `(${values.map(escapeRegex).join('|')})`;
}

/** Grafana's `$__interval` for a panel: a minute here, or the panel's minimum interval. */
function interval(panel?: Panel): number {
  const m = /^(\d+)m$/.exec(panel?.interval ?? '');
  return Math.max(1, m ? Number(m[1]) : 1);
}

function substitute(
  q: string,
  vars: Record<string, string>,
  r: { from: number; to: number },
  panel?: Panel,
): string {
  return q
    .replaceAll('$timeFilter', `time >= ${r.from}ms and time <= ${r.to}ms`)
    .replaceAll('$__interval_ms', String(interval(panel) * MIN))
    .replaceAll('$__interval', `${interval(panel)}m`)
    .replace(/\$\{?(\w+)\}?/g, (whole, name: string) => vars[name] ?? whole);
}

/** True when some series has a row with a non-null value besides its time. */
const hasData = (series: QuerySeries[]) =>
  series.some((s) => s.values.some((row) => row.some((v, i) => s.columns[i] !== 'time' && v !== null)));

let influx: Influxd;

beforeAll(async () => {
  influx = await startInfluxd();
  const quiet = pino({ level: 'silent' });
  for (const [vi, village] of VILLAGES.entries()) {
    const sink = new InfluxSink({
      config: resolveInfluxSinkConfig({ url: influx.url, database: DB, flushIntervalMs: 50 }),
      village,
      dataDir: mkdtempSync(path.join(os.tmpdir(), 'gh-dash-')),
      logger: quiet,
    });
    await sink.start();
    for (const msg of villageMessages(village, vi)) sink.handle(msg);
    await sink.flush();
    expect(sink.stats().points_dropped).toBe(0);
    await sink.close();
  }
  // What the continuous queries would have made of it, by their own SELECT, over all of it.
  const since = `time >= ${NOW - 4 * 24 * 60 * MIN}ms AND time <= ${NOW}ms`;
  for (const m of DOWNSAMPLED_MEASUREMENTS) await influx.query(downsampleSelect(DB, m, since), DB);
}, 120_000);
afterAll(() => influx?.destroy());

describe.each(dashboards.map((d) => [d.uid, d] as const))('dashboard %s on data', (_uid, dash) => {
  /** Variables resolved as Grafana does: each one's own query, with the ones before it filled in. */
  async function variables(pick: 'all' | 'first'): Promise<Record<string, string>> {
    const vars: Record<string, string> = {};
    for (const v of dash.templating.list) {
      const series = await influx.query(substitute(v.query!, vars, range(dash)), DB);
      const values = series.flatMap((s) => s.values.map((row) => String(row[s.columns.indexOf('value')])));
      expect(values.length, `variable ${v.name}: ${v.query}`).toBeGreaterThan(0);
      if (v.name === 'village') expect(values.sort()).toEqual([...VILLAGES].sort());
      vars[v.name] = pick === 'all' && v.includeAll ? v.allValue! : formatted(v, [values.sort()[0]!]);
    }
    return vars;
  }

  const queries = () => [
    ...flatten(dash.panels)
      .filter((p) => p.type !== 'row')
      .flatMap((p) =>
        (p.targets ?? []).map((t) => ({ where: `${p.title} ${t.refId}`, q: t.query, panel: p })),
      ),
    ...(dash.annotations?.list ?? [])
      .filter((a) => a.query)
      .map((a) => ({ where: `annotation ${a.name}`, q: a.query!, panel: undefined })),
  ];

  for (const pick of ['all', 'first'] as const) {
    it(`every query returns series (${pick === 'all' ? 'all villages' : 'one village, one device'})`, async () => {
      const vars = await variables(pick);
      const empty: string[] = [];
      for (const { where, q, panel } of queries()) {
        const sql = substitute(q, vars, range(dash, panel), panel);
        expect(sql, where).not.toMatch(/\$\{?\w+/);
        const series = await influx.query(sql, DB);
        if (!hasData(series)) empty.push(`${where}: ${sql}`);
      }
      expect(empty).toEqual([]);
    });
  }
});

describe('the town overview on data', () => {
  const town = dashboards.find((d) => d.uid === 'gatehouse-town-overview')!;
  const run = async (title: string) => {
    const panel = flatten(town.panels).find((p) => p.title === title)!;
    const sql = substitute(panel.targets![0]!.query, { village: '.*' }, range(town, panel));
    return influx.query(sql, DB);
  };
  const byVillage = (series: QuerySeries[]) =>
    Object.fromEntries(series.map((s) => [s.tags?.village, s.values.at(-1)?.[1]]));

  it('counts devices with problems per village, and villages online', async () => {
    expect(byVillage(await run('Devices with problems per village'))).toEqual({
      ashby: 3,
      elmbrook: 1,
      oakfield: 1,
    });
    const online = await run('Villages online');
    expect(online[0]!.values[0]![1]).toBe(3);
  });

  it("counts each village's commands once, not once per state", async () => {
    const commands = byVillage(await run('Commands today per village'));
    for (const v of VILLAGES) expect(commands[v]).toBeGreaterThanOrEqual(1);
    for (const v of VILLAGES) expect(commands[v]).toBeLessThanOrEqual(3);
  });
});
