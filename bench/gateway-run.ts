/**
 * Helpers for benchmarks that run the gateway as production does: `node dist/gateway/cli/main.js
 * start` as its own process, read from outside (/proc, /metrics, the API) only.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startProcess, type Proc } from '../device-sims/harness/child.ts';
import { gatewayStartArgs, type GatewayProcOptions } from '../device-sims/village/gateway-proc.ts';

export const DIST_MAIN = path.join(ROOT, 'dist', 'gateway', 'cli', 'main.js');

export interface DistGatewayOptions extends Omit<GatewayProcOptions, 'echo'> {
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  nodeFlags?: string[];
}

/** The built gateway as its own process on loopback (run `npm run build` first). */
export function startDistGateway(o: DistGatewayOptions): Proc {
  if (!existsSync(DIST_MAIN)) throw new Error(`${DIST_MAIN} missing: run npm run build first`);
  return startProcess(process.execPath, [...(o.nodeFlags ?? []), DIST_MAIN, ...gatewayStartArgs(o)], {
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn', ...o.env },
  });
}

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ: 100 on every Linux Node runs on). */
const USER_HZ = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) in parentheses.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / USER_HZ;
}

/** Resident set size in MB, from /proc/<pid>/status. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU % of one core of each pid over [from, to] given cpuSeconds snapshots. */
export function cpuPercent(before: number, after: number, seconds: number): number {
  return ((after - before) / seconds) * 100;
}

/** One Prometheus exposition, as `name{labels}` → value (labels as printed). */
export type Metrics = Map<string, number>;

export async function scrape(api: string): Promise<Metrics> {
  const res = await fetch(`${api}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const m: Metrics = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

/** Sum of every series of `name` whose labels contain all of `match` (e.g. 'kind="barrier"'). */
export function sum(m: Metrics, name: string, ...match: string[]): number {
  let s = 0;
  for (const [k, v] of m) {
    const base = k.includes('{') ? k.slice(0, k.indexOf('{')) : k;
    if (base === name && match.every((x) => k.includes(x))) s += v;
  }
  return s;
}

/**
 * A histogram's buckets (cumulative counts by upper bound) from one exposition, summed over
 * the series matching `match`; `minus` subtracts an earlier exposition (a window's delta).
 */
export function buckets(m: Metrics, name: string, match: string[] = [], minus?: Metrics): [number, number][] {
  const acc = new Map<number, number>();
  const add = (src: Metrics, sign: number) => {
    for (const [k, v] of src) {
      if (!k.startsWith(`${name}_bucket{`) || !match.every((x) => k.includes(x))) continue;
      const le = /le="([^"]+)"/.exec(k)![1]!;
      const bound = le === '+Inf' ? Infinity : Number(le);
      acc.set(bound, (acc.get(bound) ?? 0) + sign * v);
    }
  };
  add(m, 1);
  if (minus) add(minus, -1);
  return [...acc].sort((a, b) => a[0] - b[0]);
}

/** A quantile from cumulative buckets, interpolated linearly inside its bucket (as Prometheus does). */
export function quantile(b: [number, number][], q: number): number {
  const total = b.at(-1)?.[1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of b) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

/** Observations above `bound` (which must be one of the buckets). */
export function above(b: [number, number][], bound: number): number {
  const total = b.at(-1)?.[1] ?? 0;
  const at = b.find(([x]) => x === bound)?.[1] ?? 0;
  return total - at;
}

export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The 1-minute load average, from /proc/loadavg. */
export function load1(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}
