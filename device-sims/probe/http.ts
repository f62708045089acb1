import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CameraPeer } from './peer.ts';
import { dispatchSoap, serviceFor } from './soap/router.ts';
import { MAX_BODY_BYTES } from './soap/parse.ts';
import { faultXml, faults } from './soap/envelope.ts';
import { snapshotJpeg } from './scene.ts';

export const SNAPSHOT_PATH = '/onvif/snapshot.jpg';
const SOAP_TYPE = 'application/soap+xml; charset=utf-8';

/** The camera's web server: ONVIF SOAP services and the JPEG snapshot URL. */
export function createCameraHttp(cam: CameraPeer): Server {
  const server = createServer((req, res) => {
    handle(cam, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(err as Error).message}`);
    });
  });
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

async function handle(cam: CameraPeer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://camera');
  const state = cam.state;
  const gone = new AbortController();
  res.once('close', () => gone.abort());

  const body = await readBody(req, MAX_BODY_BYTES);
  if (state.faults.slow) await sleep(state.delayMs, gone.signal);
  if (state.faults['http-500']) {
    res.writeHead(500, { 'content-type': 'text/html' });
    res.end('<html><body><h1>500 Internal Server Error</h1></body></html>');
    return;
  }

  if (url.pathname === SNAPSHOT_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
    const auth = cam.snapshotAuth.check(
      req.method,
      req.headers.authorization,
      {
        user: state.config.user,
        password: state.password,
      },
      req.url,
    );
    if (!auth.ok) {
      res.writeHead(401, { 'www-authenticate': auth.challenge, 'content-type': 'text/html' });
      res.end('<html><body>401 Unauthorized</body></html>');
      return;
    }
    if (state.faults['snapshot-404']) {
      // As some firmware does for a deleted snapshot profile: a bare 404, no content type.
      res.writeHead(404, { 'content-length': 0 });
      res.end();
      return;
    }
    if (state.faults['snapshot-garbage']) {
      // A web server's error page labelled as a picture.
      const page = Buffer.from('<html><body>Service Unavailable</body></html>');
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': page.length });
      res.end(page);
      return;
    }
    const jpg = snapshotJpeg(cam.sceneLook());
    state.snapshotsServed++;
    res.writeHead(200, {
      'content-type': 'image/jpeg',
      'content-length': jpg.length,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : jpg);
    return;
  }

  if (!serviceFor(url.pathname)) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  if (body === undefined) {
    res.writeHead(413, { 'content-type': SOAP_TYPE });
    res.end(faultXml(faults.wellFormed(`Request larger than ${MAX_BODY_BYTES} bytes`)));
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' });
    res.end('SOAP services take POST');
    return;
  }
  const result = await dispatchSoap(cam, cam.verifier, url.pathname, body, gone.signal);
  const op = result.op ?? 'unreadable';
  state.soapRequests[op] = (state.soapRequests[op] ?? 0) + 1;
  if (gone.signal.aborted) return;
  // The camera carried a Set… out; its answer never comes (the client gives up and closes).
  if (state.faults['lost-write-answer'] && op.startsWith('Set')) return;
  if (state.faults['garbage-xml']) {
    res.writeHead(200, { 'content-type': SOAP_TYPE });
    res.end(garbage(result.xml));
    return;
  }
  res.writeHead(result.status, {
    'content-type': SOAP_TYPE,
    'content-length': Buffer.byteLength(result.xml),
  });
  res.end(result.xml);
}

/** The body as text, or undefined when it is larger than `limit` (the rest is discarded). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A response cut short and corrupted, as a camera with a broken web server sends. */
function garbage(xml: string): string {
  const cut = xml.slice(0, Math.floor(xml.length * 0.6));
  return `${cut}<<\u0001\u0002 ]]></env:Bod&y>`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
