import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTs, type Proc } from '../helpers/procs.ts';
import { digestAuthorization, digestGet, rtspRequest } from '../../device-sims/probe/tools/soap-client.ts';
import { jpegStats } from '../../device-sims/probe/scene.ts';

let sim: Proc;
let snapshot: string;
let rtsp: string;
let control: string;

async function post(path: string, body: unknown): Promise<void> {
  const r = await fetch(`${control}${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(r.status, await r.clone().text()).toBeLessThan(300);
}
async function snapStats() {
  const r = await digestGet(snapshot, 'admin', 'pw');
  expect(r.status).toBe(200);
  return jpegStats(Buffer.from(await r.arrayBuffer()));
}

beforeAll(async () => {
  sim = startTs('device-sims/main.ts', [
    'probe',
    '--user',
    'admin',
    '--password',
    'pw',
    '--clock',
    'day',
    '--no-discovery',
  ]);
  const line = await sim.waitFor(/listening/);
  snapshot = /snapshot=(\S+)/.exec(line)![1]!;
  rtsp = /rtsp=(\S+)/.exec(line)![1]!;
  control = /control=(\S+)/.exec(line)![1]!;
});
afterAll(async () => {
  await sim?.stop();
});

describe('snapshot', () => {
  it('needs HTTP digest: 401 with a challenge without, 200 JPEG with', async () => {
    const bare = await fetch(snapshot);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(
      /^Digest realm="[^"]+", qop="auth", nonce="[0-9a-f]+", algorithm=MD5$/,
    );
    const wrong = await digestGet(snapshot, 'admin', 'nope');
    expect(wrong.status).toBe(401);
    const ok = await digestGet(snapshot, 'admin', 'pw');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/jpeg');
  });

  it('rejects a replayed digest nonce count', async () => {
    const challenge = (await fetch(snapshot)).headers.get('www-authenticate')!;
    const path = new URL(snapshot);
    const authorization = digestAuthorization(
      challenge,
      'GET',
      path.pathname + path.search,
      'admin',
      'pw',
      1,
    );
    expect((await fetch(snapshot, { headers: { authorization } })).status).toBe(200);
    expect((await fetch(snapshot, { headers: { authorization } })).status).toBe(401);
  });

  it('is bright and coloured by day, grey by IR at night, near-black at night with the IR failed', async () => {
    const day = await snapStats();
    await post('/clock', { mode: 'night' });
    const night = await snapStats();
    await post('/fault', { fault: 'ir-failure', active: true });
    const dark = await snapStats();
    await post('/fault', { fault: 'ir-failure', active: false });
    await post('/clock', { mode: 'day' });
    expect({ w: day.width, h: day.height }).toEqual({ w: 320, h: 180 });
    expect(day.luma).toBeGreaterThan(100);
    expect(day.saturation).toBeGreaterThan(0.15);
    expect(night.luma).toBeGreaterThan(35);
    expect(night.luma).toBeLessThan(day.luma);
    expect(night.saturation).toBeLessThan(0.08);
    expect(dark.luma).toBeLessThan(12);
    const state = (await (await fetch(`${control}/state`)).json()) as { snapshotsServed: number };
    expect(state.snapshotsServed).toBeGreaterThanOrEqual(3);
  });

  it('serves snapshots fast (bounded loop)', async () => {
    const t0 = performance.now();
    let n = 0;
    while (n < 200 && performance.now() - t0 < 5000) {
      expect((await digestGet(snapshot, 'admin', 'pw')).status).toBe(200);
      n++;
    }
    const perS = n / ((performance.now() - t0) / 1000);
    console.log(`snapshot rate (digest, 2 requests each, sequential): ${perS.toFixed(0)}/s over ${n}`);
    expect(perS).toBeGreaterThan(20);
  });
});

describe('RTSP', () => {
  it('answers OPTIONS, and DESCRIBE with digest and an H.264 SDP', async () => {
    const opts = await rtspRequest(rtsp, 'OPTIONS');
    expect(opts.status).toBe(200);
    expect(opts.headers['public']).toMatch(/DESCRIBE/);
    const first = await rtspRequest(rtsp, 'DESCRIBE', { Accept: 'application/sdp' });
    expect(first.status).toBe(401);
    const challenge = first.headers['www-authenticate']!;
    expect(challenge).toMatch(/^Digest realm=/);
    const bad = await rtspRequest(rtsp, 'DESCRIBE', {
      Authorization: digestAuthorization(challenge, 'DESCRIBE', rtsp, 'admin', 'x'),
    });
    expect(bad.status).toBe(401);
    const ok = await rtspRequest(rtsp, 'DESCRIBE', {
      Accept: 'application/sdp',
      Authorization: digestAuthorization(challenge, 'DESCRIBE', rtsp, 'admin', 'pw'),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/sdp');
    expect(ok.body).toMatch(/m=video 0 RTP\/AVP 96/);
    expect(ok.body).toMatch(/a=rtpmap:96 H264\/90000/);
    const missing = await rtspRequest(rtsp.replace(/101$/, '999'), 'DESCRIBE');
    expect(missing.status).toBe(404);
  });

  it('rtsp-down closes only the RTSP port', async () => {
    await post('/fault', { fault: 'rtsp-down', active: true });
    await expect(rtspRequest(rtsp, 'OPTIONS')).rejects.toThrow(/ECONNREFUSED/);
    expect((await digestGet(snapshot, 'admin', 'pw')).status).toBe(200);
    await post('/fault', { fault: 'rtsp-down', active: false });
    expect((await rtspRequest(rtsp, 'OPTIONS')).status).toBe(200);
  });
});
