import net from 'node:net';
import { DeviceError } from '../contract/errors.ts';
import { basicAuthorization, digestAuthorization, parseDigestChallenge } from './digest.ts';

export interface RtspCheck {
  url: string;
  username?: string;
  password?: string;
  timeoutMs: number;
}

interface RtspAnswer {
  status: number;
  headers: Record<string, string>;
}

/**
 * Is the stream there? One RTSP DESCRIBE (answering a Digest or Basic challenge on the
 * same connection), no media set up. Throws DeviceError('stream-unreachable') with what
 * was seen; resolves with the final status code (200).
 */
export async function rtspDescribe(check: RtspCheck): Promise<number> {
  let u: URL;
  try {
    u = new URL(check.url);
  } catch {
    throw new DeviceError('stream-unreachable', `bad RTSP URL "${check.url}"`, 'degraded');
  }
  const fail = (why: string) => new DeviceError('stream-unreachable', `RTSP ${u.host}: ${why}`, 'degraded');
  // Credentials go in the Authorization header, never in the request line.
  const target = `rtsp://${u.host}${u.pathname}${u.search}`;
  const sock = net.connect({ host: u.hostname, port: Number(u.port || 554) });
  let buf = '';
  let waiting: ((a: RtspAnswer) => void) | null = null;
  const answers: RtspAnswer[] = [];
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => {
    buf += d;
    if (buf.length > 64 * 1024) sock.destroy(fail('oversized answer'));
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) break;
      const [statusLine = '', ...lines] = buf.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const len = Number(headers['content-length'] ?? 0);
      if (buf.length < end + 4 + len) break;
      buf = buf.slice(end + 4 + len);
      const m = /^RTSP\/1\.\d (\d{3})/.exec(statusLine);
      const a = { status: m ? Number(m[1]) : 0, headers };
      if (waiting) {
        const w = waiting;
        waiting = null;
        w(a);
      } else answers.push(a);
    }
  });
  const errored = new Promise<never>((_, reject) => {
    sock.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e instanceof DeviceError ? e : fail(e.code === 'ECONNREFUSED' ? 'connection refused' : e.message),
      ),
    );
    sock.once('close', () => reject(fail('connection closed')));
  });
  errored.catch(() => undefined);
  const timer = setTimeout(
    () => sock.destroy(fail(`no answer within ${check.timeoutMs} ms`)),
    check.timeoutMs,
  );
  const next = () =>
    Promise.race([
      errored,
      new Promise<RtspAnswer>((resolve) => {
        const a = answers.shift();
        if (a) resolve(a);
        else waiting = resolve;
      }),
    ]);
  const send = (cseq: number, auth?: string) =>
    sock.write(
      `DESCRIBE ${target} RTSP/1.0\r\nCSeq: ${cseq}\r\nAccept: application/sdp\r\nUser-Agent: gatehouse\r\n` +
        (auth ? `Authorization: ${auth}\r\n` : '') +
        '\r\n',
    );
  try {
    await Promise.race([errored, new Promise((r) => sock.once('connect', r))]);
    send(1);
    let a = await next();
    if (a.status === 401 && check.username !== undefined) {
      const challenge = parseDigestChallenge(a.headers['www-authenticate'] ?? '');
      const auth = challenge
        ? digestAuthorization(challenge, {
            method: 'DESCRIBE',
            uri: target,
            username: check.username,
            password: check.password ?? '',
          })
        : basicAuthorization(check.username, check.password ?? '');
      send(2, auth);
      a = await next();
    }
    if (a.status !== 200) throw fail(a.status === 0 ? 'not an RTSP answer' : `DESCRIBE answered ${a.status}`);
    return a.status;
  } finally {
    clearTimeout(timer);
    sock.destroy();
  }
}
