import jpeg from 'jpeg-js';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PullPointManager, type OnvifEventMessage } from '../../drivers/onvif/events.ts';
import { SoapClient, SoapFaultError } from '../../drivers/onvif/soap/client.ts';
import { takeSnapshot } from '../../drivers/onvif/snapshot.ts';
import { pick, text } from '../../drivers/onvif/xml.ts';
import { freePort } from '../helpers/procs.ts';
import { FIXTURES_PRESENT, startReplay, type Replay } from '../helpers/onvif-replay.ts';

// Drives our SOAP client over real HTTP on 127.0.0.1 against recorded camera answers.
describe.skipIf(!FIXTURES_PRESENT)('SOAP client vs replayed cameras (fixtures present)', () => {
  let mode: 'replay' | 'garbage' | 'http-500' | 'hang' | 'unauthorized' = 'replay';
  let hik: Replay;
  let axis: Replay;
  const grey = (() => {
    const data = Buffer.alloc(32 * 32 * 4, 90);
    return jpeg.encode({ data, width: 32, height: 32 }, 80).data;
  })();

  beforeAll(async () => {
    hik = await startReplay({
      camera: 'hikvision',
      mode: () => mode,
      snapshot: { jpeg: grey, username: 'admin', password: 'pw' },
    });
    axis = await startReplay({ camera: 'axis' });
  });
  afterAll(async () => {
    await hik.close();
    await axis.close();
  });

  it('reads the device clock unauthenticated and reports the skew (recorded 2018 clock)', async () => {
    const c = new SoapClient({ url: axis.url, username: 'u', password: 'p', timeoutMs: 2000 });
    const skew = await c.syncClock();
    expect(skew).toBeLessThan(-200_000_000); // years behind
    expect(c.offsetMs).toBeCloseTo(skew * 1000, -3);
  });

  it('reads capabilities with addresses rewritten to where we reach the camera', async () => {
    const c = new SoapClient({ url: hik.url, username: 'u', password: 'p', timeoutMs: 2000 });
    const body = await c.call('<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>');
    const media = text(pick(body, 'GetCapabilitiesResponse', 'Capabilities', 'Media', 'XAddr'));
    expect(media).toBe(`http://127.0.0.1:${hik.port}/onvif/Media`);
  });

  it('raises a recorded fault as SoapFaultError with code/subcode/reason', async () => {
    const c = new SoapClient({ url: axis.url, timeoutMs: 2000 });
    const err = await c.call('<trt:GetOSDs/>').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SoapFaultError);
    expect((err as SoapFaultError).fault).toEqual({
      code: 'Receiver',
      subcode: 'Action',
      reason: 'Action failed',
    });
  });

  it('classifies garbage, HTTP 500, 401, silence and refusal', async () => {
    const c = new SoapClient({ url: hik.url, username: 'u', password: 'p', timeoutMs: 400 });
    const reasonOf = async (m: typeof mode) => {
      mode = m;
      try {
        await c.call('<tds:GetDeviceInformation/>');
        return 'ok';
      } catch (e) {
        return (e as { reason?: string }).reason;
      } finally {
        mode = 'replay';
      }
    };
    expect(await reasonOf('garbage')).toBe('bad-response');
    expect(await reasonOf('http-500')).toBe('bad-response');
    expect(await reasonOf('unauthorized')).toBe('auth-failed');
    expect(await reasonOf('hang')).toBe('timeout');
    expect(await reasonOf('replay')).toBe('ok');
    const closed = new SoapClient({
      url: `http://127.0.0.1:${await freePort()}/onvif/device_service`,
      timeoutMs: 400,
    });
    await expect(closed.call('<tds:GetDeviceInformation/>')).rejects.toMatchObject({
      reason: 'connection-refused',
    });
  });

  it('fetches a snapshot through HTTP digest and measures luma', async () => {
    const snap = await takeSnapshot({
      url: `http://127.0.0.1:${hik.port}/snapshot.jpg`,
      username: 'admin',
      password: 'pw',
      timeoutMs: 2000,
    });
    expect(snap.contentType).toBe('image/jpeg');
    expect(snap.luma).toBeGreaterThan(80);
    expect(snap.luma).toBeLessThan(100);
    await expect(
      takeSnapshot({
        url: `http://127.0.0.1:${hik.port}/snapshot.jpg`,
        username: 'admin',
        password: 'bad',
        timeoutMs: 2000,
      }),
    ).rejects.toMatchObject({ reason: 'auth-failed' });
  });

  it('bounds a snapshot that never completes', async () => {
    const srv = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.write(grey.subarray(0, 10)); // headers and a few bytes, then nothing
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const t0 = Date.now();
    await expect(
      takeSnapshot({ url: `http://127.0.0.1:${port}/s.jpg`, timeoutMs: 300 }),
    ).rejects.toMatchObject({ reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(3000);
    srv.closeAllConnections();
    srv.close();
  });

  it('creates a pull-point from the recording and pulls its messages', async () => {
    const c = new SoapClient({ url: hik.url, username: 'u', password: 'p', timeoutMs: 2000 });
    const seen: string[] = [];
    const got: OnvifEventMessage[] = [];
    const pp = new PullPointManager({
      client: c,
      eventsUrl: `http://127.0.0.1:${hik.port}/onvif/Events`,
      leaseS: 60,
      pullTimeoutS: 1,
      onMessage: (m) => got.push(m),
      onStateChange: (w) => seen.push(w),
    });
    pp.start();
    await new Promise((r) => setTimeout(r, 300));
    await pp.stop();
    expect(pp.created).toBeGreaterThanOrEqual(1);
    expect(seen[0]).toBe('created');
    expect(hik.requests).toContain('PullMessages');
    expect(got).toEqual([]); // the recorded pull returned no messages
  });
});
