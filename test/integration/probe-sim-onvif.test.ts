import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startTs, type Proc } from '../helpers/procs.ts';
import { soapCall, usernameTokenHeader } from '../../device-sims/probe/tools/soap-client.ts';

// node-onvif is CommonJS without types: the few members used here, typed locally.
interface OnvifProfile {
  token: string;
  snapshot: string;
  stream: { udp: string; rtsp: string };
  video: { encoder: { encoding: string; resolution: { width: number; height: number } } };
}
interface OnvifDeviceT {
  init(): Promise<{ Manufacturer: string; Model: string; SerialNumber: string }>;
  getCurrentProfile(): OnvifProfile;
  getProfileList(): OnvifProfile[];
  getUdpStreamUrl(): string;
  fetchSnapshot(): Promise<{ headers: Record<string, string>; body: Buffer }>;
}
const require = createRequire(`${ROOT}/package.json`);
const onvif = require('node-onvif') as {
  OnvifDevice: new (p: { xaddr: string; user: string; pass: string }) => OnvifDeviceT;
};

const USER = 'operator';
const PASS = 'n1ght-Watch';
const SKEW_S = 900; // beyond the 300 s WS-Security window: only clients that compensate get in
let sim: Proc;
let device: string;

beforeAll(async () => {
  sim = startTs('device-sims/main.ts', [
    'probe',
    '--http',
    '127.0.0.1:0',
    '--user',
    USER,
    '--password',
    PASS,
    '--skew-s',
    String(SKEW_S),
    '--model',
    'IR-Test',
    '--manufacturer',
    'Acme',
    '--serial',
    'SN-4711',
    '--no-discovery',
  ]);
  const line = await sim.waitFor(/listening/);
  device = /device_service=(\S+)/.exec(line)![1]!;
});
afterAll(async () => {
  await sim?.stop();
});

const auth = (createdMs = Date.now() + SKEW_S * 1000, nonce?: string) => ({
  user: USER,
  password: PASS,
  createdMs,
  ...(nonce ? { nonce } : {}),
});

describe('probe simulator against node-onvif', () => {
  it('init() with credentials, profiles, stream URL and snapshot', async () => {
    const cam = new onvif.OnvifDevice({ xaddr: device, user: USER, pass: PASS });
    const info = await cam.init();
    expect(info).toMatchObject({ Manufacturer: 'Acme', Model: 'IR-Test', SerialNumber: 'SN-4711' });
    const profiles = cam.getProfileList();
    expect(profiles.map((p) => p.video.encoder.resolution)).toEqual([
      { width: 1920, height: 1080 },
      { width: 640, height: 360 },
    ]);
    expect(profiles.every((p) => p.video.encoder.encoding === 'H264')).toBe(true);
    expect(cam.getCurrentProfile().token).toBe('Profile_1');
    expect(cam.getUdpStreamUrl()).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/Streaming\/Channels\/101$/);
    const snap = await cam.fetchSnapshot(); // HTTP digest handled by node-onvif itself
    expect(snap.headers['content-type']).toBe('image/jpeg');
    expect(snap.body.subarray(0, 2).toString('hex')).toBe('ffd8');
  });

  it('init() with a wrong password fails with NotAuthorized', async () => {
    const cam = new onvif.OnvifDevice({ xaddr: device, user: USER, pass: 'guess' });
    await expect(cam.init()).rejects.toThrow(/Not Authorized/i);
  });
});

