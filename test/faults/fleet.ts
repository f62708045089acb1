import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Influxd } from '../helpers/influxd.ts';

/**
 * Steady, countable load for the fault suite. A fleet of MQTT barriers ("seq-0"…) each
 * publish `{seq}` on their own topic; a profile maps seq onto the canonical `cycles`, so
 * every telemetry point the gateway makes carries the sequence number it sampled. Two
 * independent records make the accounting exact: what the gateway emitted (its own
 * `<device>/telemetry` topic, every point with its time) and what reached InfluxDB's
 * /write (a recording proxy: InfluxDB overwrites identical points, so a point written
 * twice only shows on the wire).
 */
export const VILLAGE = 'faultville';
export const P = `gatehouse/v1/${VILLAGE}`;
export const ADMIN = { username: 'admin', password: 'admin-pass' };

export function seqProfile(dir: string): string {
  const file = path.join(dir, 'seq-gate.yaml');
  writeFileSync(
    file,
    [
      'name: seq-gate',
      'kind: barrier',
      'topic: raw',
      'expectedIntervalMs: 100',
      'timeoutFactor: 30',
      'fields:',
      '  cycles: { path: seq }',
      '  arm_angle_deg: { path: ang }',
      '',
    ].join('\n'),
  );
  return file;
}

export function fleetDevices(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `seq-${i}`);
}

/** Village YAML: the fleet polled every pollMs, plus whatever `extra` adds (top-level keys). */
export function fleetYaml(profile: string, n: number, extra = '', pollMs = 100): string {
  const devices = fleetDevices(n)
    .map((id) => `  - { id: ${id}, kind: barrier, driver: mqtt, profile: ${profile}, pollMs: ${pollMs} }`)
    .join('\n');
  return `village: ${VILLAGE}\n${extra}devices:\n${devices}\n`;
}

function connect(port: number, clientId: string, clean = true): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    ...ADMIN,
    clientId,
    clean,
    reconnectPeriod: 200,
    connectTimeout: 5000,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/** The fleet's devices, publishing every `intervalMs` until stop() or `maxMs`, whichever first. */
export async function startFleet(
  port: number,
  devices: string[],
  { intervalMs = 50, maxMs = 120_000 } = {},
): Promise<{ stop(): Promise<void>; readonly sent: number; readonly published: Published }> {
  const client = await connect(port, `fleet-${process.pid}`);
  let seq = 0;
  const published: Published = new Map(devices.map((d) => [d, new Set<number>()]));
  const started = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - started > maxMs) return clearInterval(timer);
    if (!client.connected) return; // the gateway is down: a real device's message is lost too
    for (const d of devices) {
      published.get(d)!.add(seq);
      client.publish(`${P}/${d}/raw`, JSON.stringify({ seq: seq++, ang: seq % 90 }));
    }
  }, intervalMs);
  return {
    get sent() {
      return seq;
    },
    published,
    async stop() {
      clearInterval(timer);
      await client.endAsync();
    },
  };
}

/** Every sequence number the fleet published, by device. */
export type Published = Map<string, Set<number>>;

/** Key of a point: device and time (ms), the identity InfluxDB gives a point of one series. */
const key = (device: string, ms: number) => `${device}@${ms}`;

/** Every telemetry point the gateway published on `<device>/telemetry`: key → cycles. */
export async function recordTelemetry(
  port: number,
): Promise<{ points: Map<string, number>; stop(): Promise<void> }> {
  const client = await connect(port, `oracle-${process.pid}`);
  const points = new Map<string, number>();
  client.on('message', (_topic, payload) => {
    const doc = JSON.parse(payload.toString()) as {
      device: string;
      time: string;
      fields: { cycles?: number };
    };
    if (doc.device.startsWith('seq-') && doc.fields.cycles !== undefined)
      points.set(key(doc.device, Date.parse(doc.time)), doc.fields.cycles);
  });
  const subscribe = () => client.subscribeAsync(`${P}/+/telemetry`, { qos: 1 });
  await subscribe();
  client.on('connect', () => void subscribe()); // a restarted gateway forgot the session
  return { points, stop: () => client.endAsync() };
}

/**
 * An HTTP relay in front of influxd recording every barrier line InfluxDB acknowledged
 * (2xx), in arrival order. When influxd is down the relay drops the connection, as a
 * refused connection would look to the sink.
 */
