import type { Logger } from 'pino';
import type { BarrierFields } from '../../drivers/contract/canonical.ts';
import type { BarrierAction, DriverCommand } from '../../drivers/contract/driver.ts';
import { DriverError } from '../../drivers/contract/errors.ts';
import type { DeviceEntry, DeviceRegistry } from '../core/registry.ts';
import { laneDevices, withLaneSensors } from '../lanes.ts';
import { failureOf, type CommandFailure } from './failures.ts';
import { aborted, confirmed, interlock } from './rules.ts';
import type { CommandRecord, CommandRequest, SubmitCommand } from './schema.ts';
import type { CommandStore } from './store.ts';
import { auditData, CloseSupervisor, mergeLane, senseLane, type SupervisionReport } from './supervise.ts';

/** The `commands` config section, as the schema fills it in. */
export interface ConfirmTiming {
  confirmTimeoutMs: number;
  confirmPollMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An interlock that held at the last look before the write: nothing was written. */
class Refused extends Error {
  constructor(readonly failure: CommandFailure) {
    super(`refused at the last look before the write: ${failure}`);
  }
}

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
  private readonly supervisionListeners = new Set<(r: SupervisionReport) => void>();

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
      await this.store.durable(rec);
      const result = await entry.driver.execute(command);
      this.store.transition(rec, 'confirmed', undefined, `read back: ${JSON.stringify(result)}`);
      return result;
    } catch (err) {
      this.store.transition(rec, 'failed', failureOf(err), (err as Error).message);
      throw err;
    }
  }

  /** Every supervised close, once it ends (metrics). */
  onSupervision(fn: (r: SupervisionReport) => void): void {
    this.supervisionListeners.add(fn);
  }

  /** Wait for every command under way (graceful shutdown); pending timed releases are dropped. */
  async drain(): Promise<void> {
    for (const t of this.holdTimers) clearTimeout(t);
    this.holdTimers.clear();
    await Promise.allSettled([...this.chains.values()]);
  }

  private async execute(rec: CommandRecord, action: BarrierAction): Promise<void> {
    const entry = this.registry.get(rec.device)!;
    const recorded = this.store.durable(rec); // read while the record is synced, write only after
    try {
      const before = (await entry.poller.readNow(true)).fields as BarrierFields;
      const lanesGuard = action === 'close' || action === 'release';
      const sensed = lanesGuard ? await withLaneSensors(this.registry, entry, before) : before;
      const blocked = interlock(action, sensed);
      if (blocked) return this.store.transition(rec, 'failed', blocked);
      await recorded;
      if (lanesGuard) return await this.guardedWrite(rec, entry, action, before);
      this.store.transition(rec, 'executing');
      let acknowledged = true;
      let unanswered: string | undefined;
      await entry.driver
        .execute({ action }, { onWritten: (ack) => (acknowledged = ack) })
        .catch((err: unknown) => {
          if (acknowledged) throw err;
          unanswered = (err as Error).message; // the device may have done it: read back
        });
      await this.confirm(rec, entry, action, unanswered);
    } catch (err) {
      if (err instanceof Refused) return this.store.transition(rec, 'failed', err.failure, err.message);
      this.store.transition(rec, 'failed', failureOf(err), (err as Error).message);
    }
  }

  /**
   * A close (or a release, after which the controller closes): the interlock is checked
   * once more on the last reading before the write, inside the driver where it can share
   * the write's bus turn, and `executing` is recorded once the write is with the device
   * (acknowledged, or sent and unanswered), so a command refused at that last look never
   * shows as executed and one the device may have carried out always does. A close is
   * then watched until the arm is down.
   */
  private async guardedWrite(
    rec: CommandRecord,
    entry: DeviceEntry,
    action: 'close' | 'release',
    before: BarrierFields,
  ): Promise<void> {
    const lane = before.loop_occupied === undefined ? laneDevices(this.registry, entry.ref, 'barrier') : [];
    // A barrier guarded by other devices' sensors: their reading is the last thing before the write.
    const fromLane = lane.length > 0 ? await senseLane(lane) : [];
    const guard = (fresh: BarrierFields) => {
      const blocked = interlock(action, mergeLane({ ...before, ...fresh }, fromLane));
      if (blocked) throw new Refused(blocked);
    };
    guard({});
    let wrote = false;
    let acknowledged = true;
    let written!: () => void;
    const writtenP = new Promise<void>((r) => (written = r));
    const onWritten = (ack: boolean) => {
      wrote = true;
      acknowledged = ack;
      written();
    };
    const execP = entry.driver.execute({ action }, { guard, onWritten });
    const settled = execP.then(
      (result) => ({ result, err: undefined }),
      (err: unknown) => ({ result: undefined, err: err as Error }),
    );
    await Promise.race([writtenP, settled]);
    if (!wrote) {
      const { err } = await settled; // a driver that does not report its first write: done is written
      if (err) throw err;
    }
    // A write that went out unanswered may have been carried out: what is read back decides.
    const outcome = settled.then(({ result, err }) =>
      err && !acknowledged ? { result, err: undefined, note: err.message } : { result, err, note: undefined },
    );
    if (action === 'release') {
      // With the controller whatever comes of it: one that refuses it (its own safety,
      // a car after our last look) still received it.
      this.store.transition(rec, 'executing');
      const { err, note } = await outcome;
      if (err) throw err;
      return this.confirm(rec, entry, action, note);
    }
    const refused = new AbortController();
    void settled.then(({ err }) => {
      if (err instanceof DriverError && err.kind === 'rejected') refused.abort(err);
    });
    const deadline = performance.now() + this.timing.confirmTimeoutMs;
    const watching = new CloseSupervisor(entry, lane, deadline, refused.signal).run();
    // Recorded (and fsynced) while the first supervision read is already on the wire.
    await new Promise((r) => setImmediate(r));
    this.store.transition(rec, 'executing');
    const { end, report } = await watching;
    const { result, err, note } = await outcome;
    for (const l of this.supervisionListeners) l(report);
    const data = auditData(report);
    // The profile's "close if clear" was written: the controller made the last check itself.
    if ((result as { conditional?: boolean } | undefined)?.conditional) data.conditional = true;
    if (end.end === 'failed') return this.store.transition(rec, 'failed', end.failure, end.detail, data);
    if (end.end === 'refused' || err) {
      const e = err ?? (refused.signal.reason as Error);
      return this.store.transition(rec, 'failed', failureOf(e), e.message, data);
    }
    if (end.end === 'timeout') {
      const arm = end.last?.arm_state ?? 'unknown';
      const detail = `not confirmed within ${this.timing.confirmTimeoutMs} ms: arm ${arm}`;
      return this.store.transition(rec, 'failed', 'timeout', detail, data);
    }
    this.store.transition(
      rec,
      'confirmed',
      undefined,
      withNote(`arm ${end.last.arm_state ?? '?'}`, note),
      data,
    );
  }

  /** Read the device back until the action shows, a fault says it will not, or the timeout passes. */
  private async confirm(
    rec: CommandRecord,
    entry: DeviceEntry,
    action: BarrierAction,
    note?: string,
  ): Promise<void> {
    const { confirmTimeoutMs, confirmPollMs } = this.timing;
    const deadline = Date.now() + confirmTimeoutMs;
    for (;;) {
      const last = (await entry.poller.readNow(true)).fields as BarrierFields;
      if (confirmed(action, last))
        return this.store.transition(
          rec,
          'confirmed',
          undefined,
          withNote(`arm ${last.arm_state ?? '?'}`, note),
        );
      const abort = aborted(action, last);
      if (abort)
        return this.store.transition(rec, 'failed', abort, note && `the write was not answered (${note})`);
      if (Date.now() > deadline) {
        const detail = `not confirmed within ${confirmTimeoutMs} ms: arm ${last.arm_state ?? 'unknown'}`;
        return this.store.transition(rec, 'failed', 'timeout', withNote(detail, note));
      }
      await sleep(confirmPollMs);
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
      if (!this.registry.get(hold.device)) {
        // Removed (commissioning) while held: there is no barrier left to release.
        this.log.info(
          { device: hold.device, command: hold.id },
          `hold of ${holdSeconds} s on ${hold.device} ended after the device was removed: no release sent`,
        );
        return;
      }
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

/** A confirmation's detail, saying when the write itself was never answered. */
function withNote(detail: string, unanswered: string | undefined): string {
  return unanswered
    ? `${detail}; the write was not answered (${unanswered}), the state was read back`
    : detail;
}
