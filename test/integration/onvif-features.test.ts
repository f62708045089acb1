import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceError } from '../../drivers/contract/errors.ts';
import { createOnvifDriver, type OnvifProbeDriver } from '../../drivers/onvif/index.ts';
import { eventually, freePort } from '../helpers/procs.ts';
import { startProbeSim, type ProbeSim } from '../helpers/onvif-replay.ts';

const log = pino({ level: 'silent' });

// A camera that lacks imaging (the simulator's imaging-unsupported fault answers every
// imaging operation with ter:ActionNotSupported), then faults that hit several checks.
describe('probe features and independent checks vs the probe simulator', () => {
  let sim: ProbeSim;
  let driver: OnvifProbeDriver;
  const imagingCalls = async () =>
    ((await sim.state()).soapRequests as Record<string, number>).GetImagingSettings ?? 0;

  beforeAll(async () => {
    sim = await startProbeSim([
      '--http',
      `127.0.0.1:${await freePort()}`,
      '--control',
      `127.0.0.1:${await freePort()}`,
      '--user',
      'admin',
      '--password',
      'secret',
      '--no-discovery',
      '--fault',
      'imaging-unsupported',
    ]);
    driver = createOnvifDriver(
      'probe-feat',
      'probe',
      { url: sim.deviceUrl, username: 'admin', password: 'secret', timeoutMs: 2000, eventPullS: 1 },
      { log, emit: () => undefined, dataDir: '/tmp' },
    ) as OnvifProbeDriver;
    await eventually(() => driver.connect().then(() => true), { timeoutMs: 30_000, what: 'connected' });
  });

  afterAll(async () => {
    await driver?.close();
    await sim?.proc.stop();
  });

  it('a camera without imaging is online with imaging unsupported, asked once, the other checks run', async () => {
    const r = await eventually(
      async () => {
        const x = await driver.read();
        return x.health?.checks?.events?.status === 'ok' ? x : undefined;
      },
      { what: 'events subscribed' },
    );
    await driver.read();
    await driver.read();
    expect(r.health).toMatchObject({ status: 'online' });
    expect(r.health!.detail).toMatch(/not supported by the camera: imaging/);
    expect(r.health!.checks).toMatchObject({
      clock: { status: 'ok' },
      device: { status: 'ok' },
      media: { status: 'ok' },
      snapshot: { status: 'ok' },
      stream: { status: 'ok' },
      imaging: { status: 'unsupported', detail: expect.stringMatching(/ActionNotSupported/) },
      events: { status: 'ok' },
    });
    expect(driver.features()).toEqual({
      imaging: 'unsupported',
      events: 'ok',
      snapshot: 'ok',
      stream: 'ok',
      'relay-outputs': 'ok',
    });
    expect(r.fields).toMatchObject({ online: true, stream_ok: true });
    expect((r.fields as { snapshot_luma?: number }).snapshot_luma).toBeGreaterThan(0);
    expect(await imagingCalls()).toBe(1); // not asked again every poll
    await expect(driver.execute({ action: 'set-ir-mode', mode: 'on' })).rejects.toMatchObject({
      kind: 'unsupported',
    });
  });

  it('asks again after a reconnect, and finds imaging once the camera has it', async () => {
    await sim.control('/fault', { fault: 'imaging-unsupported', active: false });
    await driver.read();
    expect(driver.features().imaging).toBe('unsupported'); // believed until re-probed
    await sim.control('/fault', { fault: 'offline', active: true });
    await expect(driver.read()).rejects.toMatchObject({ reason: 'connection-refused' });
    await sim.control('/fault', { fault: 'offline', active: false });
    await eventually(async () => (await driver.read().catch(() => undefined))?.health?.status === 'online', {
      what: 'back online',
    });
    expect(driver.features().imaging).toBe('ok');
    expect((await driver.read()).fields).toMatchObject({ ir_mode: 'auto' });
  });

  it('names the most serious problem, not the first, and runs every check', async () => {
    await sim.control('/fault', { fault: 'clock-skew', active: true, skewS: 120 });
    await sim.control('/fault', { fault: 'rtsp-down', active: true });
    const r = await driver.read();
    expect(r.health).toMatchObject({ status: 'degraded', reason: 'stream-unreachable' });
    expect(r.health!.detail).toMatch(/^stream: .*; clock: device clock off by/);
    expect(r.health!.checks).toMatchObject({
      clock: { status: 'failed', reason: 'clock-skew' },
      stream: { status: 'failed', reason: 'stream-unreachable' },
      snapshot: { status: 'ok' },
      imaging: { status: 'ok' },
    });
    expect(r.fields).toMatchObject({ stream_ok: false, ir_mode: 'auto' });
    await sim.control('/fault', { fault: 'rtsp-down', active: false });
    await sim.control('/fault', { fault: 'clock-skew', active: false });
  });

  it.each([
    ['snapshot-404', /^the camera answered HTTP 404 for its snapshot URL; check the snapshot profile$/],
    ['snapshot-garbage', /not a JPEG \(image\/jpeg, 45 bytes, starting 3c68746d6c3e3c62\)/],
  ])(
    '%s: the snapshot fails as bad-response with words to act on; the rest still checked',
    async (fault, words) => {
      await sim.control('/fault', { fault, active: true });
      const err = await driver.execute({ action: 'snapshot' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeviceError);
      expect(err).toMatchObject({ reason: 'bad-response', status: 'degraded' });
      expect((err as Error).message).toMatch(words);
      const r = await driver.read();
      expect(r.health).toMatchObject({ status: 'degraded', reason: 'bad-response' });
      expect(r.health!.checks).toMatchObject({
        snapshot: { status: 'failed', reason: 'bad-response' },
        stream: { status: 'ok' },
        imaging: { status: 'ok' },
      });
      await sim.control('/fault', { fault, active: false });
      expect((await driver.read()).health?.status).toBe('online');
    },
  );
});
