import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { BarrierAction, DriverCommand } from '../../drivers/contract/driver.ts';
import type { BarrierFields } from '../../drivers/contract/canonical.ts';
import type { Bus } from '../core/bus.ts';
import type { DeviceEntry, DeviceRegistry } from '../core/registry.ts';
import { GatehouseError } from '../errors.ts';
import { DeviceError, DriverError } from '../../drivers/contract/errors.ts';
import type { AuditLog } from './audit.ts';
import { aborted, confirmed, interlock } from './rules.ts';
import type { CommandRecord, CommandRequest, CommandState } from './schema.ts';

function newId(): string {
  return `cmd-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A failure reason a platform can act on, from what the driver threw. */
function failureOf(err: unknown): string {
  if (err instanceof DeviceError) return `device-error:${err.reason}`;
  if (err instanceof DriverError && err.kind === 'rejected') return 'rejected-by-controller';
  if (err instanceof DriverError && err.kind === 'unsupported') return 'unsupported';
  return 'driver-error';
}

/** Commands remembered in memory for idempotency and GET /api/v1/commands/:id. */
const MAX_RECORDS = 100_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Gate commands: accepted → executing → confirmed | failed(reason).
 * Idempotent by requestId (the same id never actuates twice, across restarts: the
 * audit log is the memory), interlocked on freshly sensed state, confirmed by reading
 * the device back rather than trusting a write acknowledgement, and serialized per
 * barrier so two commands never race on one arm.
 */
export class CommandService {
  private readonly records = new Map<string, CommandRecord>();
  private readonly byRequest = new Map<string, string>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listeners = new Set<(r: CommandRecord) => void>();
  private readonly holdTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly bus: Bus,
    private readonly audit: AuditLog,
    private readonly log: Logger,
    private readonly confirmTimeoutMs = 10_000,
    private readonly confirmPollMs = 50,
  ) {
    this.recover();
  }

  onUpdate(fn: (r: CommandRecord) => void): void {
    this.listeners.add(fn);
  }

  get(id: string): CommandRecord | undefined {
    return this.records.get(id);
  }

  /** Records newest first, for the API. */
  list(limit = 100): CommandRecord[] {
    return [...this.records.values()].slice(-limit).reverse();
  }

  async submit(deviceId: string, req: CommandRequest, actor: string): Promise<CommandRecord> {
    const entry = this.registry.get(deviceId);
    if (!entry) throw new GatehouseError('GH_DEVICE_NOT_FOUND', [deviceId]);
    if (entry.ref.kind !== 'barrier')
      throw new GatehouseError('GH_DEVICE_NOT_BARRIER', [deviceId, entry.ref.kind]);

    const existing = this.byRequest.get(req.requestId);
    if (existing) {
      const rec = this.records.get(existing)!;
      if (rec.device !== deviceId || rec.action !== req.action) {
        throw new GatehouseError('GH_COMMAND_CONFLICT', [
          `requestId "${req.requestId}" was already used for ${rec.action} on ${rec.device}; use a new requestId for a new command`,
        ]);
      }
      return rec; // idempotent replay: report, never actuate again
    }

    const now = new Date().toISOString();
    const rec: CommandRecord = {
      id: newId(),
      requestId: req.requestId,
      device: deviceId,
      action: req.action,
      actor,
      reason: req.reason,
      state: 'accepted',
      createdAt: now,
      updatedAt: now,
      history: [{ state: 'accepted', at: now }],
    };
    this.remember(rec);
    this.record(rec);

    const prev = this.chains.get(deviceId) ?? Promise.resolve();
    const run = prev.then(async () => {
      await this.execute(rec, req.action);
      if (req.action === 'hold-open' && req.holdSeconds && rec.state === 'confirmed')
        this.scheduleRelease(rec, req.holdSeconds);
    });
    this.chains.set(deviceId, run);
    void run.finally(() => {
      if (this.chains.get(deviceId) === run) this.chains.delete(deviceId);
    });
    return rec;
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

  /**
   * A device command that is not a gate movement (a probe's IR mode): run at once,
   * audited and published like gate commands, returning what the driver read back.
   */
  async runDeviceCommand(
    deviceId: string,
    command: Exclude<DriverCommand, { action: BarrierAction }>,
    actor: string,
    reason: string,
  ): Promise<{ record: CommandRecord; result: unknown }> {
    const entry = this.registry.get(deviceId);
    if (!entry) throw new GatehouseError('GH_DEVICE_NOT_FOUND', [deviceId]);
    const now = new Date().toISOString();
    const rec: CommandRecord = {
      id: newId(),
      requestId: newId().replace('cmd-', 'req-'),
      device: deviceId,
      action: command.action === 'set-ir-mode' ? `set-ir-mode:${command.mode}` : command.action,
      actor,
      reason,
      state: 'executing',
      createdAt: now,
      updatedAt: now,
      history: [{ state: 'executing', at: now }],
    };
    this.remember(rec);
    this.record(rec);
    try {
      const result = await entry.driver.execute(command);
      this.transition(rec, 'confirmed', undefined, `read back: ${JSON.stringify(result)}`);
      return { record: rec, result };
    } catch (err) {
      this.transition(rec, 'failed', failureOf(err), (err as Error).message);
      throw err;
    }
  }

  /** Resolve when the command reaches a final state or `timeoutMs` passes. */
  async wait(id: string, timeoutMs: number): Promise<CommandRecord | undefined> {
    const rec = this.records.get(id);
    if (!rec || rec.state === 'confirmed' || rec.state === 'failed') return rec;
    await new Promise<void>((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const done = () => {
        clearTimeout(t);
        set.delete(done);
        resolve();
      };
      const t = setTimeout(done, timeoutMs);
      set.add(done);
    });
    return this.records.get(id);
  }

  /** Wait for every command under way (graceful shutdown). */
  async drain(): Promise<void> {
    for (const t of this.holdTimers) clearTimeout(t);
    this.holdTimers.clear();
    await Promise.allSettled([...this.chains.values()]);
  }

  private async execute(rec: CommandRecord, action: BarrierAction): Promise<void> {
    const entry = this.registry.get(rec.device)!;
    try {
      const before = (await entry.poller.readNow(true)).fields as BarrierFields;
      const sensed =
        action === 'close' || action === 'release' ? await this.withLaneSensors(entry, before) : before;
      const blocked = interlock(action, sensed);
      if (blocked) return this.transition(rec, 'failed', blocked);
      this.transition(rec, 'executing');
      await entry.driver.execute({ action });
      const deadline = Date.now() + this.confirmTimeoutMs;
      let last: BarrierFields = before;
      for (;;) {
        last = (await entry.poller.readNow(true)).fields as BarrierFields;
        if (confirmed(action, last))
          return this.transition(rec, 'confirmed', undefined, `arm ${last.arm_state ?? '?'}`);
        const abort = aborted(action, last);
        if (abort) return this.transition(rec, 'failed', abort);
        if (Date.now() > deadline) {
          return this.transition(
            rec,
            'failed',
            'timeout',
            `not confirmed within ${this.confirmTimeoutMs} ms: arm ${last.arm_state ?? 'unknown'}`,
          );
        }
        await sleep(this.confirmPollMs);
      }
    } catch (err) {
      this.transition(rec, 'failed', failureOf(err), (err as Error).message);
    }
  }

  /**
   * A barrier without its own loop or photo-eye (one wired to a camera's relay) is
   * guarded by the sensors of its lane: other barriers' controllers in the same site and
   * lane are read now, and any vehicle they sense counts as on this barrier's loop. A
   * lane sensor that cannot be read fails the close: never close blind.
   */
  private async withLaneSensors(entry: DeviceEntry, own: BarrierFields): Promise<BarrierFields> {
    if (own.loop_occupied !== undefined || !entry.ref.lane) return own;
    const peers = this.registry
      .all()
      .filter(
        (e) =>
          e !== entry &&
          e.ref.kind === 'barrier' &&
          e.ref.lane === entry.ref.lane &&
          e.ref.site === entry.ref.site,
      );
    const merged = { ...own };
    for (const peer of peers) {
      const f = (await peer.poller.readNow(true)).fields as BarrierFields;
      if (f.loop_occupied) merged.loop_occupied = true;
      if (f.photo_eye_blocked) merged.photo_eye_blocked = true;
    }
    return merged;
  }

  private transition(rec: CommandRecord, state: CommandState, failure?: string, detail?: string): void {
    const at = new Date().toISOString();
    rec.state = state;
    rec.updatedAt = at;
    if (failure) rec.failure = failure;
    rec.history.push({ state, at, ...(detail || failure ? { detail: detail ?? failure } : {}) });
    this.record(rec, detail);
    if (state === 'confirmed' || state === 'failed') {
      for (const w of [...(this.waiters.get(rec.id) ?? [])]) w();
      this.waiters.delete(rec.id);
    }
  }

  private record(rec: CommandRecord, detail?: string): void {
    this.audit.append({
      time: rec.updatedAt,
      id: rec.id,
      requestId: rec.requestId,
      device: rec.device,
      action: rec.action,
      actor: rec.actor,
      reason: rec.reason,
      state: rec.state,
      ...(rec.failure ? { failure: rec.failure } : {}),
      ...(detail ? { detail } : {}),
    });
    const entry = this.registry.get(rec.device);
    if (entry) {
      this.bus.publish({
        type: 'event',
        device: entry.ref,
        event: {
          type: 'command',
          detail: `${rec.action} ${rec.state}${rec.failure ? `: ${rec.failure}` : ''}`,
          commandId: rec.id,
          actor: rec.actor,
        },
        time: Date.now(),
      });
    }
    const level = rec.state === 'failed' ? 'warn' : 'info';
    this.log[level](
      {
        command: rec.id,
        requestId: rec.requestId,
        device: rec.device,
        actor: rec.actor,
        state: rec.state,
        failure: rec.failure,
      },
      `command ${rec.action} on ${rec.device} by ${rec.actor}: ${rec.state}${rec.failure ? ` (${rec.failure})` : ''}`,
    );
    for (const l of this.listeners) l(rec);
  }

  /**
   * Keep a record (and its requestId) in memory. Memory is bounded: past MAX_RECORDS the
   * oldest finished commands are forgotten here (the audit log keeps them), which bounds
   * the idempotency window to the last MAX_RECORDS commands.
   */
  private remember(rec: CommandRecord): void {
    this.records.set(rec.id, rec);
    this.byRequest.set(rec.requestId, rec.id);
    if (this.records.size <= MAX_RECORDS) return;
    for (const [id, old] of this.records) {
      if (this.records.size <= MAX_RECORDS) break;
      if (old.state !== 'confirmed' && old.state !== 'failed') continue;
      this.records.delete(id);
      if (this.byRequest.get(old.requestId) === id) this.byRequest.delete(old.requestId);
    }
  }

  /** Rebuild idempotency memory from the audit log; commands cut off by a crash end as failed. */
  private recover(): void {
    for (const e of this.audit.readAll()) {
      let rec = this.records.get(e.id);
      if (!rec) {
        rec = {
          id: e.id,
          requestId: e.requestId,
          device: e.device,
          action: e.action,
          actor: e.actor,
          reason: e.reason,
          state: e.state,
          createdAt: e.time,
          updatedAt: e.time,
          history: [],
        };
        this.remember(rec);
      }
      rec.state = e.state;
      rec.updatedAt = e.time;
      if (e.failure) rec.failure = e.failure;
      rec.history.push({ state: e.state, at: e.time, ...(e.detail ? { detail: e.detail } : {}) });
    }
    for (const rec of this.records.values()) {
      if (rec.state === 'accepted' || rec.state === 'executing') {
        this.transition(
          rec,
          'failed',
          'gateway-restarted',
          'the gateway stopped before the command finished',
        );
      }
    }
  }
}
