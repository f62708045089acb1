import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { ROOT, startTs, type Proc } from './procs.ts';

/**
 * A replay camera for the saved exchanges: answers each SOAP operation with the camera's
 * recorded Response (HTTP 200) or Error (its fault, HTTP 400/500), found by the request's
 * namespace (device → core, media, events…), and anything never recorded with
 * env:Receiver / ter:ActionNotSupported, as real firmware answers what it lacks. The
 * camera's own addresses in the answers are rewritten to this server, as a NAT'd camera
 * would be reached; its clock is left as recorded. The recordings come from real cameras;
 * only the transport (and, where asked, a picture and an RTSP answer) is ours.
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

export type ReplayCamera = 'axis' | 'hikvision' | 'pelco';

export interface ReplayOptions {
  camera: ReplayCamera;
  /** Forced answer for every request (to exercise failure handling). */
  mode?: () => 'replay' | 'garbage' | 'http-500' | 'hang' | 'unauthorized';
  /**
   * A JPEG served behind HTTP Digest (realm "replay") at /snapshot.jpg and at the path of
   * the snapshot URI the capture advertises, if it advertises one: the captures hold no
   * picture, so the picture is ours, the address the camera's.
   */
  snapshot?: { jpeg: Buffer; username: string; password: string };
  /**
   * Answer RTSP OPTIONS/DESCRIBE for the stream path the capture advertises on a port of
   * our own (rtsp:// addresses are rewritten to it). The captures hold no RTSP exchange:
   * the answer (a one-track H.264 SDP) is ours, the path the camera's.
   */
  rtsp?: boolean;
}

export interface Replay {
  url: string;
  port: number;
  rtspPort?: number;
  /** Every SOAP operation asked for, in order. */
  requests: string[];
  /** TCP connections accepted so far. */
  connections: () => { http: number; rtsp: number };
  close(): Promise<void>;
}

/** Request namespaces to the capture folder holding that service's answers. */
const SERVICE_FOLDER: Record<string, string> = {
  'http://www.onvif.org/ver10/device/wsdl': 'core',
  'http://www.onvif.org/ver10/media/wsdl': 'media',
  'http://www.onvif.org/ver10/events/wsdl': 'events',
  'http://docs.oasis-open.org/wsn/b-2': 'events',
  'http://www.onvif.org/ver20/ptz/wsdl': 'ptz',
  'http://www.onvif.org/ver20/analytics/wsdl': 'analytics',
  'http://www.onvif.org/ver20/imaging/wsdl': 'imaging',
};

interface Recording {
  body: string;
  status: number;
}

/** Every Response (HTTP 200) and Error (400 for env:Sender faults, else 500) of a camera, by folder/op. */
function loadRecordings(camera: string): Map<string, Recording> {
  const out = new Map<string, Recording>();
  for (const folder of readdirSync(path.join(FIXTURES, camera))) {
    for (const file of readdirSync(path.join(FIXTURES, camera, folder))) {
      const m = /^(\w+)\.(Response|Error)\.xml$/.exec(file);
      if (!m) continue;
      const key = `${folder}/${m[1]}`;
      const body = readFileSync(path.join(FIXTURES, camera, folder, file), 'utf8');
      const sender = /<\w+:Value>\s*\w+:Sender\s*</.test(body);
      // A recorded answer wins over a recorded fault for the same operation.
      if (m[2] === 'Response') out.set(key, { body, status: 200 });
      else if (!out.has(key)) out.set(key, { body, status: sender ? 400 : 500 });
    }
  }
  return out;
}

/** The operation a SOAP request asks for and the capture folder of its namespace. */
function operationOf(xml: string): { op: string; folder?: string } {
  const m = /<(?:[\w-]+:)?Body[^>]*>\s*<(?:([\w-]+):)?(\w+)/.exec(xml);
  if (!m) return { op: 'unknown' };
  const ns = m[1] ? new RegExp(`xmlns:${m[1]}="([^"]+)"`).exec(xml)?.[1] : undefined;
  return { op: m[2]!, folder: ns ? SERVICE_FOLDER[ns] : undefined };
}

