import type { ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it, vi } from 'vitest';
import type { DriverSnapshot } from '../../drivers/contract/driver.ts';
import type { CommandRecord } from '../../gateway/commands/schema.ts';
import { Bus, type DeviceRef } from '../../gateway/core/bus.ts';
import { SnapshotCache } from '../../gateway/core/snapshots.ts';
import { holdsAlready } from '../../gateway/api/http-cache.ts';
import { LiveFeed, type LiveSources } from '../../gateway/api/live/feed.ts';
import { LIVE_EVENTS, type LiveEventName } from '../../gateway/api/live/frames.ts';

// The API checks formats with Ajv; TypeBox's own checker needs them named.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));

const probeRef: DeviceRef = { id: 'cam-1', kind: 'probe', site: 'lot', lane: 'lane-1' };
const jpeg = (n: number) => Buffer.from([0xff, 0xd8, 0xff, n]);

function fakeProbe(opts: { polled?: boolean; pollMs?: number } = {}) {
  let latest: DriverSnapshot | undefined;
  const execute = vi.fn(async () => ({ contentType: 'image/jpeg', jpeg: jpeg(9), luma: 40, ms: 12 }));
  const driver = {
    execute,
    ...(opts.polled === false ? {} : { latestSnapshot: () => latest }),
  };
  const entry = { ref: probeRef, driver, poller: { pollMs: opts.pollMs ?? 5000 } } as never;
  return { entry, execute, take: (s: DriverSnapshot) => (latest = s) };
}

const telemetry = (ref: DeviceRef, fields: Record<string, unknown>, time = Date.now()) =>
  ({ type: 'telemetry', device: ref, fields, time }) as const;

describe('snapshot cache', () => {
  it("takes over each poll's frame, tags it by its bytes and tells listeners only of new pictures", async () => {
    let now = 1_000_000;
    const p = fakeProbe();
    const cache = new SnapshotCache(
      () => p.entry,
      () => now,
    );
    const frames: string[] = [];
    cache.onFrame((_id, f) => frames.push(f.etag));
    p.take({ contentType: 'image/jpeg', jpeg: jpeg(1), luma: 50, ms: 10, takenAt: now });
    cache.handle(telemetry(probeRef, { online: true }));
    const first = cache.peek('cam-1')!;
    expect(first.etag).toMatch(/^"[\w-]{22}"$/);
    expect(first.freshUntil).toBe(now + 5000);
    now += 5000;
    p.take({ contentType: 'image/jpeg', jpeg: jpeg(1), luma: 50, ms: 10, takenAt: now });
    cache.handle(telemetry(probeRef, { online: true }));
    expect(cache.peek('cam-1')!.etag).toBe(first.etag); // same picture, same tag: browsers get 304
    now += 5000;
    p.take({ contentType: 'image/jpeg', jpeg: jpeg(2), luma: 51, ms: 10, takenAt: now });
    cache.handle(telemetry(probeRef, { online: true }));
    expect(frames).toHaveLength(2);
    expect(frames[1]).not.toBe(first.etag);
    // Polls deliver: a dozen viewers never reach the camera, even a little past the interval.
    now += 7000;
    await Promise.all(Array.from({ length: 12 }, () => cache.get(p.entry)));
    expect(p.execute).not.toHaveBeenCalled();
  });

  it('without polled frames takes one snapshot per interval for everyone, and remembers a failure as long', async () => {
    let now = 2_000_000;
    const p = fakeProbe({ polled: false });
    const cache = new SnapshotCache(
      () => p.entry,
      () => now,
    );
    const shots = await Promise.all(Array.from({ length: 12 }, () => cache.get(p.entry)));
    expect(p.execute).toHaveBeenCalledTimes(1);
    expect(new Set(shots.map((s) => s.etag)).size).toBe(1);
    now += 4000;
    await cache.get(p.entry);
    expect(p.execute).toHaveBeenCalledTimes(1);
    now += 2000;
    p.execute.mockRejectedValueOnce(new Error('camera gone'));
    await expect(cache.get(p.entry)).rejects.toThrow('camera gone');
    await expect(cache.get(p.entry)).rejects.toThrow('camera gone');
    expect(p.execute).toHaveBeenCalledTimes(2);
    now += 5001;
    await cache.get(p.entry);
    expect(p.execute).toHaveBeenCalledTimes(3);
  });

  it('answers If-None-Match by tag, list or star', () => {
    expect(holdsAlready('"a"', '"a"')).toBe(true);
    expect(holdsAlready('"b", W/"a"', '"a"')).toBe(true);
    expect(holdsAlready('*', '"a"')).toBe(true);
    expect(holdsAlready('"b"', '"a"')).toBe(false);
    expect(holdsAlready(undefined, '"a"')).toBe(false);
  });
});

/** A response that keeps what is written to it. */
function fakeResponse() {
  const res = Object.assign(new EventEmitter(), {
    text: '',
    destroyed: false,
    writableLength: 0,
    write(chunk: string) {
      res.text += chunk;
      return true;
    },
    end() {
      res.emit('close');
    },
    destroy() {
      res.destroyed = true;
      res.emit('close');
    },
  });
  return res;
}

function framesOf(text: string): { event: LiveEventName; data: unknown }[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: '))
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)![1] as LiveEventName;
      return { event, data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as unknown };
    });
}

