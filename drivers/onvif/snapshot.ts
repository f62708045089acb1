import { DeviceError } from '../contract/errors.ts';
import { httpRequest } from './digest.ts';
import { meanLuma } from './luma.ts';

export interface Snapshot {
  contentType: string;
  jpeg: Buffer;
  luma: number;
  ms: number;
}

/** GET the snapshot URI (Digest or Basic auth, bounded), decode it, measure mean luma. */
export async function takeSnapshot(a: {
  url: string;
  username?: string;
  password?: string;
  timeoutMs: number;
  maxBytes?: number;
}): Promise<Snapshot> {
  const t0 = performance.now();
  const host = new URL(a.url).host;
  const res = await httpRequest({ ...a, maxBytes: a.maxBytes ?? 16 * 1024 * 1024 });
  const ms = Math.round(performance.now() - t0);
  if (res.status === 401 || res.status === 403) {
    throw new DeviceError('auth-failed', `snapshot ${host}: HTTP ${res.status}, credentials refused`);
  }
  const contentType = String(res.headers['content-type'] ?? 'image/jpeg');
  if (res.status !== 200 || !contentType.startsWith('image/')) {
    throw new DeviceError('bad-response', `snapshot ${host}: HTTP ${res.status} ${contentType}`, 'degraded');
  }
  let luma: number;
  try {
    luma = meanLuma(res.body);
  } catch (err) {
    throw new DeviceError(
      'bad-response',
      `snapshot ${host}: not a decodable JPEG (${String(err)})`,
      'degraded',
    );
  }
  return { contentType, jpeg: res.body, luma, ms };
}
