import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus } from '../core/bus.ts';
import type { DeviceRegistry } from '../core/registry.ts';
import type { AuditEntry, AuditLog } from './audit.ts';
import type { CommandFailure } from './failures.ts';
import type { CommandRecord, CommandState } from './schema.ts';

/** Commands remembered in memory for idempotency and GET /api/v1/commands/:id. */
const MAX_RECORDS = 100_000;

export function newCommandId(prefix = 'cmd'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** " for fee-desk-3 (stated)": whom the sender says the command is for, and how far that is known. */
const originText = (rec: CommandRecord) =>
  rec.origin?.actor ? ` for ${rec.origin.actor} (${rec.origin.trust})` : '';

const isFinal = (state: CommandState) => state === 'confirmed' || state === 'failed';

/** What a caller says of a new command; the store adds id, state and times. */
export type NewCommand = Pick<
  CommandRecord,
  'requestId' | 'device' | 'action' | 'actor' | 'reason' | 'origin'
>;

/**
 * Command records and their idempotency memory. Every change of state goes through
 * here and is recorded at once: the audit log (synced off the event loop; `durable()`
 * says when it is on disk, so the record of who opened a gate survives a power cut), the
 * event bus, the log and update listeners. The audit
 * log is also the memory across restarts: it is read back at construction, so a
 * requestId seen before a crash never actuates again.
 */
export class CommandStore {
  private readonly records = new Map<string, CommandRecord>();
  private readonly byRequest = new Map<string, string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listeners = new Set<(r: CommandRecord) => void>();
  /** Each record's last audit line: resolves once it is on disk. */
  private readonly onDisk = new WeakMap<CommandRecord, Promise<void>>();

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly bus: Bus,
    private readonly audit: AuditLog,
    private readonly log: Logger,
  ) {
    this.recover();
  }

  onUpdate(fn: (r: CommandRecord) => void): void {
    this.listeners.add(fn);
  }

  get(id: string): CommandRecord | undefined {
    return this.records.get(id);
  }

  /** The command an idempotency key was first used for, while still remembered. */
  byRequestId(requestId: string): CommandRecord | undefined {
    const id = this.byRequest.get(requestId);
    return id === undefined ? undefined : this.records.get(id);
  }

  /** Records newest first, for the API. */
  list(limit = 100): CommandRecord[] {
    return [...this.records.values()].slice(-limit).reverse();
  }

  /** Start a record in `state` (accepted, or executing for commands run at once). */
  open(cmd: NewCommand, state: 'accepted' | 'executing'): CommandRecord {
    const now = new Date().toISOString();
    const rec: CommandRecord = {
      id: newCommandId(),
      requestId: cmd.requestId,
      device: cmd.device,
      action: cmd.action,
      actor: cmd.actor,
      ...(cmd.origin ? { origin: cmd.origin } : {}),
      reason: cmd.reason,
      state,
      createdAt: now,
      updatedAt: now,
      history: [{ state, at: now }],
    };
    this.remember(rec);
    this.record(rec);
    return rec;
  }

  transition(
    rec: CommandRecord,
    state: CommandState,
    failure?: CommandFailure,
    detail?: string,
    data?: AuditEntry['data'],
  ): void {
    const at = new Date().toISOString();
    rec.state = state;
    rec.updatedAt = at;
    if (failure) rec.failure = failure;
    rec.history.push({ state, at, ...(detail || failure ? { detail: detail ?? failure } : {}) });
    this.record(rec, detail, data);
    if (isFinal(state)) {
      for (const w of [...(this.waiters.get(rec.id) ?? [])]) w();
      this.waiters.delete(rec.id);
    }
  }

  /**
   * Resolves once the record's state so far is on disk (the audit log's fsync); rejects
   * when the disk refused it. Nothing is actuated, and no caller told of a state, before.
   */
  durable(rec: CommandRecord): Promise<void> {
    return this.onDisk.get(rec) ?? Promise.resolve();
  }

  /** Resolve when the command reaches a final state (on disk) or `timeoutMs` passes. */
  async wait(id: string, timeoutMs: number): Promise<CommandRecord | undefined> {
    const rec = this.records.get(id);
    if (!rec) return rec;
    if (isFinal(rec.state)) return this.durable(rec).then(() => rec);
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
    await this.durable(rec);
    return this.records.get(id);
  }

  private record(rec: CommandRecord, detail?: string, data?: AuditEntry['data']): void {
    const written = this.audit.append({
      time: rec.updatedAt,
      id: rec.id,
      requestId: rec.requestId,
      device: rec.device,
      action: rec.action,
      actor: rec.actor,
      reason: rec.reason,
      ...(rec.origin ? { origin: rec.origin } : {}),
      state: rec.state,
      ...(rec.failure ? { failure: rec.failure } : {}),
      ...(detail ? { detail } : {}),
      ...(data ? { data } : {}),
    });
    written.catch((err: Error) =>
      this.log.error(
        { err, command: rec.id, device: rec.device, state: rec.state },
        `command ${rec.id} (${rec.action} on ${rec.device}) could not be recorded in the audit log: ${err.message}`,
      ),
    );
    this.onDisk.set(rec, written);
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
      `command ${rec.action} on ${rec.device} by ${rec.actor}${originText(rec)}: ${rec.state}${rec.failure ? ` (${rec.failure})` : ''}`,
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
      if (!isFinal(old.state)) continue;
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
          ...(e.origin ? { origin: e.origin } : {}),
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
      if (!isFinal(rec.state)) {
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