const NOT_SUPPORTED = (op: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><env:Body><env:Fault><env:Code><env:Value>env:Receiver</env:Value><env:Subcode><env:Value>ter:ActionNotSupported</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">Optional Action Not Implemented (${op} was never recorded)</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`;

/** The path of the URI a recorded Get<Kind>Uri answered, if any. */
function advertisedPath(recs: Map<string, Recording>, op: 'GetSnapshotUri' | 'GetStreamUri') {
  const uri = /<\w+:Uri>\s*([^<\s]+)/.exec(recs.get(`media/${op}`)?.body ?? '')?.[1];
  if (!uri) return undefined;
  try {
    return new URL(uri.replace(/&amp;/g, '&')).pathname;
  } catch {
    return undefined;
  }
}

export async function startReplay(o: ReplayOptions): Promise<Replay> {
  const recordings = loadRecordings(o.camera);
  const snapshotPaths = new Set(['/snapshot.jpg', advertisedPath(recordings, 'GetSnapshotUri')]);
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const connections = { http: 0, rtsp: 0 };
  const track = (kind: keyof typeof connections) => (s: Socket) => {
    connections[kind]++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const rtsp = o.rtsp
    ? await startRtspResponder(advertisedPath(recordings, 'GetStreamUri'), track('rtsp'))
    : undefined;
  let rewrite = (xml: string) => xml;
  const rewritten = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const mode = o.mode?.() ?? 'replay';
      if (mode === 'hang') return; // accept and never answer
      if (
        req.method === 'GET' &&
        o.snapshot &&
        snapshotPaths.has(new URL(req.url ?? '/', 'http://x').pathname)
      ) {
        serveSnapshot(req, res, o.snapshot);
        return;
      }
      const { op, folder } = operationOf(Buffer.concat(chunks).toString());
      requests.push(op);
      if (mode === 'garbage')
        return void res.writeHead(200, { 'content-type': 'application/soap+xml' }).end('<html><b>oops</b');
      if (mode === 'http-500')
        return void res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
      if (mode === 'unauthorized')
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
      const key = folder ? `${folder}/${op}` : [...recordings.keys()].find((k) => k.endsWith(`/${op}`));
      const rec = key ? recordings.get(key) : undefined;
      const type = { 'content-type': 'application/soap+xml; charset=utf-8' };
      if (!rec) return void res.writeHead(500, type).end(NOT_SUPPORTED(op));
      let body = rewritten.get(key!);
      if (body === undefined) rewritten.set(key!, (body = rewrite(rec.body)));
      res.writeHead(rec.status, type).end(body);
    });
  });
  server.on('connection', track('http'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const hostPort = `127.0.0.1:${port}`;
  // Only the camera's own (IPv4) addresses: namespace URIs like http://www.onvif.org stay.
  rewrite = (xml) =>
    xml.replace(/\b(https?|rtsp):\/\/\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?/g, (_m, scheme: string) =>
      scheme === 'rtsp' && rtsp
        ? `rtsp://127.0.0.1:${rtsp.port}`
        : `${scheme === 'rtsp' ? 'rtsp' : 'http'}://${hostPort}`,
    );
  return {
    url: `http://${hostPort}/onvif/device_service`,
    port,
    ...(rtsp ? { rtspPort: rtsp.port } : {}),
    requests,
    connections: () => ({ ...connections }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => server.close(() => r())), rtsp?.close()]);
    },
  };
}

