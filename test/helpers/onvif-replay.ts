import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { ROOT, startTs, type Proc } from './procs.ts';

/**
 * A replay server for the saved camera exchanges: answers each SOAP operation with the
 * camera's recorded Response (HTTP 200) or Error (HTTP 400 fault), every absolute HTTP/RTSP
 * address in them rewritten to this server, as a NAT'd camera would be reached. The
 * recordings come from real cameras; only the transport is ours.
 */
export const FIXTURES = path.resolve(ROOT, '../shared/fixtures/onvif-captures');
export const FIXTURES_PRESENT = existsSync(FIXTURES);

/** Every recorded Response/Error file: [camera, service, file]. */
export function fixtureFiles(): { camera: string; service: string; file: string; full: string }[] {
  const out = [];
  for (const camera of readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const service of readdirSync(path.join(FIXTURES, camera.name))) {
      for (const file of readdirSync(path.join(FIXTURES, camera.name, service))) {
        if (/\.(Response|Error)\.xml$/.test(file)) {
          out.push({
            camera: camera.name,
            service,
            file,
            full: path.join(FIXTURES, camera.name, service, file),
          });
        }
      }
    }
  }
  return out;
}

export interface ReplayOptions {
  camera: 'axis' | 'hikvision' | 'pelco';
  /** Forced answer for every request (to exercise failure handling). */
  mode?: () => 'replay' | 'garbage' | 'http-500' | 'hang' | 'unauthorized';
  /** Served at /snapshot.jpg behind HTTP Digest (realm "replay"), when given. */
  snapshot?: { jpeg: Buffer; username: string; password: string };
}

export interface Replay {
  url: string;
  port: number;
  requests: string[];
  close(): Promise<void>;
}

function findRecording(camera: string, op: string): { body: string; status: number } | undefined {
  for (const service of readdirSync(path.join(FIXTURES, camera))) {
    for (const [kind, status] of [
      ['Response', 200],
      ['Error', 400],
    ] as const) {
      const f = path.join(FIXTURES, camera, service, `${op}.${kind}.xml`);
      if (existsSync(f)) return { body: readFileSync(f, 'utf8'), status };
    }
  }
  return undefined;
}

export async function startReplay(o: ReplayOptions): Promise<Replay> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let hostPort = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const mode = o.mode?.() ?? 'replay';
      if (mode === 'hang') return; // accept and never answer
      if (req.method === 'GET' && req.url === '/snapshot.jpg' && o.snapshot) {
        serveSnapshot(req, res, o.snapshot);
        return;
      }
      const body = Buffer.concat(chunks).toString();
      const op = /<s:Body>\s*<\w+:(\w+)/.exec(body)?.[1] ?? 'unknown';
      requests.push(op);
      if (mode === 'garbage')
        return void res.writeHead(200, { 'content-type': 'application/soap+xml' }).end('<html><b>oops</b');
      if (mode === 'http-500')
        return void res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
      if (mode === 'unauthorized')
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
      const rec = findRecording(o.camera, op);
      if (!rec) return void res.writeHead(404).end();
      const rewritten = rec.body.replace(
        /\b(https?|rtsp):\/\/[^/\s<"]+/g,
        (_m, scheme: string) => `${scheme}://${hostPort}`,
      );
      res.writeHead(rec.status, { 'content-type': 'application/soap+xml; charset=utf-8' }).end(rewritten);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  hostPort = `127.0.0.1:${port}`;
  return {
    url: `http://${hostPort}/onvif/device_service`,
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const md5 = (x: string) => createHash('md5').update(x).digest('hex');

function serveSnapshot(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  s: NonNullable<ReplayOptions['snapshot']>,
): void {
  const auth = req.headers.authorization ?? '';
  const p: Record<string, string> = {};
  for (const m of auth.matchAll(/(\w+)="?([^",]*)"?/g)) p[m[1]!] = m[2]!;
  const ha1 = md5(`${s.username}:replay:${s.password}`);
  const ha2 = md5(`GET:${p.uri ?? ''}`);
  const expect = md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
  if (auth.startsWith('Digest') && p.username === s.username && p.response === expect) {
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(s.jpeg);
    return;
  }
  res.writeHead(401, { 'www-authenticate': 'Digest realm="replay", nonce="abc123", qop="auth"' }).end();
}

// ---- the probe simulator (device-sims/probe) as a real child process ----

export interface ProbeSim {
  proc: Proc;
  deviceUrl: string;
  rtspUrl: string;
  controlUrl: string;
  discoveryPort?: number;
  /** POST a JSON body to the control interface. */
  control(path: string, body?: unknown): Promise<unknown>;
  state(): Promise<Record<string, unknown>>;
}

export async function startProbeSim(args: string[]): Promise<ProbeSim> {
  const proc = startTs('device-sims/main.ts', ['probe', ...args]);
  const line = await proc.waitFor(/listening/, 30_000);
  const field = (k: string) => new RegExp(`${k}=(\\S+)`).exec(line)?.[1] ?? '';
  const controlUrl = field('control');
  const control = async (p: string, body?: unknown) => {
    const r = await fetch(`${controlUrl}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    if (!r.ok) throw new Error(`control ${p}: HTTP ${r.status} ${await r.text()}`);
    return r.json().catch(() => ({}));
  };
  const disc = Number(field('discovery'));
  return {
    proc,
    deviceUrl: field('device_service'),
    rtspUrl: field('rtsp'),
    controlUrl,
    ...(Number.isFinite(disc) && disc > 0 ? { discoveryPort: disc } : {}),
    control,
    state: async () => (await (await fetch(`${controlUrl}/state`)).json()) as Record<string, unknown>,
  };
}
