import type { Logger } from 'pino';
import type { Driver, ReadResult } from '../../drivers/contract/driver.ts';
import type { Bus, DeviceRef } from './bus.ts';
import type { DeviceEvent } from '../../drivers/contract/canonical.ts';
import { type Health } from '../../drivers/contract/health.ts';
import { DeviceError } from '../../drivers/contract/errors.ts';
import { canonicalNames, normalize } from './normalizer.ts';

/** Longest wait between polls of a failing device: recovery is seen within this. */
const MAX_BACKOFF_MS = 5_000;

function healthFromError(err: unknown): Omit<Health, 'since'> {
  if (err instanceof DeviceError) return { status: err.status, reason: err.reason, detail: err.message };
  return {
    status: 'offline',
    reason: 'bad-response',
    detail: `driver error: ${(err as Error)?.message ?? err}`,
  };
}

function sameHealth(a: Omit<Health, 'since'>, b: Omit<Health, 'since'>): boolean {
  return a.status === b.status && a.reason === b.reason;
}

/**
 * Polls one device on its interval (with jitter so a village's devices do not poll in
 * lock-step), turns results into bus messages and failures into health with a reason.
 * A failing device is polled less often, up to MAX_BACKOFF_MS, and never blocks others.
 */
export class DevicePoller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private connected = false;
  private connecting: Promise<void> | undefined;
  private errors = 0;
  private health: Health = { status: 'offline', reason: 'not-polled-yet', since: new Date().toISOString() };
  private inFlight: Promise<unknown> = Promise.resolve();
  /** Lateness of the scheduled poll about to run, ms; reported with its health message. */
  private lateMs: number | undefined;

  constructor(
    readonly ref: DeviceRef,
    readonly driver: Driver,
    /** The interval between polls (a failing device is polled less often). */
    readonly pollMs: number,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly emitEvent: (event: DeviceEvent) => void,
  ) {}

  /**
   * The first poll goes at once, so a village shows its devices as soon as it is up; the
   * one after it comes 0.5–1.5 intervals later, which spreads the devices' phases over an
   * interval so they do not poll in lock-step from then on.
   */
  start(): void {
    this.stopped = false;
    this.schedule(0, 0.5 + Math.random());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight.catch(() => undefined);
  }

  currentHealth(): Health {
    return this.health;
  }

  /** One read now; urgent reads jump queued polls on shared lines (command confirmation). */
  async readNow(urgent = false): Promise<ReadResult> {
    const run = this.readOnce(urgent);
    this.inFlight = run.catch(() => undefined);
    return run;
  }

  private schedule(ms: number, nextFactor = 0.9 + Math.random() * 0.2): void {
    if (this.stopped) return;
    const dueAt = performance.now() + ms;
    this.timer = setTimeout(() => {
      this.lateMs = Math.max(0, performance.now() - dueAt);
      void this.readNow(false)
        .catch(() => undefined)
        .finally(() => {
          const base =
            this.errors === 0
              ? this.pollMs
              : Math.min(this.pollMs * 2 ** (this.errors - 1), Math.max(this.pollMs, MAX_BACKOFF_MS));
          this.schedule(base * nextFactor);
        });
    }, ms);
  }

  private async readOnce(urgent: boolean): Promise<ReadResult> {
    const started = performance.now();
    const lateMs = this.lateMs;
    this.lateMs = undefined;
    try {
      if (!this.connected) {
        // Concurrent first reads (a poll and a command) share one connect attempt.
        this.connecting ??= this.driver.connect().finally(() => (this.connecting = undefined));
        await this.connecting;
        this.connected = true;
      }
      const result = await this.driver.read({ urgent });
      const pollMs = performance.now() - started;
      const { fields, rejected } = normalize(this.ref.kind, result.fields as Record<string, unknown>);
      if (rejected.length > 0) {
        this.log.warn({ rejected }, 'driver produced non-canonical fields; dropped');
      }
      const now = Date.now();
      const unknown = canonicalNames(this.ref.kind, result.unknown);
      this.bus.publish({
        type: 'telemetry',
        device: this.ref,
        fields,
        ...(unknown.length ? { unknown } : {}),
        time: now,
      });
      for (const event of result.events ?? []) this.emitEvent({ ...event, time: event.time ?? now });
      this.errors = 0;
      const h = result.health ?? this.driver.health() ?? { status: 'online' as const, since: '' };
      this.setHealth(h, pollMs, lateMs);
      return { ...result, fields };
    } catch (err) {
      this.errors++;
      this.setHealth(healthFromError(err), performance.now() - started, lateMs);
      throw err;
    }
  }

  private setHealth(next: Omit<Health, 'since'>, pollMs: number, lateMs?: number): void {
    const now = new Date();
    if (!sameHealth(this.health, next)) {
      const was = this.health;
      this.health = { ...next, since: now.toISOString() };
      const words = (h: Omit<Health, 'since'>) => (h.reason ? `${h.status} (${h.reason})` : h.status);
      const detail = `${words(was)} → ${words(next)}${next.detail ? `: ${next.detail}` : ''}`;
      const level = next.status === 'online' ? 'info' : 'warn';
      this.log[level]({ status: next.status, reason: next.reason }, `device ${this.ref.id} ${detail}`);
      if (was.reason !== 'not-polled-yet' || next.status !== 'online') {
        this.bus.publish({
          type: 'event',
          device: this.ref,
          event: { type: 'health', detail },
          time: now.getTime(),
        });
      }
    } else {
      this.health = { ...this.health, detail: next.detail };
    }
    this.bus.publish({
      type: 'health',
      device: this.ref,
      health: this.health,
      pollMs: Math.round(pollMs * 100) / 100,
      ...(lateMs !== undefined ? { lateMs: Math.round(lateMs * 100) / 100 } : {}),
      errors: this.errors,
      time: now.getTime(),
    });
  }
}
