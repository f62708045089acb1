import Influx from 'influx';
import type { Logger } from '../../logger.ts';
import { DOWNSAMPLED_MEASUREMENTS } from './points.ts';

/**
 * Database, retention policies and continuous queries, made idempotently with node-influx
 * at start (and again after InfluxDB reports the database missing). Safe to run any
 * number of times against the same server.
 */

export const RAW_RP = 'raw_30d';
export const DOWNSAMPLED_RP = 'downsampled_2y';
export const RETENTION_POLICIES = [
  { name: RAW_RP, duration: '30d', hours: 30 * 24, isDefault: true },
  { name: DOWNSAMPLED_RP, duration: '730d', hours: 730 * 24, isDefault: false },
] as const;
export const DOWNSAMPLE_INTERVAL = '5m';

export function continuousQueryName(measurement: string): string {
  return `cq_${measurement}_${DOWNSAMPLE_INTERVAL}`;
}

/** The SELECT inside each CQ: 5-minute means of every numeric field (strings and booleans are skipped by mean). */
export function downsampleSelect(database: string, measurement: string, where = ''): string {
  const q = (s: string) => `"${s.replace(/"/g, '\\"')}"`;
  return (
    `SELECT mean(*) INTO ${q(database)}.${q(DOWNSAMPLED_RP)}.${q(measurement)} ` +
    `FROM ${q(database)}.${q(RAW_RP)}.${q(measurement)}${where ? ` WHERE ${where}` : ''} ` +
    `GROUP BY time(${DOWNSAMPLE_INTERVAL}), *`
  );
}

export function influxClient(opts: {
  url: string;
  database: string;
  username?: string;
  password?: string;
  timeoutMs: number;
}): Influx.InfluxDB {
  const u = new URL(opts.url);
  return new Influx.InfluxDB({
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
    protocol: u.protocol === 'https:' ? 'https' : 'http',
    path: u.pathname.replace(/\/+$/, ''),
    database: opts.database,
    username: opts.username,
    password: opts.password,
    pool: { maxRetries: 0, requestTimeout: opts.timeoutMs },
  });
}

/** "720h0m0s" → 720 (how InfluxDB reports durations). */
function durationHours(d: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m) return NaN;
  return Number(m[1] ?? 0) + Number(m[2] ?? 0) / 60 + Number(m[3] ?? 0) / 3600;
}

export async function ensureSchema(influx: Influx.InfluxDB, database: string, log?: Logger): Promise<void> {
  await influx.createDatabase(database);
  const existing = await influx.showRetentionPolicies(database);
  for (const rp of RETENTION_POLICIES) {
    const have = existing.find((r) => r.name === rp.name);
    const options = { database, duration: rp.duration, replication: 1, isDefault: rp.isDefault };
    if (!have) {
      await influx.createRetentionPolicy(rp.name, options);
      log?.info({ database, rp: rp.name, duration: rp.duration }, 'influx: retention policy created');
    } else if (durationHours(have.duration) !== rp.hours || have.default !== rp.isDefault) {
      await influx.alterRetentionPolicy(rp.name, options);
      log?.info({ database, rp: rp.name, duration: rp.duration }, 'influx: retention policy altered');
    }
  }
  const cqs = new Set((await influx.showContinousQueries(database)).map((c) => c.name));
  for (const m of DOWNSAMPLED_MEASUREMENTS) {
    const name = continuousQueryName(m);
    if (cqs.has(name)) continue;
    await influx.createContinuousQuery(name, downsampleSelect(database, m), database);
    log?.info({ database, cq: name }, 'influx: continuous query created');
  }
}

/**
 * True when InfluxDB answered but refused the schema statements (a user without admin
 * rights, say): the database may well exist already, so the sink goes on writing rather
 * than spooling forever. Unreachable or failing servers (network errors, 5xx) are false.
 */
export function schemaRefused(err: unknown): boolean {
  if (err instanceof Influx.ResultError) return true;
  const status = (err as { res?: { statusCode?: number } } | null)?.res?.statusCode;
  return status !== undefined && status >= 400 && status < 500;
}
