import type { Logger } from 'pino';
import type { BarrierFields } from '../../drivers/contract/canonical.ts';
import type { BarrierAction, DriverCommand } from '../../drivers/contract/driver.ts';
import type { DeviceEntry, DeviceRegistry } from '../core/registry.ts';
import { withLaneSensors } from '../lanes.ts';
import { failureOf } from './failures.ts';
import { aborted, confirmed, interlock } from './rules.ts';
import type { CommandRecord, CommandRequest, SubmitCommand } from './schema.ts';
import type { CommandStore } from './store.ts';

/** The `commands` config section, as the schema fills it in. */
export interface ConfirmTiming {
  confirmTimeoutMs: number;
  confirmPollMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Carries commands out on devices. Gate commands are serialized per barrier so two never
 * race on one arm; each is interlocked on freshly sensed state, written, then confirmed
 * by reading the device back rather than trusting a write acknowledgement.
 */
export class CommandRunner {
  private readonly chains = new Map<string, Promise<void>>();
  /** Commands per barrier waiting in its chain or under way. */
  private readonly waiting = new Map<string, number>();
  private readonly holdTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly store: CommandStore,
    private readonly timing: ConfirmTiming,
    /** How a timed release is sent: through the same idempotent path as any command. */
    private readonly submit: SubmitCommand,
    private readonly log: Logger,
  ) {}

  /** Queue a gate command behind the barrier's previous one. */
  enqueue(rec: CommandRecord, req: CommandRequest): void {
    const device = rec.device;
    const prev = this.chains.get(device) ?? Promise.resolve();
    const run = prev.then(async () => {
      await this.execute(rec, req.action);
      if (req.action === 'hold-open' && req.holdSeconds && rec.state === 'confirmed')
        this.scheduleRelease(rec, req.holdSeconds);
    });
    this.chains.set(device, run);
    this.waiting.set(device, (this.waiting.get(device) ?? 0) + 1);
    void run.finally(() => {
      if (this.chains.get(device) === run) this.chains.delete(device);
      const n = (this.waiting.get(device) ?? 1) - 1;
      if (n > 0) this.waiting.set(device, n);
      else this.waiting.delete(device);
    });
  }

  /** How many commands of this barrier are queued or under way. */
  queued(device: string): number {
    return this.waiting.get(device) ?? 0;
  }

  /**
   * A device command that is not a gate movement (a probe's IR mode) runs at once, with
   * no interlock or confirm loop: what the driver reads back is the confirmation.
   */
  async runNow(entry: DeviceEntry, rec: CommandRecord, command: DriverCommand): Promise<unknown> {
    try {
      const result = await entry.driver.execute(command);
      this.store.transition(rec, 'confirmed', undefined, `read back: ${JSON.stringify(result)}`);
      return result;
    } catch (err) {
      this.store.transition(rec, 'failed', failureOf(err), (err as Error).message);
      throw err;
    }
  }

  /** Wait for every command under way (graceful shutdown); pending timed releases are dropped. */
  async drain(): Promise<void> {
    for (const t of this.holdTimers) clearTimeout(t);
    this.holdTimers.clear();
    await Promise.allSettled([...this.chains.values()]);
  }

  private async execute(rec: CommandRecord, action: BarrierAction): Promise<void> {
    const entry = this.registry.get(rec.device)!;
    const { confirmTimeoutMs, confirmPollMs } = this.timing;
    try {
      const before = (await entry.poller.readNow(true)).fields as BarrierFields;
      const sensed =
        action === 'close' || action === 'release'
          ? await withLaneSensors(this.registry, entry, before)
          : before;
      const blocked = interlock(action, sensed);
      if (blocked) return this.store.transition(rec, 'failed', blocked);
      this.store.transition(rec, 'executing');
      await entry.driver.execute({ action });
      const deadline = Date.now() + confirmTimeoutMs;
      for (;;) {
        const last = (await entry.poller.readNow(true)).fields as BarrierFields;
        if (confirmed(action, last))
          return this.store.transition(rec, 'confirmed', undefined, `arm ${last.arm_state ?? '?'}`);
        const abort = aborted(action, last);
        if (abort) return this.store.transition(rec, 'failed', abort);
        if (Date.now() > deadline) {
          return this.store.transition(
            rec,
            'failed',
            'timeout',
            `not confirmed within ${confirmTimeoutMs} ms: arm ${last.arm_state ?? 'unknown'}`,
          );
        }
        await sleep(confirmPollMs);
      }
    } catch (err) {
      this.store.transition(rec, 'failed', failureOf(err), (err as Error).message);
    }
  }

  /**
   * A timed hold: after `holdSeconds` the gateway itself sends `release`, as its own
   * audited command (requestId `<original>:release`), so the arm never stays up forever
   * because a platform forgot.
   */
  private scheduleRelease(hold: CommandRecord, holdSeconds: number): void {
    const t = setTimeout(() => {
      this.holdTimers.delete(t);
      void this.submit(
        hold.device,
        {
          requestId: `${hold.requestId}:release`,
          action: 'release',
          reason: `hold of ${holdSeconds} s by ${hold.actor} ended`,
        },
        'gateway',
      ).catch((err: unknown) => this.log.warn({ err, device: hold.device }, 'timed release failed'));
    }, holdSeconds * 1000);
    t.unref();
    this.holdTimers.add(t);
  }
}
