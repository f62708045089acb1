import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { DeviceError, markWentOut } from '../contract/errors.ts';

/**
 * A small HTTP client for cameras: answers a 401 challenge with Digest (RFC 7616,
 * MD5/SHA-256, qop=auth) or Basic, bounds every request by a deadline covering
 * connect + headers + body (some firmware accepts the connection and never answers),
 * caps the body size, and turns socket failures into health reasons.
 */
export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  username?: string;
  password?: string;
  timeoutMs: number;
  maxBytes?: number;
  agent?: http.Agent;
  /** Answer the challenge this origin sent last time up front (see AuthMemory). */
  auth?: AuthMemory;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  opaque?: string;
  algorithm?: string;
}

/** Parse `WWW-Authenticate: Digest realm="..", nonce=".."` (null when not Digest). */
export function parseDigestChallenge(header: string): DigestChallenge | null {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const p of m[1]!.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g))
    params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  if (params.realm === undefined || params.nonce === undefined) return null;
  const c: DigestChallenge = { realm: params.realm, nonce: params.nonce };
  if (params.qop) c.qop = params.qop;
  if (params.opaque) c.opaque = params.opaque;
  if (params.algorithm) c.algorithm = params.algorithm;
  return c;
}

/** The Authorization header value answering a Digest challenge. */
export function digestAuthorization(
  c: DigestChallenge,
  a: { method: string; uri: string; username: string; password: string; nc?: number; cnonce?: string },
): string {
  const algo = (c.algorithm ?? 'MD5').toUpperCase().startsWith('SHA-256') ? 'sha256' : 'md5';
  const h = (s: string) => createHash(algo).update(s).digest('hex');
  const ha1 = h(`${a.username}:${c.realm}:${a.password}`);
  const ha2 = h(`${a.method}:${a.uri}`);
  const qop = c.qop
    ?.split(',')
    .map((q) => q.trim())
    .find((q) => q === 'auth');
  const nc = (a.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = a.cnonce ?? randomBytes(8).toString('hex');
  const response = qop ? h(`${ha1}:${c.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : h(`${ha1}:${c.nonce}:${ha2}`);
  const q = (s: string) => s.replace(/["\\]/g, '\\$&');
  let v = `Digest username="${q(a.username)}", realm="${q(c.realm)}", nonce="${q(c.nonce)}", uri="${q(a.uri)}", response="${response}"`;
  if (c.algorithm) v += `, algorithm=${c.algorithm}`;
  if (qop) v += `, qop=${qop}, nc=${nc}, cnonce="${cnonce}"`;
  if (c.opaque !== undefined) v += `, opaque="${q(c.opaque)}"`;
  return v;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** Map a socket-level failure onto a health reason. */
export function networkError(err: unknown, what: string): DeviceError {
  if (err instanceof DeviceError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'ECONNREFUSED')
    return new DeviceError('connection-refused', `${what}: connection refused`, 'offline', { cause: err });
  if (code === 'ETIMEDOUT' || code === 'ABORT_ERR' || /timed? ?out/i.test(msg)) {
    return new DeviceError('timeout', `${what}: ${msg}`, 'offline', { cause: err });
  }
  if (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'HPE_INVALID_CONSTANT' ||
    code.startsWith('HPE_')
  ) {
    return new DeviceError('bad-response', `${what}: ${msg}`, 'degraded', { cause: err });
  }
  return new DeviceError('timeout', `${what}: ${code || msg}`, 'offline', { cause: err });
}

const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function once(req: HttpRequest, authorization?: string, retried = false): Promise<HttpResponse> {
  const u = new URL(req.url);
  const maxBytes = req.maxBytes ?? 8 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (authorization) headers.authorization = authorization;
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    const r = http.request(
      {
        host: u.hostname,
        port: u.port || 80,
        path: u.pathname + u.search,
        method: req.method ?? 'GET',
        headers,
        agent: req.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            r.destroy(
              new DeviceError('bad-response', `${u.host}: response over ${maxBytes} bytes`, 'degraded'),
            );
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', () => undefined);
      },
    );
    const timer = setTimeout(() => {
      r.destroy(
        new DeviceError('timeout', `${u.host}: no complete answer within ${req.timeoutMs} ms`, 'offline'),
      );
    }, req.timeoutMs);
    let sent = false;
    r.once('finish', () => (sent = true));
    r.on('error', (err) => {
      clearTimeout(timer);
      // A kept-alive socket the camera closed just as we reused it: one fresh try.
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (r.reusedSocket && !retried && STALE_SOCKET.has(code)) {
        resolve(once(req, authorization, true));
        return;
      }
      const e = networkError(err, u.host);
      reject(sent ? markWentOut(e) : e); // sent whole: the camera may have acted on it
    });
    r.end(req.body);
  });
}

/**
 * What each origin last challenged with, so the next request answers it up front: a
 * Digest nonce reused with a rising nonce count (RFC 7616), or Basic. Saves a round trip
 * per snapshot; a camera that wants a fresh nonce answers 401 and gets the normal dance.
 */
export class AuthMemory {
  private readonly byOrigin = new Map<string, { digest?: DigestChallenge; nc: number }>();

  header(req: HttpRequest, u: URL): string | undefined {
    const m = this.byOrigin.get(u.origin);
    if (!m || req.username === undefined) return undefined;
    if (!m.digest) return basicAuthorization(req.username, req.password ?? '');
    m.nc++;
    return digestAuthorization(m.digest, {
      method: req.method ?? 'GET',
      uri: u.pathname + u.search,
      username: req.username,
      password: req.password ?? '',
      nc: m.nc,
    });
  }

  remember(u: URL, digest: DigestChallenge | undefined): void {
    this.byOrigin.set(u.origin, digest ? { digest, nc: 1 } : { nc: 0 });
  }

  forget(u: URL): void {
    this.byOrigin.delete(u.origin);
  }
}

/** One request, answering a single 401 challenge with Digest or Basic credentials. */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const deadline = Date.now() + req.timeoutMs;
  const u = new URL(req.url);
  const first = await once(req, req.auth?.header(req, u));
  if (first.status !== 401 || req.username === undefined) return first;
  req.auth?.forget(u);
  const challenges = ([] as string[]).concat(first.headers['www-authenticate'] ?? []);
  const digest = challenges.map(parseDigestChallenge).find((c) => c !== null);
  let authorization: string;
  if (digest) {
    authorization = digestAuthorization(digest, {
      method: req.method ?? 'GET',
      uri: u.pathname + u.search,
      username: req.username,
      password: req.password ?? '',
    });
  } else if (challenges.some((c) => /^\s*Basic/i.test(c))) {
    authorization = basicAuthorization(req.username, req.password ?? '');
  } else {
    return first;
  }
  const answer = await once({ ...req, timeoutMs: Math.max(1, deadline - Date.now()) }, authorization);
  if (answer.status !== 401) req.auth?.remember(u, digest ?? undefined);
  return answer;
}
