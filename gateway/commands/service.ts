import type { Logger } from 'pino';
import type { BarrierAction, DriverCommand } from '../../drivers/contract/driver.ts';
import type { Bus } from '../core/bus.ts';
import type { DeviceEntry, DeviceRegistry } from '../core/registry.ts';
import { GatehouseError } from '../errors.ts';
import type { AuditLog } from './audit.ts';
import { CommandRunner } from './runner.ts';
import type { CommandOrigin, CommandRecord, CommandRequest, SubmitOptions } from './schema.ts';
import { CommandStore, newCommandId } from './store.ts';
import type { SupervisionReport } from './supervise.ts';

/**
 * Gate commands: accepted → executing → confirmed | failed(reason), the one entry point
 * the API and MQTT share. The store keeps records and idempotency (the same requestId
 * never actuates twice, across restarts); the runner carries commands out on devices.
 */
export class CommandService {
  private readonly store: CommandStore;
  private readonly runner: CommandRunner;

  /** `confirmTimeoutMs` and `confirmPollMs` come from the `commands` config section, defaults filled by its schema. */
  constructor(
    private readonly registry: DeviceRegistry,
    bus: Bus,
    audit: AuditLog,
    log: Logger,
    confirmTimeoutMs: number,
    confirmPollMs: number,
    /** `commands.maxQueuedPerBarrier`; absent, no bound (in-process tests). */
    private readonly maxQueued = Infinity,
  ) {
    this.store = new CommandStore(registry, bus, audit, log);
    this.runner = new CommandRunner(
      registry,
      this.store,
      { confirmTimeoutMs, confirmPollMs },
      (device, req, actor) => this.submit(device, req, actor),
      log,
    );
  }

  onUpdate(fn: (r: CommandRecord) => void): void {
    this.store.onUpdate(fn);
  }

  /** Every supervised close once it ends: reads made, reversal latency, arm angles (metrics). */
  onSupervision(fn: (r: SupervisionReport) => void): void {
    this.runner.onSupervision(fn);
  }

  get(id: string): CommandRecord | undefined {
    return this.store.get(id);
  }

  /** Records newest first, for the API. */
  list(limit = 100): CommandRecord[] {
    return this.store.list(limit);
  }

  async submit(
    deviceId: string,
    req: CommandRequest,
    actor: string,
    opts: SubmitOptions = {},
  ): Promise<CommandRecord> {
    const entry = this.device(deviceId);
    if (entry.ref.kind !== 'barrier')
      throw new GatehouseError('GH_DEVICE_NOT_BARRIER', [deviceId, entry.ref.kind]);

    const existing = this.store.byRequestId(req.requestId);
    if (existing) {
      if (existing.device !== deviceId || existing.action !== req.action) {
        throw new GatehouseError('GH_COMMAND_CONFLICT', [
          `requestId "${req.requestId}" was already used for ${existing.action} on ${existing.device}; use a new requestId for a new command`,
        ]);
      }
      return existing; // idempotent replay: report, never actuate again
    }
    // A flood is refused at once rather than queued behind a barrier for minutes; the
    // gateway's own timed release is never refused (it ends a hold the gateway promised).
    const queued = this.runner.queued(deviceId);
    if (actor !== 'gateway' && queued >= this.maxQueued) {
      throw new GatehouseError(
        'GH_COMMAND_QUEUE_FULL',
        { device: deviceId, queued },
        { details: { retryAfterS: 2 } },
      );
    }

    const rec = this.store.open(
      {
        requestId: req.requestId,
        device: deviceId,
        action: req.action,
        actor,
        reason: req.reason,
        ...originOf(req, opts),
      },
      'accepted',
    );
    this.runner.enqueue(rec, req); // its last look at the barrier overlaps the record's fsync
    await this.store.durable(rec).catch(notRecorded);
    return rec;
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
    const entry = this.device(deviceId);
    const action = command.action === 'set-ir-mode' ? `set-ir-mode:${command.mode}` : command.action;
    const record = this.store.open(
      { requestId: newCommandId('req'), device: deviceId, action, actor, reason },
      'executing',
    );
    const result = await this.runner.runNow(entry, record, command);
    return { record, result };
  }

  /** Resolve when the command reaches a final state (recorded on disk) or `timeoutMs` passes. */
  wait(id: string, timeoutMs: number): Promise<CommandRecord | undefined> {
    return this.store.wait(id, timeoutMs).catch(notRecorded);
  }

  /** Wait for every command under way (graceful shutdown). */
  drain(): Promise<void> {
    return this.runner.drain();
  }

  private device(deviceId: string): DeviceEntry {
    const entry = this.registry.get(deviceId);
    if (!entry) throw new GatehouseError('GH_DEVICE_NOT_FOUND', [deviceId]);
    return entry;
  }
}

/** The audit log refused a command's line: nobody is told of a state that is not on disk. */
function notRecorded(err: Error): never {
  throw new GatehouseError('GH_COMMAND_NOT_RECORDED', [err.message]);
}

/** What the sender stated about whom the command is for; recorded only when it stated something or signed it. */
function originOf(req: CommandRequest, opts: SubmitOptions): { origin?: CommandOrigin } {
  if (req.actor === undefined && !opts.verified) return {};
  return {
    origin: {
      ...(req.actor !== undefined ? { actor: req.actor } : {}),
      requestId: req.requestId,
      trust: opts.verified ? 'hmac-verified' : 'stated',
    },
  };
}
