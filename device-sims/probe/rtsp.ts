import { createServer, type Server, type Socket } from 'node:net';
import type { CameraPeer } from './peer.ts';
import { PROFILES } from './ops/media/profiles.ts';

/** Larger request heads close the connection: no RTSP client sends one. */
const MAX_HEAD_BYTES = 8 * 1024;

/**
 * Just enough RTSP (RFC 2326) for a reachability check: OPTIONS, and DESCRIBE behind
 * digest auth returning an SDP with one H.264 track. No media is sent; SETUP is refused.
 */
export function createRtspServer(cam: CameraPeer): Server {
  return createServer((socket) => {
    let buf = '';
    socket.setEncoding('latin1');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_HEAD_BYTES && !buf.includes('\r\n\r\n')) {
        socket.destroy();
        return;
      }
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) break;
        buf = buf.slice(end + 4 + length);
        void answer(cam, socket, head);
      }
    });
  });
}

async function answer(cam: CameraPeer, socket: Socket, head: string): Promise<void> {
  const [requestLine = '', ...headerLines] = head.split('\r\n');
  const [method = '', uri = ''] = requestLine.split(' ');
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  const cseq = headers.get('cseq') ?? '0';
  const send = (status: string, extra: Record<string, string> = {}, body = '') => {
    if (socket.destroyed) return;
    const lines = [
      `RTSP/1.0 ${status}`,
      `CSeq: ${cseq}`,
      'Server: Gatehouse Probe RTSP',
      `Date: ${new Date().toUTCString()}`,
    ];
    for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
    if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  };
  const state = cam.state;
  if (state.faults.slow) await new Promise((r) => setTimeout(r, state.delayMs));

  switch (method) {
    case 'OPTIONS':
      return send('200 OK', { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' });
    case 'DESCRIBE': {
      const path = uriPath(uri);
      const profile = PROFILES.find((p) => p.rtspPath === path);
      if (!profile) return send('404 Not Found');
      const auth = cam.rtspAuth.check(
        'DESCRIBE',
        headers.get('authorization'),
        {
          user: state.config.user,
          password: state.password,
        },
        uri,
      );
      if (!auth.ok) return send('401 Unauthorized', { 'WWW-Authenticate': auth.challenge });
      return send(
        '200 OK',
        { 'Content-Base': `${uri.replace(/\/$/, '')}/`, 'Content-Type': 'application/sdp' },
        sdp(cam, profile.fps, profile.width, profile.height),
      );
    }
    case 'SETUP':
      return send('461 Unsupported Transport');
    case 'TEARDOWN':
    case 'GET_PARAMETER':
      return send('200 OK');
    default:
      return send('405 Method Not Allowed', { Allow: 'OPTIONS, DESCRIBE, SETUP, TEARDOWN, GET_PARAMETER' });
  }
}

function uriPath(uri: string): string {
  try {
    return new URL(uri).pathname;
  } catch {
    return uri;
  }
}

function sdp(cam: CameraPeer, fps: number, width: number, height: number): string {
  const host = cam.state.config.rtspHost;
  const session = cam.state.bootAtMs;
  return [
    'v=0',
    `o=- ${session} 1 IN IP4 ${host}`,
    's=Media Presentation',
    'e=NONE',
    'b=AS:5100',
    't=0 0',
    'a=control:*',
    'm=video 0 RTP/AVP 96',
    `c=IN IP4 0.0.0.0`,
    'b=AS:5000',
    'a=recvonly',
    'a=x-dimensions:' + `${width},${height}`,
    'a=control:trackID=1',
    'a=rtpmap:96 H264/90000',
    'a=fmtp:96 profile-level-id=4d0028;packetization-mode=1;sprop-parameter-sets=Z00AKI2NQDwBE/LCAAAOEAACvyAI,aO44gA==',
    `a=framerate:${fps}`,
    '',
  ].join('\r\n');
}
