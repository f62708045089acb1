import type { Logger } from 'pino';
import { DeviceError } from '../contract/errors.ts';
import { ModbusException, parseResponse } from './codec.ts';
import { noDrops, type DroppedFrames } from './rtu-window.ts';
import { nowMs } from './timing.ts';
import type { Transport } from './transport.ts';

/**
 * One Modbus bus (a serial line, a device server, or a TCP endpoint): exactly one
 * transaction on the wire at a time. Supervision of a moving arm goes first (the
 * line's other units wait: a car may be under it), then urgent requests (commands,
 * confirmation reads); routine polls are served round-robin across units so one busy
 * unit cannot starve the others. Retries wait off the bus, so a unit that times out
 * costs the line only its own timeouts.
 */
export interface BusTiming {
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  /** Minimum wait between attempts to reopen a lost port or connection. */
  reconnectMs: number;
}

/**
 * Who waits for whom on the line: supervision > urgent > routine > background (a
 * commissioning sweep, served only when nothing else waits).
 */
export type Priority = 'supervise' | 'urgent' | 'routine' | 'background';

export interface RequestOptions {
  /** Shorthand for priority 'urgent' (kept for callers of the device contract's `read({urgent})`). */
  urgent?: boolean;
  priority?: Priority;
  timeoutMs?: number;
  retries?: number;
}

/** One request inside an exclusive group: straight onto the wire, no queue, no retry. */
export type GroupRequest = (pdu: Buffer, timeoutMs?: number) => Promise<number[] | boolean[] | null>;

export interface TransactionRecord {
  unit: number;
  priority: Priority;
  startedAt: number;
  writtenAt: number;
  answeredAt: number;
  doneAt: number;
  reqBytes: number;
  resBytes: number;
  silenceWaitMs: number;
}

interface Job {
  unit: number;
  pdu: Buffer;
  priority: Priority;
  attempt: number;
  retries: number;
  timeoutMs: number;
  resolve: (v: number[] | boolean[] | null) => void;
  reject: (e: DeviceError) => void;
  /** An exclusive group: the bus is held from its first request to its last. */
  group?: (request: GroupRequest) => Promise<unknown>;
}

export function toDeviceError(err: unknown, unit: number): DeviceError {
  if (err instanceof DeviceError) return err;
  if (err instanceof ModbusException) {
    // The exception stays the cause: a sweep tells "nobody at this id" (10, 11) from a refusal.
    const cause = { cause: err };
    if (err.code === 2)
      return new DeviceError('illegal-address', `unit ${unit}: ${err.message}`, 'degraded', cause);
    if (err.code === 1)
      return new DeviceError('illegal-function', `unit ${unit}: ${err.message}`, 'degraded', cause);
    return new DeviceError('bad-response', `unit ${unit}: ${err.message}`, 'degraded', cause);
  }
  return new DeviceError(
    'bad-response',
    `unit ${unit}: ${(err as Error).message ?? String(err)}`,
    'degraded',
  );
}

const RETRYABLE = new Set(['timeout', 'crc-error', 'bad-response']);

export class ModbusBus {
  private readonly supervise: Job[] = [];
  private readonly urgent: Job[] = [];
  private readonly background: Job[] = [];
  private readonly routine = new Map<number, Job[]>();
  /** When each unit last had a routine turn; the longest-waiting unit goes next. */
  private readonly lastTurn = new Map<number, number>();
  private turns = 0;
  private holding = false;
  private holdTurn = 0;
  private busy = false;
  private closed = false;
  private opening: Promise<void> | undefined;
  private lastOpenFailure: { at: number; err: DeviceError } | undefined;
  /** Observer for benchmarks and metrics; called once per answered transaction. */
  onTransaction?: (t: TransactionRecord) => void;

  constructor(
    readonly id: string,
    private readonly transport: Transport,
    readonly timing: BusTiming,
    private readonly log?: Logger,
  ) {
    transport.onDrop = (err) => {
      this.log?.warn({ bus: id, reason: err.reason }, err.message);
    };
  }

  /** Frames dropped as answering no request waiting (late, foreign, mismatched), since the bus was made. */
  get droppedFrames(): Readonly<DroppedFrames> {
    return this.transport.droppedFrames ?? noDrops();
  }

  get queueDepth(): number {
    let n = this.supervise.length + this.urgent.length + this.background.length;
    for (const q of this.routine.values()) n += q.length;
    return n;
  }

  /** One request/answer; resolves with the data the answer carries (words, bits or null for writes). */
  request(unit: number, pdu: Buffer, opts: RequestOptions = {}): Promise<number[] | boolean[] | null> {
    if (this.closed) return Promise.reject(new DeviceError('port-unavailable', `bus ${this.id} is closed`));
    return new Promise((resolve, reject) => {
      this.enqueue({
        unit,
        pdu,
        priority: opts.priority ?? (opts.urgent ? 'urgent' : 'routine'),
        attempt: 0,
        retries: opts.retries ?? this.timing.retries,
        timeoutMs: opts.timeoutMs ?? this.timing.timeoutMs,
        resolve,
        reject,
      });
    });
  }

