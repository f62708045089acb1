import type { BarrierFields } from '../contract/canonical.ts';
import { online, type Health } from '../contract/health.ts';
import { DeviceError, DriverError, wentOut } from '../contract/errors.ts';
import {
  SENSE_FIELDS,
  type Driver,
  type DriverCommand,
  type DriverContext,
  type ExecuteOptions,
  type ReadResult,
} from '../contract/driver.ts';
import type { ModbusBus, Priority } from './bus.ts';
import {
  READ_FC,
  readRequest,
  writeMultipleCoils,
  writeMultipleRegisters,
  writeSingleCoil,
  writeSingleRegister,
} from './codec.ts';
import { BarrierEventTracker } from './events.ts';
import {
  COMMANDS,
  reversalCommands,
  type Command,
  type CommandName,
  type Profile,
  type WriteStep,
} from './profile.ts';
import {
  decodeFields,
  decodeReading,
  emptyImage,
  planReads,
  type ReadRange,
  type RegisterImage,
} from './registers.ts';
import { busReader, UnitInfo } from './unit-info.ts';

export interface BarrierDriverOptions {
  /** First back-off after a unit stops answering; doubles per failure up to backoffMaxMs. */
  backoffMs: number;
  backoffMaxMs: number;
}

/**
 * A barrier controller at one unit address on a Modbus bus, driven entirely by its
 * profile. Reads are batched by the profile's read plan; a unit that stops answering
 * is backed off (its routine reads fail fast without touching the bus) so it never
 * holds up the other units on the line.
 */
export class ModbusBarrierDriver implements Driver {
  readonly kind = 'barrier' as const;
  private readonly plan: ReadRange[];
  /** The profile cut down to what watching a moving arm needs, and its (shorter) read plan. */
  private readonly senseProfile: Profile;
  private readonly sensePlan: ReadRange[];
  private readonly tracker: BarrierEventTracker;
  private state: Health | undefined;
  private failures = 0;
  private backoffUntil = 0;
  private lastError: DeviceError | undefined;
  private seq = Math.floor(Math.random() * 0xfff0) + 1;
  private readonly about: UnitInfo;

  constructor(
    readonly id: string,
    readonly bus: ModbusBus,
    readonly unit: number,
    readonly profile: Profile,
    private readonly ctx: DriverContext,
    private readonly opts: BarrierDriverOptions,
  ) {
    this.plan = planReads(profile);
    const wanted: readonly string[] = SENSE_FIELDS;
    this.senseProfile = { ...profile, fields: profile.fields.filter((f) => wanted.includes(f.field)) };
    this.sensePlan = planReads(this.senseProfile);
    this.tracker = new BarrierEventTracker(profile.faultCodes);
    this.about = new UnitInfo(profile, busReader(bus, unit), ctx.log, id);
  }

  async connect(): Promise<void> {
    // The bus opens lazily and reconnects by itself; a device that is down at start is a health state, not an error.
    await this.about.load();
  }

  /** Board id, firmware, serial… as the profile's deviceInfo reads them; unverified mappings by name. */
  info(): Record<string, string> | undefined {
    return this.about.get();
  }

  async read(opts: { urgent?: boolean } = {}): Promise<ReadResult> {
    if (!opts.urgent && this.lastError && Date.now() < this.backoffUntil) throw this.lastError;
    const img: RegisterImage = emptyImage();
    try {
      for (const r of this.plan) {
        // A unit already timing out gets no retries: each would hold the line for a full timeout.
        const retries = this.failures > 0 ? 0 : undefined;
        const data = await this.bus.request(this.unit, readRequest(READ_FC[r.type], r.address, r.count), {
          ...opts,
          retries,
        });
        (data ?? []).forEach((v, i) => (img[r.type] as Map<number, number | boolean>).set(r.address + i, v));
      }
    } catch (err) {
      throw this.failed(err as DeviceError);
    }
    const { fields, unknown } = decodeReading(this.profile, img);
    if (!this.about.loaded) void this.about.load(); // silent at connect, answering now
    this.failures = 0;
    this.lastError = undefined;
    const code = fields.fault_code ?? 0;
    const health: Health =
      code !== 0
        ? {
            status: 'degraded',
            reason: `barrier-fault:${code}`,
            detail: this.profile.faultCodes?.[String(code)] ?? `controller fault ${code}`,
            since: this.sinceFor('degraded', `barrier-fault:${code}`),
          }
        : { ...online(), since: this.sinceFor('online', undefined) };
    this.state = health;
    return { fields, events: this.tracker.update(fields), health, ...(unknown.length ? { unknown } : {}) };
  }

  /** The arm and the lane's sensors, ahead of everything else on the line; no retry, so no back-off wait. */
  async sense(): Promise<BarrierFields> {
    try {
      const img = await this.readPlan(this.sensePlan, (pdu) =>
        this.bus.request(this.unit, pdu, { priority: 'supervise', retries: 0 }),
      );
      return decodeFields(this.senseProfile, img);
    } catch (err) {
      throw this.failed(err as DeviceError);
    }
  }

  private async readPlan(
    plan: ReadRange[],
    request: (pdu: Buffer) => Promise<number[] | boolean[] | null>,
  ): Promise<RegisterImage> {
    const img: RegisterImage = emptyImage();
    for (const r of plan) {
      const data = await request(readRequest(READ_FC[r.type], r.address, r.count));
      (data ?? []).forEach((v, i) => (img[r.type] as Map<number, number | boolean>).set(r.address + i, v));
    }
    return img;
  }

  private sinceFor(status: Health['status'], reason: string | undefined): string {
    const s = this.state;
    return s && s.status === status && s.reason === reason ? s.since : new Date().toISOString();
  }

