import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTs, type Proc } from '../helpers/procs.ts';
import { digestGet, rtspRequest, soapCall } from '../../device-sims/probe/tools/soap-client.ts';

const creds = { user: 'admin', password: 'pw' };
let sim: Proc;
let device: string;
let snapshot: string;
let rtsp: string;
let control: string;

async function fault(
  name: string,
  active: boolean,
  extra: Record<string, number> = {},
): Promise<Record<string, unknown>> {
  const r = await fetch(`${control}/fault`, {
    method: 'POST',
    body: JSON.stringify({ fault: name, active, ...extra }),
  });
  expect(r.status).toBe(200);
  return (await r.json()) as Record<string, unknown>;
}
const info = () => soapCall(device, '<tds:GetDeviceInformation/>', { auth: creds });

beforeAll(async () => {
  sim = startTs('device-sims/main.ts', ['probe', '--user', 'admin', '--password', 'pw', '--no-discovery']);
  const line = await sim.waitFor(/listening/);
  device = /device_service=(\S+)/.exec(line)![1]!;
  snapshot = /snapshot=(\S+)/.exec(line)![1]!;
  rtsp = /rtsp=(\S+)/.exec(line)![1]!;
  control = /control=(\S+)/.exec(line)![1]!;
});
afterAll(async () => {
  await sim?.stop();
});

describe('fault modes', () => {
  it('wrong-password: the old credentials stop working everywhere', async () => {
    await fault('wrong-password', true);
    expect((await info()).fault).toBe('env:Sender ter:NotAuthorized');
    expect((await digestGet(snapshot, 'admin', 'pw')).status).toBe(401);
    await fault('wrong-password', false);
    expect((await info()).status).toBe(200);
  });

  it('slow: answers after delayMs', async () => {
    await fault('slow', true, { delayMs: 700 });
    const t0 = Date.now();
    expect((await info()).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
    await fault('slow', false);
  });

  it('garbage-xml: 200 with a body no XML parser accepts', async () => {
    await fault('garbage-xml', true);
    const r = await info();
    expect(r.status).toBe(200);
    expect(r.body).toBeUndefined();
    await fault('garbage-xml', false);
    expect((await info()).body?.['GetDeviceInformationResponse']).toBeDefined();
  });

  it('http-500: SOAP and snapshot answer 500', async () => {
    await fault('http-500', true);
    expect((await info()).status).toBe(500);
    expect((await fetch(snapshot)).status).toBe(500);
    await fault('http-500', false);
  });

  it('clock-skew: the reported clock jumps and clients that do not compensate are refused', async () => {
    const state = await fault('clock-skew', true, { skewS: 7200 });
    expect((state['clock'] as { skewS: number }).skewS).toBe(7200);
    const r = await soapCall(device, '<tds:GetSystemDateAndTime/>');
    const hour = Number(/<tt:UTCDateTime><tt:Time><tt:Hour>(\d+)/.exec(r.text)![1]);
    expect(hour).toBe(new Date(Date.now() + 7200_000).getUTCHours());
    expect((await info()).fault).toBe('env:Sender ter:NotAuthorized');
    expect(
      (
        await soapCall(device, '<tds:GetDeviceInformation/>', {
          auth: { ...creds, createdMs: Date.now() + 7200_000 },
        })
      ).status,
    ).toBe(200);
    await fault('clock-skew', false);
    expect((await info()).status).toBe(200);
  });

  it('ir-failure: reported in /state', async () => {
    const state = await fault('ir-failure', true);
    expect((state['faults'] as Record<string, boolean>)['ir-failure']).toBe(true);
    await fault('ir-failure', false);
  });

  it('offline: HTTP and RTSP refuse connections, control stays up, and it comes back', async () => {
    const state = await fault('offline', true);
    expect(state['online']).toBe(false);
    await expect(info()).rejects.toThrow();
    await expect(rtspRequest(rtsp, 'OPTIONS')).rejects.toThrow(/ECONNREFUSED/);
    await fault('offline', false);
    expect((await info()).status).toBe(200);
    expect((await rtspRequest(rtsp, 'OPTIONS')).status).toBe(200);
  });

  it('rejects unknown faults and bad bodies with a 400 naming the problem', async () => {
    const r = await fetch(`${control}/fault`, {
      method: 'POST',
      body: JSON.stringify({ fault: 'melted', active: true }),
    });
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/fault/);
    expect((await fetch(`${control}/nope`)).status).toBe(404);
  });
});

describe('--count', () => {
  let many: Proc;
  afterAll(async () => {
    await many?.stop();
  });

  it('runs N cameras in one process, each with its own ports and control path', async () => {
    many = startTs('device-sims/main.ts', [
      'probe',
      '--count',
      '3',
      '--no-discovery',
      '--user',
      'u',
      '--password',
      'p',
    ]);
    await many.waitFor(/cam=2 /);
    const lines = many
      .output()
      .split('\n')
      .filter((l) => l.includes('listening'));
    expect(lines).toHaveLength(3);
    const devices = lines.map((l) => /device_service=(\S+)/.exec(l)![1]!);
    expect(new Set(devices).size).toBe(3);
    const controls = lines.map((l) => /control=(\S+)/.exec(l)![1]!);
    expect(controls[1]).toMatch(/\/cam\/1$/);
    await fetch(`${controls[1]}/event`, {
      method: 'POST',
      body: JSON.stringify({ type: 'motion', active: true }),
    });
    const s1 = (await (await fetch(`${controls[1]}/state`)).json()) as { motion: boolean; serial: string };
    const s0 = (await (await fetch(`${controls[0]}/state`)).json()) as { motion: boolean; serial: string };
    expect([s0.motion, s1.motion]).toEqual([false, true]);
    expect(s0.serial).not.toBe(s1.serial);
    for (const d of devices) {
      expect(
        (await soapCall(d, '<tds:GetDeviceInformation/>', { auth: { user: 'u', password: 'p' } })).status,
      ).toBe(200);
    }
  });

  it('a fault reaches the camera its path names; a request naming two cameras is refused, changing none', async () => {
    const controls = many
      .output()
      .split('\n')
      .filter((l) => l.includes('listening'))
      .map((l) => /control=(\S+)/.exec(l)![1]!);
    const post = (url: string, active: boolean) =>
      fetch(url, { method: 'POST', body: JSON.stringify({ fault: 'garbage-xml', active }) });
    const garbled = async () =>
      (
        (await (await fetch(`${controls[0]!.replace(/\/cam\/0$/, '')}/cams`)).json()) as {
          faults: Record<string, boolean>;
        }[]
      ).map((c) => c.faults['garbage-xml']);

    expect((await post(`${controls[2]}/fault`, true)).status).toBe(200);
    expect(await garbled()).toEqual([false, false, true]);
    // camera 0's control URL with ?cam=1: which one was meant cannot be told
    const both = await post(`${controls[0]}/fault?cam=1`, true);
    expect(both.status).toBe(400);
    expect(await both.text()).toMatch(/two cameras named: \/cam\/0 and \?cam=1/);
    expect(await garbled()).toEqual([false, false, true]);
    expect((await post(`${controls[1]}/fault?cam=1`, true)).status).toBe(200);
    expect(await garbled()).toEqual([false, true, true]);
  });
});