/** OPTIONS and DESCRIBE for one path (404 for others), no auth, no media. */
async function startRtspResponder(
  streamPath: string | undefined,
  track: (s: Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sdp =
    'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=replay\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';
  const server = net.createServer((sock) => {
    track(sock);
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('error', () => undefined);
    sock.on('data', (d: string) => {
      buf += d;
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const [method, target] = head.split(' ');
        const cseq = /^CSeq:\s*(\d+)/im.exec(head)?.[1] ?? '0';
        let p = '';
        try {
          p = new URL(target ?? '').pathname;
        } catch {
          // answered 404 below
        }
        if (method === 'OPTIONS')
          sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n`);
        else if (method === 'DESCRIBE' && p === streamPath)
          sock.write(
            `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
          );
        else sock.write(`RTSP/1.0 404 Not Found\r\nCSeq: ${cseq}\r\n\r\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
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

/** A replay camera in a child process (see onvif-replay-main.ts). */
export async function startReplayProcess(
  camera: ReplayCamera,
  username: string,
  password: string,
): Promise<{
  proc: Proc;
  url: string;
  counters(): Promise<{ requests: number; connections: { http: number; rtsp: number } }>;
}> {
  const proc = startTs('test/helpers/onvif-replay-main.ts', [camera, username, password]);
  const line = await proc.waitFor(/replay listening/, 30_000);
  const field = (k: string) => new RegExp(`${k}=(\\S+)`).exec(line)?.[1] ?? '';
  const control = field('control');
  return {
    proc,
    url: field('url'),
    counters: async () => (await jsonRequest('GET', control)).body as never,
  };
}

// ---- the probe simulator (device-sims/probe) as a real child process ----

/** One camera of a simulator process: its addresses and its own control path. */
export interface ProbeSimCamera {
  deviceUrl: string;
  rtspUrl: string;
  /** This camera's control base (`…/cam/N` when the process runs several). */
  controlUrl: string;
  discoveryPort?: number;
  /** POST a JSON body to this camera's control interface. */
  control(path: string, body?: unknown): Promise<unknown>;
  state(): Promise<Record<string, unknown>>;
}

/** A simulator process; its own fields are camera 0's, `cams` has every camera (`--count N`). */
export interface ProbeSim extends ProbeSimCamera {
  proc: Proc;
  cams: ProbeSimCamera[];
}

export async function startProbeSim(args: string[]): Promise<ProbeSim> {
  const proc = startTs('device-sims/main.ts', ['probe', ...args]);
  const at = args.indexOf('--count');
  const count = at >= 0 ? Number(args[at + 1]) : 1;
  // One ready line per camera, printed once every camera listens: wait for the last.
  await proc.waitFor(new RegExp(`listening cam=${count - 1} `), 30_000);
  const cams = proc
    .output()
    .split('\n')
    .filter((l) => /probe-sim listening cam=\d+ /.test(l))
    .map(probeCamera);
  return { proc, ...cams[0]!, cams };
}

function probeCamera(line: string): ProbeSimCamera {
  const field = (k: string) => new RegExp(`${k}=(\\S+)`).exec(line)?.[1] ?? '';
  const controlUrl = field('control');
  const control = async (p: string, body?: unknown) => {
    const r = await jsonRequest('POST', `${controlUrl}${p}`, body ?? {});
    if (r.status >= 300) throw new Error(`control ${p}: HTTP ${r.status} ${r.text}`);
    return r.body ?? {};
  };
  const disc = Number(field('discovery'));
  return {
    deviceUrl: field('device_service'),
    rtspUrl: field('rtsp'),
    controlUrl,
    ...(Number.isFinite(disc) && disc > 0 ? { discoveryPort: disc } : {}),
    control,
    state: async () => (await jsonRequest('GET', `${controlUrl}/state`)).body as Record<string, unknown>,
  };
}

/**
 * A JSON request to a control interface over node:http, not fetch: fetch's first use
 * compiles its HTTP parser on background threads, which would land in the CPU time a
 * test measures.
 */
function jsonRequest(
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
): Promise<{ status: number; text: string; body: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers: payload ? { 'content-type': 'application/json' } : {}, agent: false },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += String(c)));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
