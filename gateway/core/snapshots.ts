import { createHash } from 'node:crypto';
import type { DriverSnapshot } from '../../drivers/contract/driver.ts';
import type { BusMessage } from './bus.ts';
import type { DeviceEntry } from './registry.ts';

export interface CachedSnapshot extends DriverSnapshot {
  /** A strong HTTP entity tag of the picture's bytes (quoted). */
  etag: string;
  /** When the probe's next poll is due: until then this is the newest picture there is. */
  freshUntil: number;
}

type Probe = Pick<DeviceEntry, 'ref' | 'driver' | 'poller'>;
type FrameListener = (device: string, frame: CachedSnapshot) => void;

const etagOf = (jpeg: Buffer) => `"${createHash('sha1').update(jpeg).digest('base64url').slice(0, 22)}"`;

/**
 * The latest picture of every probe, kept by the gateway so that a dozen crew phones cost
 * the camera nothing beyond its own poll schedule. Frames come from the driver's poll
 * when it takes one (`snapshot: true`); otherwise, or when polls stop delivering, at most
 * one snapshot per poll interval is taken on demand, shared by everyone asking at once.
 * A failure is remembered for an interval too: an unreachable camera is not asked once
 * per viewer.
 */
export class SnapshotCache {
  private readonly frames = new Map<string, CachedSnapshot & { polled: boolean }>();
  private readonly failures = new Map<string, { err: unknown; until: number }>();
  private readonly inFlight = new Map<string, Promise<CachedSnapshot>>();
  private readonly listeners = new Set<FrameListener>();

  constructor(
    private readonly lookup: (id: string) => Probe | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** A bus listener: after each poll of a probe, take over the frame its driver took. */
  handle(msg: BusMessage): void {
    if (msg.type !== 'telemetry' || msg.device.kind !== 'probe') return;
    const entry = this.lookup(msg.device.id);
    const shot = entry?.driver.latestSnapshot?.();
    if (entry && shot) this.keep(entry, shot, true);
  }

  /** Called with each new picture (a different one, not the same bytes again). */
  onFrame(listener: FrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The newest picture held, without asking the camera. */
  peek(id: string): CachedSnapshot | undefined {
    return this.frames.get(id);
  }

  /** The newest picture, taken now only when the cache has none recent enough. */
  async get(entry: Probe): Promise<CachedSnapshot> {
    const id = entry.ref.id;
    const frame = this.frames.get(id);
    const now = this.now();
    // Polls come every interval plus jitter and their own duration: a polled frame is
    // replaced by the next poll, so only a second missed interval means polls stopped.
    const stale = (f: { takenAt: number; polled: boolean }) =>
      now - f.takenAt > (f.polled ? 2 : 1) * entry.poller.pollMs;
    if (frame && !stale(frame)) return frame;
    const failed = this.failures.get(id);
    if (failed && failed.until > now) throw failed.err;
    let job = this.inFlight.get(id);
    if (!job) {
      job = this.take(entry).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, job);
    }
    return job;
  }

  private async take(entry: Probe): Promise<CachedSnapshot> {
    try {
      const shot = (await entry.driver.execute({ action: 'snapshot' })) as Omit<DriverSnapshot, 'takenAt'>;
      return this.keep(entry, { ...shot, takenAt: this.now() }, false);
    } catch (err) {
      this.failures.set(entry.ref.id, { err, until: this.now() + entry.poller.pollMs });
      throw err;
    }
  }

  private keep(entry: Probe, shot: DriverSnapshot, polled: boolean): CachedSnapshot {
    const id = entry.ref.id;
    const had = this.frames.get(id);
    if (had && had.takenAt >= shot.takenAt) return had;
    const etag = had && had.jpeg.equals(shot.jpeg) ? had.etag : etagOf(shot.jpeg);
    const frame = { ...shot, etag, freshUntil: shot.takenAt + entry.poller.pollMs, polled };
    this.frames.set(id, frame);
    this.failures.delete(id);
    if (etag !== had?.etag) for (const l of this.listeners) l(id, frame);
    return frame;
  }
}