  /**
   * Several requests to one unit as one turn of the bus: once the group starts, nothing
   * else goes on the wire until it ends (an interlock read and the write it allows, with
   * no other unit's request between them). A failed request fails the group, unretried:
   * a retry would widen the very window the group exists to close.
   */
  exclusive<T>(
    unit: number,
    fn: (request: GroupRequest) => Promise<T>,
    priority: Priority = 'supervise',
  ): Promise<T> {
    if (this.closed) return Promise.reject(new DeviceError('port-unavailable', `bus ${this.id} is closed`));
    return new Promise<T>((resolve, reject) => {
      let result: T;
      this.enqueue({
        unit,
        pdu: Buffer.alloc(0),
        priority,
        attempt: 0,
        retries: 0,
        timeoutMs: this.timing.timeoutMs,
        group: async (request) => (result = await fn(request)),
        resolve: () => resolve(result),
        reject,
      });
    });
  }

  private enqueue(job: Job, front = false): void {
    if (this.closed) {
      job.reject(new DeviceError('port-unavailable', `bus ${this.id} is closed`));
      return;
    }
    if (job.priority !== 'routine') {
      const q = { supervise: this.supervise, urgent: this.urgent, background: this.background }[job.priority];
      if (front) q.unshift(job);
      else q.push(job);
    } else {
      let q = this.routine.get(job.unit);
      if (!q) {
        q = [];
        this.routine.set(job.unit, q);
      }
      if (front) q.unshift(job);
      else q.push(job);
    }
    this.pump();
  }

  private next(): Job | undefined {
    const u = this.supervise.shift() ?? this.urgent.shift();
    if (u) return u;
    let best: number | undefined;
    for (const [unit, q] of this.routine) {
      if (q.length === 0) continue;
      if (best === undefined || (this.lastTurn.get(unit) ?? -1) < (this.lastTurn.get(best) ?? -1))
        best = unit;
    }
    if (best === undefined) return this.background.shift();
    this.lastTurn.set(best, this.turns++);
    return this.routine.get(best)!.shift();
  }

  private pump(): void {
    if (this.busy || this.closed) return;
    if (this.holding && this.supervise.length === 0) return;
    const job = this.next();
    if (!job) return;
    this.busy = true;
    void this.run(job).finally(() => {
      this.busy = false;
      if (job.priority === 'supervise') this.hold();
      this.pump();
    });
  }

  /**
   * A supervision loop queues its next read in the same turn of the event loop as the
   * answer to its last one: keep the line for it until that turn ends, so no poll of
   * another unit slips in between two supervision reads.
   */
  private hold(): void {
    this.holding = true;
    const turn = ++this.holdTurn;
    setImmediate(() => {
      if (turn !== this.holdTurn) return;
      this.holding = false;
      this.pump();
    });
  }

  private async ensureOpen(): Promise<void> {
    if (this.transport.isOpen) return;
    const f = this.lastOpenFailure;
    if (f && nowMs() - f.at < this.timing.reconnectMs) throw f.err;
    this.opening ??= this.transport
      .open()
      .then(() => {
        if (this.lastOpenFailure) this.log?.info({ bus: this.id }, 'bus link restored');
        this.lastOpenFailure = undefined;
      })
      .catch((err: unknown) => {
        const e = toDeviceError(err, 0);
        this.lastOpenFailure = { at: nowMs(), err: e };
        throw e;
      })
      .finally(() => (this.opening = undefined));
    await this.opening;
  }

  private async run(job: Job): Promise<void> {
    if (job.group) {
      const request: GroupRequest = (pdu, timeoutMs) =>
        this.transact(job.unit, pdu, timeoutMs ?? job.timeoutMs, job.priority).catch((err: unknown) => {
          throw toDeviceError(err, job.unit);
        });
      try {
        await job.group(request);
      } catch (err) {
        // Wire failures already carry a reason; the group's own refusal (an interlock) passes as it is.
        job.reject(err as DeviceError);
        return;
      }
      job.resolve(null);
      return;
    }
    let data: number[] | boolean[] | null;
    try {
      data = await this.transact(job.unit, job.pdu, job.timeoutMs, job.priority);
    } catch (err) {
      this.fail(job, toDeviceError(err, job.unit));
      return;
    }
    job.resolve(data);
  }

  private async transact(
    unit: number,
    pdu: Buffer,
    timeoutMs: number,
    priority: Priority,
  ): Promise<number[] | boolean[] | null> {
    const startedAt = nowMs();
    // Skip the await when the link is up: the request reaches the wire in this very turn.
    if (!this.transport.isOpen) await this.ensureOpen();
    const ex = await this.transport.transact(unit, pdu, timeoutMs + this.transport.wireBudgetMs(pdu));
    const data = parseResponse(pdu, ex.pdu);
    this.onTransaction?.({ unit, priority, startedAt, ...ex, doneAt: nowMs() });
    return data;
  }

  private fail(job: Job, err: DeviceError): void {
    if (!this.closed && RETRYABLE.has(err.reason) && job.attempt < job.retries) {
      // Back off off the bus: other units' requests run meanwhile.
      const delay = this.timing.retryBackoffMs * 2 ** job.attempt;
      job.attempt++;
      setTimeout(() => this.enqueue(job, true), delay).unref();
      return;
    }
    job.reject(err);
  }

  async close(): Promise<void> {
    this.closed = true;
    const err = new DeviceError('port-unavailable', `bus ${this.id} closed`);
    for (const q of [this.supervise, this.urgent, this.background])
      for (const j of q.splice(0)) j.reject(err);
    for (const q of this.routine.values()) for (const j of q.splice(0)) j.reject(err);
    await this.transport.close();
  }
}
