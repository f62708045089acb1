import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent, ProbeFields } from '../../drivers/contract/canonical.ts';
import { DeviceError } from '../../drivers/contract/errors.ts';
import { createOnvifDriver, type OnvifProbeDriver, type Snapshot } from '../../drivers/onvif/index.ts';
import { eventually, freePort } from '../helpers/procs.ts';
import { startProbeSim, type ProbeSim } from '../helpers/onvif-replay.ts';

const log = pino({ level: 'silent' });

describe('OnvifProbeDriver vs the probe simulator', () => {
  let sim: ProbeSim;
  let driver: OnvifProbeDriver;
  const events: DeviceEvent[] = [];

  beforeAll(async () => {
    const [http, rtsp, control] = [await freePort(), await freePort(), await freePort()];
    sim = await startProbeSim([
      '--http',
      `127.0.0.1:${http}`,
      '--rtsp',
      `127.0.0.1:${rtsp}`,
      '--control',
      `127.0.0.1:${control}`,
      '--user',
      'admin',
      '--password',
      'secret',
      '--no-discovery',
      '--clock',
      'night',
    ]);
    driver = createOnvifDriver(
      'probe-1',
      'probe',
      {
        url: sim.deviceUrl,
        username: 'admin',
        password: 'secret',
        timeoutMs: 1500,
        eventLeaseS: 4,
        eventPullS: 1,
        irFaultChecks: 2,
      },
      { log, emit: (e) => events.push(e), dataDir: '/tmp' },
    ) as OnvifProbeDriver;
    // connect retried: on a loaded 2-core machine the first exchange can exceed 1.5 s
    await eventually(() => driver.connect().then(() => true), {
      timeoutMs: 30_000,
      what: 'driver connected',
    });
  });

  afterAll(async () => {
    await driver?.close();
    await sim?.proc.stop();
  });

  const reasonOf = async () => {
    try {
      const r = await driver.read();
      return r.health?.status === 'online' ? 'online' : r.health?.reason;
    } catch (e) {
      expect(e).toBeInstanceOf(DeviceError);
      return (e as DeviceError).reason;
    }
  };

  it('reads canonical probe fields and is online', async () => {
    // night comes from the pull-point's Initialized DayNightVision message
    const r = await eventually(
      async () => {
        const x = await driver.read();
        return (x.fields as ProbeFields).night !== undefined ? x : undefined;
      },
      { what: 'night known from events' },
    );
    expect(r.health?.status).toBe('online');
    expect(r.fields).toMatchObject({
      online: true,
      ir_mode: 'auto',
      night: true,
      motion: false,
      tamper: false,
      stream_ok: true,
    });
    expect(Math.abs((r.fields as { clock_skew_s: number }).clock_skew_s)).toBeLessThan(2);
    expect((r.fields as { snapshot_luma: number }).snapshot_luma).toBeGreaterThan(25);
    expect((r.fields as { snapshot_ms: number }).snapshot_ms).toBeGreaterThanOrEqual(0);
    expect(events.some((e) => e.type === 'day-night' && e.detail === 'night')).toBe(true);
  });

  it('sets IR mode and returns the read-back mode', async () => {
    expect(await driver.execute({ action: 'set-ir-mode', mode: 'off' })).toEqual({ mode: 'off' });
    expect((await driver.read()).fields).toMatchObject({ ir_mode: 'off' });
    expect(await driver.execute({ action: 'set-ir-mode', mode: 'auto' })).toEqual({ mode: 'auto' });
  });

  it('takes a snapshot on command', async () => {
    const s = (await driver.execute({ action: 'snapshot' })) as Snapshot;
    expect(s.contentType).toBe('image/jpeg');
    expect(s.jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(s.luma).toBeGreaterThan(0);
    expect(s.ms).toBeGreaterThanOrEqual(0);
  });

  it('turns motion and tamper messages into events and fields', async () => {
    const before = events.length;
    await sim.control('/event', { type: 'motion', active: true });
    await sim.control('/event', { type: 'tamper', active: true });
    await eventually(() => events.slice(before).some((e) => e.type === 'tamper' && e.data?.state === true), {
      what: 'tamper event',
    });
    expect(events.slice(before).some((e) => e.type === 'motion' && e.detail === 'motion started')).toBe(true);
    expect((await driver.read()).fields).toMatchObject({ motion: true, tamper: true });
    await sim.control('/event', { type: 'motion', active: false });
    await sim.control('/event', { type: 'tamper', active: false });
    await eventually(async () => ((await driver.read()).fields as ProbeFields).motion === false, {
      what: 'motion cleared',
    });
  });

  it('renews the pull-point subscription before its short lease ends', async () => {
    const start = driver.eventStats();
    await eventually(() => driver.eventStats().renewed > start.renewed, {
      timeoutMs: 12_000,
      what: 'a renewal',
    });
    expect(driver.eventStats().created).toBe(start.created);
  });

  const faults: [string, string, Record<string, unknown>][] = [
    ['wrong-password', 'auth-failed', {}],
    ['garbage-xml', 'bad-response', {}],
    ['http-500', 'bad-response', {}],
    ['slow', 'timeout', { delayMs: 4000 }],
    ['offline', 'connection-refused', {}],
    ['rtsp-down', 'stream-unreachable', {}],
    ['clock-skew', 'clock-skew', { skewS: 120 }],
  ];
  it.each(faults)('fault %s shows as %s and recovers', async (fault, reason, extra) => {
    await sim.control('/fault', { fault, active: true, ...extra });
    await eventually(async () => (await reasonOf()) === reason, {
      timeoutMs: 20_000,
      what: `${fault} → ${reason}`,
    });
    if (fault === 'clock-skew') {
      // signed with the device's clock, so authenticated calls still pass; the skew is reported
      const r = await driver.read();
      expect((r.fields as { clock_skew_s: number }).clock_skew_s).toBeGreaterThan(118);
      expect((r.fields as ProbeFields).ir_mode).toBe('auto');
      expect(r.health).toMatchObject({ status: 'degraded', reason: 'clock-skew' });
    }
    await sim.control('/fault', { fault, active: false });
    await eventually(async () => (await reasonOf()) === 'online', {
      timeoutMs: 20_000,
      what: `recovery from ${fault}`,
    });
  });

  it('a camera clock that jumps an hour is clock-skew from the first poll on, not refused credentials, and back', async () => {
    await eventually(async () => (await reasonOf()) === 'online', { what: 'online before the jump' });
    // An hour is far outside the camera's WS-Security window (300 s): calls the poll
    // signed with the old reading of its clock are refused for their timestamp.
    await sim.control('/fault', { fault: 'clock-skew', active: true, skewS: 3600 });
    expect(await reasonOf()).toBe('clock-skew');
    expect(driver.health()).toMatchObject({ status: 'degraded', reason: 'clock-skew' });
    expect(driver.health()?.checks?.device).toEqual({ status: 'ok' });
    await sim.control('/fault', { fault: 'clock-skew', active: false });
    expect(await reasonOf()).toBe('online');
  });

  it('reports ir-fault after N dark night snapshots with IR on, and recovers', async () => {
    await sim.control('/fault', { fault: 'ir-failure', active: true });
    const first = await driver.read();
    expect((first.fields as { snapshot_luma: number }).snapshot_luma).toBeLessThan(25);
    await eventually(async () => (await reasonOf()) === 'ir-fault', { what: 'ir-fault' });
    expect(driver.health()).toMatchObject({ status: 'degraded', reason: 'ir-fault' });
    await sim.control('/fault', { fault: 'ir-failure', active: false });
    await eventually(async () => (await reasonOf()) === 'online', { what: 'IR recovered' });
  });

  it('re-creates the subscription after a camera reboot and keeps receiving events', async () => {
    const created = driver.eventStats().created;
    await sim.control('/reboot', { downMs: 500 });
    await eventually(() => driver.eventStats().created > created, {
      timeoutMs: 20_000,
      what: 're-created subscription',
    });
    const before = events.length;
    await sim.control('/event', { type: 'motion', active: true });
    await eventually(() => events.slice(before).some((e) => e.type === 'motion'), {
      what: 'motion after reboot',
    });
  });
});