describe('SOAP and WS-Security details', () => {
  it('GetSystemDateAndTime needs no credentials and reports the skewed clock, UTC and local', async () => {
    const r = await soapCall(device, '<tds:GetSystemDateAndTime/>');
    expect(r.status).toBe(200);
    const sdt = (
      r.body!['GetSystemDateAndTimeResponse'] as Record<
        string,
        Record<string, Record<string, Record<string, string>>>
      >
    ).SystemDateAndTime!;
    const utc = sdt['UTCDateTime']!;
    const camMs = Date.UTC(
      +utc['Date']!['Year']!,
      +utc['Date']!['Month']! - 1,
      +utc['Date']!['Day']!,
      +utc['Time']!['Hour']!,
      +utc['Time']!['Minute']!,
      +utc['Time']!['Second']!,
    );
    expect(Math.abs((camMs - Date.now()) / 1000 - SKEW_S)).toBeLessThan(5);
    expect(sdt['LocalDateTime']).toBeDefined();
  });

  it('rejects a missing token, a bad digest, a stale Created and a replayed nonce', async () => {
    const call = (header: string) => soapCall(device, '<tds:GetDeviceInformation/>', { header });
    expect((await call('')).fault).toBe('env:Sender ter:NotAuthorized');
    expect((await call(usernameTokenHeader({ ...auth(), password: 'x' }))).fault).toBe(
      'env:Sender ter:NotAuthorized',
    );
    // correct password but Created on the gateway's clock, not the camera's (15 min off)
    const stale = await call(usernameTokenHeader(auth(Date.now())));
    expect(stale.status).toBe(400);
    expect(stale.fault).toBe('env:Sender ter:NotAuthorized');
    const once = usernameTokenHeader(auth(undefined, Buffer.from('fixed-nonce-0001').toString('base64')));
    expect((await call(once)).status).toBe(200);
    const replay = await call(once);
    expect(replay.fault).toBe('env:Sender ter:NotAuthorized');
    expect(replay.text).toMatch(/nonce already used/);
  });

  it('answers an unknown operation with ter:ActionNotSupported', async () => {
    const r = await soapCall(device, '<tds:GetDot11Capabilities/>', { auth: auth() });
    expect(r.status).toBe(500);
    expect(r.fault).toBe('env:Receiver ter:ActionNotSupported');
  });

  it('refuses DOCTYPE/ENTITY and malformed XML with a sender fault, and keeps serving', async () => {
    const evil = await fetch(device, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml' },
      body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&a;</s:Body></s:Envelope>',
    });
    expect(evil.status).toBe(400);
    expect(await evil.text()).toMatch(/ter:WellFormed/);
    const broken = await fetch(device, { method: 'POST', body: '<s:Envelope><s:Body><oops' });
    expect(broken.status).toBe(400);
    const big = await fetch(device, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(big.status).toBe(413);
    expect((await soapCall(device, '<tds:GetDeviceInformation/>', { auth: auth() })).status).toBe(200);
  });

  it('drives the relay output and reads its state back (GetRelayOutputs, control /state)', async () => {
    const control = /control=(\S+)/.exec(sim.output())![1]!;
    const set = await soapCall(
      device,
      '<tds:SetRelayOutputState><tds:RelayOutputToken>RelayOutput_0</tds:RelayOutputToken><tds:LogicalState>active</tds:LogicalState></tds:SetRelayOutputState>',
      { auth: auth() },
    );
    expect(set.status).toBe(200);
    const get = await soapCall(device, '<tds:GetRelayOutputs/>', { auth: auth() });
    expect(get.text).toMatch(/<ghx:LogicalState>active<\/ghx:LogicalState>/);
    const state = (await (await fetch(`${control}/state`)).json()) as { relay: { logicalState: string } };
    expect(state.relay.logicalState).toBe('active');
    // monostable: falls back to inactive by itself after DelayTime
    const settings = await soapCall(
      device,
      '<tds:SetRelayOutputSettings><tds:RelayOutputToken>RelayOutput_0</tds:RelayOutputToken><tds:Properties><tt:Mode>Monostable</tt:Mode><tt:DelayTime>PT1S</tt:DelayTime><tt:IdleState>open</tt:IdleState></tds:Properties></tds:SetRelayOutputSettings>',
      { auth: auth() },
    );
    expect(settings.status).toBe(200);
    await soapCall(
      device,
      '<tds:SetRelayOutputState><tds:RelayOutputToken>RelayOutput_0</tds:RelayOutputToken><tds:LogicalState>active</tds:LogicalState></tds:SetRelayOutputState>',
      { auth: auth() },
    );
    await new Promise((r) => setTimeout(r, 1500));
    const after = await soapCall(device, '<tds:GetRelayOutputs/>', { auth: auth() });
    expect(after.text).toMatch(/<ghx:LogicalState>inactive<\/ghx:LogicalState>/);
    const badToken = await soapCall(
      device,
      '<tds:SetRelayOutputState><tds:RelayOutputToken>nope</tds:RelayOutputToken><tds:LogicalState>active</tds:LogicalState></tds:SetRelayOutputState>',
      { auth: auth() },
    );
    expect(badToken.fault).toBe('env:Sender ter:InvalidArgs');
  });

  it('serves the other device, media and imaging operations', async () => {
    const media = device.replace('device_service', 'Media');
    const imaging = device.replace('device_service', 'Imaging');
    for (const op of ['GetCapabilities', 'GetServices', 'GetScopes', 'GetNetworkInterfaces', 'GetHostname']) {
      const r = await soapCall(device, `<tds:${op}/>`, { auth: auth() });
      expect(r.body?.[`${op}Response`], op).toBeDefined();
    }
    const vs = await soapCall(media, '<trt:GetVideoSources/>', { auth: auth() });
    expect(vs.text).toMatch(/token="VideoSource_1"/);
    const src = '<timg:VideoSourceToken>VideoSource_1</timg:VideoSourceToken>';
    const set = await soapCall(
      imaging,
      `<timg:SetImagingSettings>${src}<timg:ImagingSettings><tt:IrCutFilter>OFF</tt:IrCutFilter></timg:ImagingSettings></timg:SetImagingSettings>`,
      { auth: auth() },
    );
    expect(set.status).toBe(200);
    const get = await soapCall(imaging, `<timg:GetImagingSettings>${src}</timg:GetImagingSettings>`, {
      auth: auth(),
    });
    expect(get.text).toMatch(/<tt:IrCutFilter>OFF<\/tt:IrCutFilter>/);
    const opts = await soapCall(imaging, `<timg:GetOptions>${src}</timg:GetOptions>`, { auth: auth() });
    expect(opts.text.match(/IrCutFilterModes>/g)?.length).toBe(6);
    const bad = await soapCall(
      imaging,
      `<timg:SetImagingSettings>${src}<timg:ImagingSettings><tt:IrCutFilter>MAYBE</tt:IrCutFilter></timg:ImagingSettings></timg:SetImagingSettings>`,
      { auth: auth() },
    );
    expect(bad.fault).toBe('env:Sender ter:InvalidArgs');
    await soapCall(
      imaging,
      `<timg:SetImagingSettings>${src}<timg:ImagingSettings><tt:IrCutFilter>AUTO</tt:IrCutFilter></timg:ImagingSettings></timg:SetImagingSettings>`,
      { auth: auth() },
    );
  });
});