describe('live feed', () => {
  const barrier: DeviceRef = { id: 'barrier-1', kind: 'barrier', site: 'lot', lane: 'lane-1' };
  const view = {
    id: 'barrier-1',
    kind: 'barrier',
    driver: 'modbus',
    site: 'lot',
    lane: 'lane-1',
    health: { status: 'online' as const, since: new Date(0).toISOString() },
    fields: {},
    errors: 0,
    recentEvents: [],
  };
  const gateway = {
    village: 'v',
    time: new Date(0).toISOString(),
    uptimeS: 1,
    storage: [],
    broker: { clients: 0 },
  };

  function setUp() {
    const bus = new Bus();
    let commandListener: ((r: CommandRecord) => void) | undefined;
    const sources: LiveSources = {
      village: 'v',
      bus,
      onCommand: (l) => (commandListener = l),
      onFrame: () => () => undefined,
      devices: () => [view],
      device: () => view,
      gateway: async () => gateway,
    };
    const feed = new LiveFeed(sources);
    return { bus, feed, command: (r: CommandRecord) => commandListener!(r) };
  }

  it('starts with hello, then sends what changed once, each frame fitting its schema', async () => {
    const { bus, feed, command } = setUp();
    const res = fakeResponse();
    await feed.add(res as unknown as ServerResponse);
    bus.publish(telemetry(barrier, { arm_state: 'closed', loop_occupied: false }) as never);
    bus.publish(telemetry(barrier, { arm_state: 'closed', loop_occupied: true }) as never);
    bus.publish(telemetry(barrier, { arm_state: 'closed', loop_occupied: true }) as never);
    const health = { type: 'health', device: barrier, health: view.health, errors: 0, time: 1 } as const;
    bus.publish(health);
    bus.publish(health);
    bus.publish({ type: 'event', device: barrier, event: { type: 'passage-in', detail: 'car in' }, time: 2 });
    const now = new Date().toISOString();
    command({
      id: 'cmd-1',
      requestId: 'r-1',
      device: 'barrier-1',
      action: 'open',
      actor: 'api:crew',
      reason: 'test',
      state: 'accepted',
      createdAt: now,
      updatedAt: now,
      history: [{ state: 'accepted', at: now }],
    });
    const frames = framesOf(res.text);
    expect(res.text.startsWith('retry: ')).toBe(true);
    expect(frames.map((f) => f.event)).toEqual(['hello', 'state', 'state', 'health', 'event', 'command']);
    expect(frames[2]!.data).toMatchObject({ fields: { loop_occupied: true } });
    expect(Object.keys((frames[2]!.data as { fields: object }).fields)).toEqual(['loop_occupied']);
    for (const f of frames)
      expect(Value.Errors(LIVE_EVENTS[f.event], f.data).First(), f.event).toBeUndefined();
    feed.close();
    expect(feed.size).toBe(0);
  });

  it('tells the page to drop a field the device has no reading of any more, once', async () => {
    const { bus, feed } = setUp();
    const res = fakeResponse();
    await feed.add(res as unknown as ServerResponse);
    bus.publish(telemetry(barrier, { arm_state: 'open', arm_angle_deg: 90 }) as never);
    const unknown = { ...telemetry(barrier, { arm_state: 'unknown' }), unknown: ['arm_angle_deg'] };
    bus.publish(unknown as never);
    bus.publish(unknown as never); // already dropped: nothing to tell
    bus.publish(telemetry(barrier, { arm_state: 'open', arm_angle_deg: 90 }) as never);
    const states = framesOf(res.text).filter((f) => f.event === 'state');
    expect(states.map((f) => f.data)).toMatchObject([
      { fields: { arm_state: 'open', arm_angle_deg: 90 } },
      { fields: { arm_state: 'unknown' }, unknown: ['arm_angle_deg'] },
      { fields: { arm_state: 'open', arm_angle_deg: 90 } },
    ]);
    for (const f of states) expect(Value.Errors(LIVE_EVENTS.state, f.data).First()).toBeUndefined();
    feed.close();
  });

  it('takes checks that finished in another order for the same health', async () => {
    const bus = new Bus();
    const orders = [
      { clock: { status: 'ok' as const }, snapshot: { status: 'ok' as const } },
      { snapshot: { status: 'ok' as const }, clock: { status: 'ok' as const } },
    ];
    let n = 0;
    const feed = new LiveFeed({
      village: 'v',
      bus,
      onCommand: () => undefined,
      onFrame: () => () => undefined,
      devices: () => [],
      device: () => ({ ...view, health: { ...view.health, checks: orders[n++ % 2] } }),
      gateway: async () => gateway,
    });
    const res = fakeResponse();
    await feed.add(res as unknown as ServerResponse);
    for (let i = 0; i < 4; i++)
      bus.publish({ type: 'health', device: barrier, health: view.health, errors: 0, time: i });
    expect(framesOf(res.text).filter((f) => f.event === 'health')).toHaveLength(1);
    feed.close();
  });

  it('cuts off a client that cannot keep up (it reconnects and starts again from hello)', async () => {
    const { bus, feed } = setUp();
    const slow = fakeResponse();
    await feed.add(slow as unknown as ServerResponse);
    slow.writableLength = 1024 * 1024;
    bus.publish(telemetry(barrier, { cycles: 1 }) as never);
    expect(slow.destroyed).toBe(true);
    expect(feed.size).toBe(0);
    feed.close();
  });
});
