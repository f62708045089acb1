import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a server nonce stays valid. */
const NONCE_TTL_MS = 5 * 60_000;
const MAX_TRACKED_NONCES = 10_000;

export type HttpAuthMode = 'digest' | 'basic' | 'none';

export interface Credentials {
  user: string;
  password: string;
}

export type AuthResult = { ok: true } | { ok: false; challenge: string; stale?: boolean };

/**
 * HTTP authentication for the snapshot URL and RTSP (RFC 7616 digest with MD5 and
 * qop=auth; RFC 7617 basic on request). Nonces are stateless (time + HMAC, hex only,
 * because some clients split the challenge on "=" and ","); nonce counts must rise.
 */
export class HttpAuthenticator {
  private readonly secret = randomBytes(16);
  private readonly lastNc = new Map<string, number>();

  constructor(
    private readonly realm: string,
    private readonly mode: HttpAuthMode,
    /** For RTSP, clients answer without qop (RFC 2069 style); both forms are accepted. */
    private readonly offerQop = true,
  ) {}

  challenge(stale = false): string {
    if (this.mode === 'basic') return `Basic realm="${this.realm}"`;
    const nonce = this.newNonce();
    const qop = this.offerQop ? ', qop="auth"' : '';
    return `Digest realm="${this.realm}"${qop}, nonce="${nonce}", algorithm=MD5${stale ? ', stale=TRUE' : ''}`;
  }

  /** `requestUri`, when given, must be the uri the client signed (no replay onto other URLs). */
  check(
    method: string,
    authorization: string | undefined,
    creds: Credentials,
    requestUri?: string,
  ): AuthResult {
    if (this.mode === 'none') return { ok: true };
    if (!authorization) return { ok: false, challenge: this.challenge() };
    if (this.mode === 'basic') {
      const m = /^Basic\s+(.+)$/i.exec(authorization);
      const decoded = m?.[1] ? Buffer.from(m[1], 'base64').toString('utf8') : '';
      return safeEqual(decoded, `${creds.user}:${creds.password}`)
        ? { ok: true }
        : { ok: false, challenge: this.challenge() };
    }
    const p = parseDigest(authorization);
    if (!p || p.username !== creds.user || p.realm !== this.realm || !p.nonce || !p.uri || !p.response) {
      return { ok: false, challenge: this.challenge() };
    }
    if (requestUri !== undefined && p.uri !== requestUri) {
      return { ok: false, challenge: this.challenge() };
    }
    if ((p.algorithm ?? 'MD5').toUpperCase() !== 'MD5') return { ok: false, challenge: this.challenge() };
    if (!this.nonceValid(p.nonce)) return { ok: false, challenge: this.challenge(true), stale: true };
    const ha1 = md5(`${creds.user}:${this.realm}:${creds.password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    let expected: string;
    if (p.qop) {
      if (p.qop !== 'auth' || !p.nc || !p.cnonce) return { ok: false, challenge: this.challenge() };
      expected = md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
    } else {
      expected = md5(`${ha1}:${p.nonce}:${ha2}`);
    }
    if (!safeEqual(p.response.toLowerCase(), expected)) return { ok: false, challenge: this.challenge() };
    if (p.nc && !this.acceptNonceCount(p.nonce, parseInt(p.nc, 16))) {
      return { ok: false, challenge: this.challenge(true), stale: true };
    }
    return { ok: true };
  }

  private newNonce(): string {
    const ts = Date.now().toString(16).padStart(12, '0');
    return ts + createHmac('sha256', this.secret).update(ts).digest('hex').slice(0, 32);
  }

  private nonceValid(nonce: string): boolean {
    const ts = nonce.slice(0, 12);
    const mac = createHmac('sha256', this.secret).update(ts).digest('hex').slice(0, 32);
    return safeEqual(nonce.slice(12), mac) && Date.now() - parseInt(ts, 16) < NONCE_TTL_MS;
  }

  /** A replayed request carries a nonce count it already used. */
  private acceptNonceCount(nonce: string, nc: number): boolean {
    const last = this.lastNc.get(nonce) ?? 0;
    if (!(nc > last)) return false;
    this.lastNc.delete(nonce);
    this.lastNc.set(nonce, nc);
    if (this.lastNc.size > MAX_TRACKED_NONCES) {
      const oldest = this.lastNc.keys().next().value;
      if (oldest !== undefined) this.lastNc.delete(oldest);
    }
    return true;
  }
}

export function md5(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

/** Parse `Digest k="v", k=v, ...` (quoted values may hold commas). */
export function parseDigest(header: string): Record<string, string> | undefined {
  const m = /^Digest\s+(.*)$/is.exec(header.trim());
  if (!m?.[1]) return undefined;
  const out: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const part of m[1].matchAll(re)) {
    const key = part[1];
    if (key) out[key.toLowerCase()] = part[2] ?? part[3] ?? '';
  }
  return out;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
