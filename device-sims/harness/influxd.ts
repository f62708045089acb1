import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { eventually, freePort, startProcess, type Proc } from './child.ts';

export const INFLUXD_BIN = 'influxd';

/** An influxd (1.x) config bound to loopback ports, with every extra listener off. */
export function influxdConfig(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${dir}/meta"
  logging-enabled = false

[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[retention]
  enabled = true

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  write-tracing = false
  pprof-enabled = false
  max-body-size = 0

[continuous_queries]
  enabled = true
  log-enabled = false
  run-interval = "1s"

[subscriber]
  enabled = false
`;
  // No [[graphite]], [[udp]], [[collectd]] or [[opentsdb]] sections: none of them listen.
}

async function ping(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return res.status === 204;
  } catch {
    return false;
  }
}

export interface InfluxdProcess {
  url: string;
  httpPort: number;
  proc: Proc;
}

/**
 * Start a real influxd whose data lives in `dir`, on `httpPort` (or a free one) of
 * 127.0.0.1, and wait until it answers /ping.
 */
export async function launchInfluxd(
  dir: string,
  opts: { httpPort?: number; rpcPort?: number; readyTimeoutMs?: number } = {},
): Promise<InfluxdProcess> {
  mkdirSync(dir, { recursive: true });
  const httpPort = opts.httpPort ?? (await freePort());
  const rpcPort = opts.rpcPort ?? (await freePort());
  const confPath = path.join(dir, 'influxdb.conf');
  writeFileSync(confPath, influxdConfig(dir, httpPort, rpcPort));
  const url = `http://127.0.0.1:${httpPort}`;
  const proc = startProcess(INFLUXD_BIN, ['run', '-config', confPath], { cwd: dir });
  await eventually(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`influxd exited:\n${proc.output().slice(-2000)}`);
      return ping(url);
    },
    { timeoutMs: opts.readyTimeoutMs ?? 30_000, intervalMs: 100, what: `influxd /ping on ${url}` },
  );
  return { url, httpPort, proc };
}