export async function recordingInfluxProxy(
  upstream: string,
): Promise<{ url: string; lines: { key: string; cycles: number }[]; close(): Promise<void> }> {
  const lines: { key: string; cycles: number }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      fetch(upstream + req.url, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' },
        ...(body.length ? { body } : {}),
      })
        .then(async (up) => {
          const text = Buffer.from(await up.arrayBuffer());
          if (req.url?.startsWith('/write') && up.status < 300) lines.push(...barrierLines(body.toString()));
          res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'text/plain' });
          res.end(text);
        })
        .catch(() => res.socket?.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    lines,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function barrierLines(body: string): { key: string; cycles: number }[] {
  const out: { key: string; cycles: number }[] = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith('barrier,')) continue;
    const device = /,device=([^, ]+)/.exec(line)?.[1];
    const cycles = /[ ,]cycles=(\d+)i?/.exec(line)?.[1];
    const time = line.slice(line.lastIndexOf(' ') + 1);
    if (device && cycles) out.push({ key: key(device, Number(time)), cycles: Number(cycles) });
  }
  return out;
}

/** What InfluxDB holds of the fleet: key → cycles. */
export async function storedPoints(influx: Influxd): Promise<Map<string, number>> {
  const series = await influx.query(
    'SELECT cycles FROM barrier WHERE device =~ /^seq-/ GROUP BY device',
    'gatehouse',
  );
  const out = new Map<string, number>();
  for (const s of series)
    for (const [t, c] of s.values) out.set(key(s.tags!.device!, t as number), c as number);
  return out;
}

export interface Accounting {
  emitted: number;
  stored: number;
  /** Emitted, absent from InfluxDB. */
  lost: number;
  /** The first few lost points' keys (device@ms), to say where they went missing. */
  lostKeys: string[];
  /** In InfluxDB but never emitted, or stored with another sequence number. */
  wrong: number;
  /**
   * In InfluxDB, unseen by the telemetry recorder, with a number its device did publish
   * (given `published`): emitted while the recorder was away (a gateway restarting).
   */
  unobserved: string[];
  /** Acknowledged by InfluxDB's /write more than once. */
  duplicated: number;
  /** Lines that arrived older than one already written for the same device. */
  outOfOrder: number;
}

export function account(
  emitted: Map<string, number>,
  stored: Map<string, number>,
  wire: { key: string; cycles: number }[],
  only: (key: string) => boolean = () => true,
  published?: Published,
): Accounting {
  let lost = 0;
  const lostKeys: string[] = [];
  let wrong = 0;
  let n = 0;
  for (const [k, c] of emitted) {
    if (!only(k)) continue;
    n++;
    const s = stored.get(k);
    if (s === undefined) {
      if (lost++ < 5) lostKeys.push(k);
    } else if (s !== c) wrong++;
  }
  const unobserved: string[] = [];
  for (const [k, c] of stored) {
    if (emitted.has(k)) continue;
    if (published?.get(k.split('@')[0]!)?.has(c)) unobserved.push(k);
    else wrong++;
  }
  const seen = new Set<string>();
  const newest = new Map<string, number>();
  let duplicated = 0;
  let outOfOrder = 0;
  for (const { key: k } of wire) {
    if (seen.has(k)) duplicated++;
    seen.add(k);
    const [device, t] = k.split('@') as [string, string];
    if (Number(t) < (newest.get(device) ?? 0)) outOfOrder++;
    newest.set(device, Math.max(Number(t), newest.get(device) ?? 0));
  }
  return { emitted: n, stored: stored.size, lost, lostKeys, wrong, unobserved, duplicated, outOfOrder };
}

/** One stat of a sink from the gateway's /metrics (gatehouse_sink_stat). */
export async function sinkStat(api: string, token: string, sink: string, stat: string): Promise<number> {
  const text = await (
    await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  ).text();
  const re = new RegExp(`^gatehouse_sink_stat\\{[^}]*sink="${sink}"[^}]*stat="${stat}"[^}]*\\} (\\S+)$`, 'm');
  const alt = new RegExp(
    `^gatehouse_sink_stat\\{[^}]*stat="${stat}"[^}]*sink="${sink}"[^}]*\\} (\\S+)$`,
    'm',
  );
  const m = re.exec(text) ?? alt.exec(text);
  if (!m) throw new Error(`no gatehouse_sink_stat ${sink}/${stat} in /metrics`);
  return Number(m[1]);
}

/** The sum of a metric's samples on the gateway's /metrics, those with `labels` only when given. */
export async function metricValue(
  api: string,
  token: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (
    await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  ).text();
  const lines = text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  if (lines.length === 0) throw new Error(`no ${name} in /metrics`);
  return lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