  private failed(err: DeviceError): DeviceError {
    if (!(err instanceof DeviceError)) err = new DeviceError('bad-response', String(err), 'degraded');
    this.lastError = err;
    if (err.reason === 'timeout') {
      this.failures++;
      const { backoffMs, backoffMaxMs } = this.opts;
      this.backoffUntil = Date.now() + Math.min(backoffMaxMs, backoffMs * 2 ** (this.failures - 1));
    }
    this.state = {
      status: err.status,
      reason: err.reason,
      detail: err.message,
      since: this.sinceFor(err.status, err.reason),
    };
    return err;
  }

  async execute(
    command: DriverCommand,
    opts: ExecuteOptions = {},
  ): Promise<{ action: CommandName; sequence?: number; conditional?: true }> {
    const action = command.action as CommandName;
    const known = (COMMANDS as readonly string[]).includes(action);
    // A controller-side "close if clear" takes the last look itself: prefer it to a plain close.
    const conditional = action === 'close' && this.profile.closeIfClear !== undefined;
    const cmd = conditional ? this.profile.closeIfClear : known ? this.profile.commands[action] : undefined;
    if (!cmd) {
      throw new DriverError('unsupported', `profile ${this.profile.name} has no command "${command.action}"`);
    }
    this.tracker.commanded(action); // before the write: a poll may see the arm move before we return
    const sequence = await this.write(cmd, 'urgent', opts);
    this.ctx.log.debug({ device: this.id, action, sequence, conditional }, 'command written');
    return {
      action,
      ...(sequence === undefined ? {} : { sequence }),
      ...(conditional ? { conditional: true as const } : {}),
    };
  }

  /** The profile's reversal (open, or stop then open), each write ahead of everything else on the line. */
  async reverse(opts: Pick<ExecuteOptions, 'onWritten'> = {}): Promise<{ reversal: CommandName[] }> {
    const names = reversalCommands(this.profile);
    let first = true;
    for (const name of names) {
      const cmd = this.profile.commands[name];
      if (!cmd) throw new DriverError('unsupported', `profile ${this.profile.name} has no command "${name}"`);
      this.tracker.commanded(name);
      await this.write(cmd, 'supervise', first ? opts : {});
      first = false;
    }
    this.ctx.log.debug({ device: this.id, reversal: names }, 'reversal written');
    return { reversal: names };
  }

  /**
   * Write a command's steps. With a guard, the first write goes out in one exclusive turn
   * of the bus right after a fresh read of the lane's sensors, so no other request can
   * widen the window between the interlock and the write.
   */
  private async write(cmd: Command, priority: Priority, opts: ExecuteOptions): Promise<number | undefined> {
    let sequence: number | undefined;
    let first = true;
    let writing = false;
    let refusal: unknown;
    try {
      for (const step of cmd.steps) {
        if ('waitMs' in step) {
          await new Promise((r) => setTimeout(r, step.waitMs));
          continue;
        }
        if (step.write.sequence) {
          this.seq = (this.seq % 0xffff) + 1;
          sequence = this.seq;
        }
        const pdu = writePdu(step.write, sequence);
        const guard = first ? opts.guard : undefined;
        if (guard) {
          await this.bus.exclusive(this.unit, async (request) => {
            const sensed = decodeFields(this.senseProfile, await this.readPlan(this.sensePlan, request));
            try {
              guard(sensed);
            } catch (err) {
              refusal = err;
              throw err;
            }
            writing = true;
            await request(pdu);
          });
        } else {
          writing = true;
          // A command's first write goes once: unanswered, it may still have been carried
          // out, and a second copy could actuate twice. What is read back decides.
          await this.bus.request(this.unit, pdu, {
            priority,
            ...(first && priority === 'urgent' ? { retries: 0 } : {}),
          });
        }
        writing = false;
        if (first) opts.onWritten?.(true);
        first = false;
      }
    } catch (err) {
      if (err === refusal) throw err;
      if (first && writing && wentOut(err)) opts.onWritten?.(false);
      throw this.failed(err as DeviceError);
    }
    if (sequence !== undefined) await this.checkEcho(sequence, priority);
    return sequence;
  }

  /** The controller copies an accepted command's sequence number to its echo register. */
  private async checkEcho(sequence: number, priority: Priority): Promise<void> {
    const echo = this.profile.sequence!.echo;
    let seen: number | undefined;
    for (let i = 0; i < 3; i++) {
      const req = readRequest(READ_FC[echo.type], echo.address, 1);
      const words = (await this.bus.request(this.unit, req, { priority }).catch((e: unknown) => {
        throw this.failed(e as DeviceError);
      })) as number[];
      seen = words[0];
      if (seen === sequence) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    // The link is fine (the echo was read); the controller refused the command, e.g. while in fault.
    throw new DriverError(
      'rejected',
      `unit ${this.unit} did not accept ${this.profile.name} command (echo ${seen}, sent sequence ${sequence})`,
    );
  }

  health(): Health | undefined {
    return this.state;
  }

  async close(): Promise<void> {
    // Buses are shared between devices; their owner (createModbusDrivers) closes them.
  }
}

export function writePdu(w: WriteStep, sequence?: number): Buffer {
  if (w.type === 'coil') {
    const bits = w.values.map(Boolean);
    return bits.length === 1 && !w.multiple
      ? writeSingleCoil(w.address, bits[0]!)
      : writeMultipleCoils(w.address, bits);
  }
  const words = w.values.map(Number);
  if (sequence !== undefined) words.push(sequence);
  return words.length === 1 && !w.multiple
    ? writeSingleRegister(w.address, words[0]!)
    : writeMultipleRegisters(w.address, words);
}
