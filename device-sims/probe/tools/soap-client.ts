/**
 * A deliberately small ONVIF/RTSP client for the simulator's tests and for poking a
 * running simulator by hand. It builds requests byte by byte so tests can also send
 * what a good client never would (replayed nonces, skewed Created, DOCTYPEs).
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { md5, parseDigest } from '../digest.ts';

export interface TokenOptions {
  user: string;
  password: string;
  /** Created time in ms (default: now); tests skew or replay it. */
  createdMs?: number;
  /** Base64 nonce (default: 16 random bytes). */
  nonce?: string;
}

export function usernameTokenHeader(o: TokenOptions): string {
  const created = new Date(o.createdMs ?? Date.now()).toISOString();
  const nonce = o.nonce ?? randomBytes(16).toString('base64');
  const digest = createHash('sha1')
    .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created), Buffer.from(o.password)]))
    .digest('base64');
  return `<wsse:Security s:mustUnderstand="1" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken><wsse:Username>${o.user}</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</wsse:Password><wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce}</wsse:Nonce><wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`;
}

export function soapEnvelope(body: string, header = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:timg="http://www.onvif.org/ver20/imaging/wsdl" xmlns:tev="http://www.onvif.org/ver10/events/wsdl" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
});

export interface SoapReply {
  status: number;
  text: string;
  /** Parsed env:Body (prefixes stripped), undefined when the reply is not XML. */
  body: Record<string, unknown> | undefined;
  /** "env:Sender ter:NotAuthorized" style summary when the reply is a fault. */
  fault: string | undefined;
}

/** POST a SOAP request; `auth` adds a UsernameToken, `header` replaces the header outright. */
export async function soapCall(
  url: string,
  body: string,
  opts: { auth?: TokenOptions; header?: string; timeoutMs?: number } = {},
): Promise<SoapReply> {
  const header = opts.header ?? (opts.auth ? usernameTokenHeader(opts.auth) : '');
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
    body: soapEnvelope(body, header),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let parsedBody: Record<string, unknown> | undefined;
  try {
    const doc = parser.parse(text, true) as { Envelope?: { Body?: Record<string, unknown> } };
    parsedBody = doc.Envelope?.Body;
  } catch {
    parsedBody = undefined;
  }
  let fault: string | undefined;
  const f = parsedBody?.['Fault'] as { Code?: { Value?: string; Subcode?: { Value?: string } } } | undefined;
  if (f) fault = `${f.Code?.Value ?? ''} ${f.Code?.Subcode?.Value ?? ''}`.trim();
  return { status: res.status, text, body: parsedBody, fault };
}

/** GET with HTTP digest (qop=auth), answering the server's challenge once. */
export async function digestGet(url: string, user: string, password: string): Promise<Response> {
  const first = await fetch(url);
  const challenge = first.headers.get('www-authenticate');
  if (first.status !== 401 || !challenge) return first;
  await first.arrayBuffer();
  const u = new URL(url);
  const authorization = digestAuthorization(challenge, 'GET', u.pathname + u.search, user, password);
  return fetch(url, { headers: { authorization } });
}

export function digestAuthorization(
  challenge: string,
  method: string,
  uri: string,
  user: string,
  password: string,
  nc = 1,
): string {
  const c = parseDigest(challenge);
  if (!c?.realm || !c.nonce) throw new Error(`not a digest challenge: ${challenge}`);
  const ha1 = md5(`${user}:${c.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const ncHex = nc.toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  if (c.qop) {
    const response = md5(`${ha1}:${c.nonce}:${ncHex}:${cnonce}:auth:${ha2}`);
    return `Digest username="${user}", realm="${c.realm}", nonce="${c.nonce}", uri="${uri}", algorithm=MD5, qop=auth, nc=${ncHex}, cnonce="${cnonce}", response="${response}"`;
  }
  const response = md5(`${ha1}:${c.nonce}:${ha2}`);
  return `Digest username="${user}", realm="${c.realm}", nonce="${c.nonce}", uri="${uri}", response="${response}"`;
}

export interface RtspReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One RTSP request on a fresh connection. */
export function rtspRequest(
  url: string,
  method: string,
  extra: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<RtspReply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port || 554), u.hostname);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`RTSP ${method} timed out`));
    }, timeoutMs);
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('connect', () => {
      const lines = [`${method} ${url} RTSP/1.0`, 'CSeq: 1', 'User-Agent: gatehouse-test'];
      for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
      sock.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    sock.on('data', (b) => {
      buf += b.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine = '', ...hl] = buf.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of hl) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const len = Number(headers['content-length'] ?? 0);
      if (buf.length < end + 4 + len) return;
      clearTimeout(timer);
      sock.end();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: buf.slice(end + 4, end + 4 + len) });
    });
  });
}
