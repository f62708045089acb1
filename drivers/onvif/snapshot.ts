import type http from 'node:http';
import { DeviceError } from '../contract/errors.ts';
import { httpRequest, type AuthMemory } from './digest.ts';
import { meanLuma } from './luma.ts';

export interface Snapshot {
  contentType: string;
  jpeg: Buffer;
  luma: number;
  ms: number;
}

const isJpeg = (b: Buffer) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** What came back instead of a picture, in words an installer can match to the camera. */
function describe(type: string | undefined, body: Buffer): string {
  const head = body.subarray(0, 8).toString('hex');
  return `${type ?? 'no content type'}, ${body.length} bytes${body.length ? `, starting ${head}` : ''}`;
}

/**
 * GET the snapshot URI (Digest or Basic auth, bounded), check it is a JPEG, measure mean
 * luma. The content type is the camera's; every way it can fail is a DeviceError whose
 * message says what to check.
 */
export async function takeSnapshot(a: {
  url: string;
  username?: string;
  password?: string;
  timeoutMs: number;
  maxBytes?: number;
  agent?: http.Agent;
  auth?: AuthMemory;
}): Promise<Snapshot> {
  const t0 = performance.now();
  let res;
  try {
    res = await httpRequest({ ...a, maxBytes: a.maxBytes ?? 16 * 1024 * 1024 });
  } catch (err) {
    throw explainNetworkFailure(err, a.url, a.timeoutMs);
  }
  const ms = Math.round(performance.now() - t0);
  const type = res.headers['content-type'];
  if (res.status === 401 || res.status === 403) {
    throw new DeviceError(
      'auth-failed',
      `the camera refused the credentials for its snapshot URL (HTTP ${res.status}); check the username and password`,
    );
  }
  if (res.status < 200 || res.status > 299) {
    throw new DeviceError(
      'bad-response',
      `the camera answered HTTP ${res.status} for its snapshot URL; check the snapshot profile`,
      'degraded',
    );
  }
  if (!isJpeg(res.body)) {
    throw new DeviceError(
      'bad-response',
      `the camera's snapshot URL answered something that is not a JPEG (${describe(type, res.body)}); check the snapshot profile`,
      'degraded',
    );
  }
  let luma: number;
  try {
    luma = meanLuma(res.body);
  } catch (err) {
    throw new DeviceError(
      'bad-response',
      `the camera's snapshot is a JPEG that does not decode (${String(err)}); check the camera's firmware`,
      'degraded',
    );
  }
  // The bytes are a JPEG: a header saying otherwise (or nothing) is the camera's slip.
  const contentType = type && /^image\/p?jpe?g\b/i.test(type) ? type : 'image/jpeg';
  return { contentType, jpeg: res.body, luma, ms };
}

function explainNetworkFailure(err: unknown, url: string, timeoutMs: number): unknown {
  if (!(err instanceof DeviceError)) return err;
  const host = new URL(url).host;
  if (err.reason === 'timeout') {
    return new DeviceError(
      'timeout',
      `the camera did not answer its snapshot URL (${host}) within ${timeoutMs} ms; check power and network`,
      'offline',
      { cause: err },
    );
  }
  if (err.reason === 'connection-refused') {
    return new DeviceError(
      'connection-refused',
      `the camera refused the connection to its snapshot URL (${host}); check that it is powered and the URL's port`,
      'offline',
      { cause: err },
    );
  }
  return new DeviceError(err.reason, `snapshot ${host}: ${err.message}`, err.status, { cause: err });
}
