import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTs, type Proc } from '../helpers/procs.ts';
import { soapCall, type SoapReply } from '../../device-sims/probe/tools/soap-client.ts';

const creds = { user: 'admin', password: 'pw' };
let sim: Proc;
let events: string;
let device: string;
let control: string;

const post = (path: string, body: unknown) =>
  fetch(`${control}${path}`, { method: 'POST', body: JSON.stringify(body) });

async function subscribe(initial = 'PT60S', filter = ''): Promise<string> {
  const f = filter
    ? `<tev:Filter><wsnt:TopicExpression Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${filter}</wsnt:TopicExpression></tev:Filter>`
    : '';
  const r = await soapCall(
    events,
    `<tev:CreatePullPointSubscription>${f}<tev:InitialTerminationTime>${initial}</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`,
    { auth: creds },
  );
  expect(r.status, r.text).toBe(200);
  const address = /<wsa:Address>([^<]+)<\/wsa:Address>/.exec(r.text)![1]!;
  expect(r.text).toMatch(/<wsnt:TerminationTime>/);
  return address;
}
const pull = (sub: string, timeout = 'PT1S', limit = 50) =>
  soapCall(
    sub,
    `<tev:PullMessages><tev:Timeout>${timeout}</tev:Timeout><tev:MessageLimit>${limit}</tev:MessageLimit></tev:PullMessages>`,
    { auth: creds, timeoutMs: 20_000 },
  );

/** [topic, data item name, value] for each notification in a PullMessages reply. */
function messages(r: SoapReply): [string, string, string][] {
  return [
    ...r.text.matchAll(
      /<wsnt:Topic[^>]*>([^<]+)<\/wsnt:Topic>.*?PropertyOperation="(\w+)".*?<tt:Data><tt:SimpleItem Name="([^"]+)" Value="([^"]+)"/g,
    ),
  ].map((m) => [`${m[1]}:${m[2]}`, m[3]!, m[4]!]);
}

beforeAll(async () => {
  sim = startTs('device-sims/main.ts', ['probe', '--user', 'admin', '--password', 'pw', '--no-discovery']);
  const line = await sim.waitFor(/listening/);
  device = /device_service=(\S+)/.exec(line)![1]!;
  events = device.replace('device_service', 'Events');
  control = /control=(\S+)/.exec(line)![1]!;
});
afterAll(async () => {
  await sim?.stop();
});

describe('pull-point events', () => {
  it('advertises the topics in GetEventProperties', async () => {
    const r = await soapCall(events, '<tev:GetEventProperties/>', { auth: creds });
    for (const t of [
      'CellMotionDetector',
      'MotionAlarm',
      'TamperDetector',
      'GlobalSceneChange',
      'ImageTooDark',
      'DayNightVision',
      'Relay',
    ]) {
      expect(r.text).toContain(t);
    }
  });

  it('sends Initialized values, then motion, tamper and day/night changes', async () => {
    const sub = await subscribe();
    expect(sub).toMatch(/\/onvif\/Events\/PullSubManager_[0-9a-f]+$/);
    const init = messages(await pull(sub));
    expect(init).toContainEqual([
      'tns1:RuleEngine/CellMotionDetector/Motion:Initialized',
      'IsMotion',
      'false',
    ]);
    expect(init).toContainEqual(['tns1:VideoSource/DayNightVision:Initialized', 'day', 'true']);

    // a long poll that is answered by the event as it happens
    const waiting = pull(sub, 'PT20S');
    await new Promise((r) => setTimeout(r, 300));
    await post('/event', { type: 'motion', active: true });
    const t0 = Date.now();
    const got = messages(await waiting);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(got).toContainEqual(['tns1:RuleEngine/CellMotionDetector/Motion:Changed', 'IsMotion', 'true']);
    expect(got).toContainEqual(['tns1:VideoSource/MotionAlarm:Changed', 'State', 'true']);

    await post('/event', { type: 'tamper', active: true });
    await post('/clock', { mode: 'night' });
    await post('/fault', { fault: 'ir-failure', active: true });
    const more = messages(await pull(sub));
    expect(more).toContainEqual(['tns1:RuleEngine/TamperDetector/Tamper:Changed', 'IsTamper', 'true']);
    expect(more).toContainEqual([
      'tns1:VideoSource/GlobalSceneChange/ImagingService:Changed',
      'State',
      'true',
    ]);
    expect(more).toContainEqual(['tns1:VideoSource/DayNightVision:Changed', 'day', 'false']);
    expect(more).toContainEqual(['tns1:VideoSource/ImageTooDark/ImagingService:Changed', 'State', 'true']);
    await post('/fault', { fault: 'ir-failure', active: false });
    await post('/clock', { mode: 'day' });
    await post('/event', { type: 'tamper', active: false });
    await post('/event', { type: 'motion', active: false });

    const none = await pull(sub, 'PT0S');
    const limited = messages(await pull(sub, 'PT0S', 2));
    expect(messages(none).length).toBeGreaterThan(0);
    expect(limited.length).toBeLessThanOrEqual(2);
    expect((await soapCall(sub, '<wsnt:Unsubscribe/>', { auth: creds })).status).toBe(200);
    expect((await pull(sub, 'PT0S')).fault).toBe('env:Sender wsrf-r:ResourceUnknownFault');
  });

  it('filters by topic expression', async () => {
    const sub = await subscribe('PT60S', 'tns1:RuleEngine//.');
    const init = messages(await pull(sub));
    expect(init.length).toBeGreaterThan(0);
    expect(init.every(([t]) => t.startsWith('tns1:RuleEngine/'))).toBe(true);
  });

  it('expires at its termination time, and Renew extends it', async () => {
    const renewed = await subscribe('PT2S');
    const lapsing = await subscribe('PT2S');
    const r = await soapCall(
      renewed,
      '<wsnt:Renew><wsnt:TerminationTime>PT30S</wsnt:TerminationTime></wsnt:Renew>',
      { auth: creds },
    );
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/<wsnt:RenewResponse><wsnt:TerminationTime>/);
    await new Promise((res) => setTimeout(res, 3000));
    const gone = await pull(lapsing, 'PT0S');
    expect(gone.status).toBe(400);
    expect(gone.fault).toBe('env:Sender wsrf-r:ResourceUnknownFault');
    expect((await pull(renewed, 'PT0S')).status).toBe(200);
  });

  it('a reboot drops every subscription and restarts uptime', async () => {
    const sub = await subscribe();
    await pull(sub, 'PT0S', 100); // drain Initialized so the next poll waits
    // settles with the camera: a fault or a dropped connection, never messages
    const pending = pull(sub, 'PT20S', 1).then(
      (r) => r.fault ?? 'answered',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 200));
    const before = (await (await fetch(`${control}/state`)).json()) as {
      bootCount: number;
      subscriptions: number;
    };
    expect(before.subscriptions).toBeGreaterThan(0);
    expect((await post('/reboot', { downMs: 800 })).status).toBe(202);
    await expect(fetch(device)).rejects.toThrow();
    expect(await pending).not.toBe('answered');
    const after = await eventually(
      async () => {
        const s = (await (await fetch(`${control}/state`)).json()) as {
          online: boolean;
          bootCount: number;
          uptimeS: number;
          subscriptions: number;
        };
        return s.online ? s : undefined;
      },
      { what: 'camera back after reboot' },
    );
    expect(after.bootCount).toBe(before.bootCount + 1);
    expect(after.uptimeS).toBeLessThan(5);
    expect(after.subscriptions).toBe(0);
    expect((await pull(sub, 'PT0S')).fault).toBe('env:Sender wsrf-r:ResourceUnknownFault');
  });
});
