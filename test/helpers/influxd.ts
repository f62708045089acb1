import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { launchInfluxd } from '../../device-sims/harness/influxd.ts';
import { freePort, type Proc } from './procs.ts';

const execFileP = promisify(execFile);

/** One series of an InfluxQL answer, as /query and `influx -format json` both return it. */
export interface QuerySeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/**
 * A real influxd (1.x) in a temporary directory, bound to random loopback ports.
 * `stop()` ends it by PID; `restart()` starts it again on the same dirs and ports so
 * an outage test sees the same data afterwards.
 */
export interface Influxd {
  url: string;
  httpPort: number;
  dir: string;
  proc(): Proc | undefined;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stop and delete the temporary directory. */
  destroy(): Promise<void>;
  /** InfluxQL over HTTP GET/POST /query; throws on an error in any statement. */
  query(q: string, db?: string): Promise<QuerySeries[]>;
  /** The same through the `influx` command-line client (`-format json`). */
  cli(q: string, db?: string): Promise<QuerySeries[]>;
  /** POST line protocol to /write. */
  write(lines: string, db: string, opts?: { rp?: string; precision?: string }): Promise<void>;
}

interface QueryDoc {
  error?: string;
  results?: { error?: string; series?: QuerySeries[] }[];
}

/** The series of an InfluxQL answer; throws on an error in any statement. */
function seriesOf(doc: QueryDoc, what: string): QuerySeries[] {
  if (doc.error) throw new Error(`${what}: ${doc.error}`);
  return (doc.results ?? []).flatMap((r) => {
    if (r.error) throw new Error(`${what}: ${r.error}`);
    return r.series ?? [];
  });
}

export async function startInfluxd(opts: { readyTimeoutMs?: number } = {}): Promise<Influxd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-influxd-'));
  // Fixed ports, so a restart comes back where the sink under test expects it.
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  let current: Proc | undefined;

  const launch = async () => {
    current = (await launchInfluxd(dir, { httpPort, rpcPort, readyTimeoutMs: opts.readyTimeoutMs })).proc;
  };

  const query = async (q: string, db?: string): Promise<QuerySeries[]> => {
    const body = new URLSearchParams({ q, epoch: 'ms' });
    if (db) body.set('db', db);
    const res = await fetch(`${url}/query`, { method: 'POST', body });
    return seriesOf((await res.json()) as QueryDoc, `influx query "${q}"`);
  };

  const cli = async (q: string, db?: string): Promise<QuerySeries[]> => {
    const args = ['-host', '127.0.0.1', '-port', String(httpPort), '-format', 'json', '-precision', 'ms'];
    if (db) args.push('-database', db);
    args.push('-execute', q);
    const { stdout } = await execFileP('influx', args, { timeout: 20_000 });
    // One JSON document per statement.
    const docs = stdout.split('\n').filter((l) => l.trim());
    return docs.flatMap((l) => seriesOf(JSON.parse(l) as QueryDoc, `influx -execute "${q}"`));
  };

  const write = async (lines: string, db: string, o: { rp?: string; precision?: string } = {}) => {
    const params = new URLSearchParams({ db, precision: o.precision ?? 'ms' });
    if (o.rp) params.set('rp', o.rp);
    const res = await fetch(`${url}/write?${params}`, { method: 'POST', body: lines });
    if (res.status !== 204) throw new Error(`influx write ${res.status}: ${await res.text()}`);
  };

  const stop = async () => {
    const p = current;
    current = undefined;
    if (p) await p.stop(10_000);
  };

  await launch();
  return {
    url,
    httpPort,
    dir,
    proc: () => current,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    query,
    cli,
    write,
  };
}
