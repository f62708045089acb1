import net from 'node:net';
import { SerialPort } from 'serialport';
import { DeviceError, markWentOut } from '../contract/errors.ts';
import {
  encodeMbap,
  encodeRtu,
  expectedRtuResponseLength,
  rtuCrcOk,
  rtuResponseLength,
  takeMbapFrames,
} from './codec.ts';
import { GaveUp, judge, noDrops, type DroppedFrames } from './rtu-window.ts';
import { BITS_PER_CHAR, bitsPerChar, frameGapMs, nowMs, transactionWireMs, waitUntil } from './timing.ts';

/**
 * Byte transports for one Modbus bus. A transport carries one transaction at a time
 * (the bus guarantees that) and turns what goes wrong on the wire into a DeviceError
 * with a health reason. Stale answers (a slow unit replying after its timeout) are
 * recognised and dropped, so they never get blamed on the unit asked next.
 */
export interface Exchange {
  pdu: Buffer;
  /** performance.now() when the request was handed to the OS and when the last answer byte came. */
  writtenAt: number;
  answeredAt: number;
  reqBytes: number;
  resBytes: number;
  /** Time spent keeping the line's inter-frame silence before writing. */
  silenceWaitMs: number;
}

export interface Transport {
  open(): Promise<void>;
  readonly isOpen: boolean;
  transact(unit: number, pdu: Buffer, timeoutMs: number): Promise<Exchange>;
  /** Time the line itself needs for this request and its answer, added to the timeout. */
  wireBudgetMs(pdu: Buffer): number;
  close(): Promise<void>;
  /** Called when the link drops by itself (port gone, peer closed). */
  onDrop?: (err: DeviceError) => void;
  /** Frames dropped as not answering the request waiting (stale, foreign, mismatched), since open. */
  readonly droppedFrames?: Readonly<DroppedFrames>;
}

interface Pending {
  unit: number;
  reqPdu: Buffer;
  writtenAt: number;
  reqBytes: number;
  silenceWaitMs: number;
  tid: number;
  foreign?: string;
  resolve: (x: Exchange) => void;
  reject: (e: DeviceError) => void;
  timer: NodeJS.Timeout;
}

interface ByteLink {
  write(b: Buffer): void;
  destroy(): Promise<void>;
}

function openError(err: NodeJS.ErrnoException, what: string): DeviceError {
  const msg = String(err.message ?? err);
  if (err.code === 'ECONNREFUSED')
    return new DeviceError('connection-refused', `${what}: connection refused`);
  if (err.code === 'ETIMEDOUT') return new DeviceError('timeout', `${what}: connect timed out`);
  if (err.code === 'ENOENT' || /No such file|cannot open|ENOENT|EACCES|EIO/i.test(msg)) {
    return new DeviceError('port-unavailable', `${what}: ${msg}`, 'offline', { cause: err });
  }
  return new DeviceError('connection-refused', `${what}: ${msg}`, 'offline', { cause: err });
}

/** Shared pending-request bookkeeping of the framed transports. */
abstract class BaseTransport implements Transport {
  protected link: ByteLink | undefined;
  protected pending: Pending | undefined;
  protected rx: Buffer = Buffer.alloc(0);
  onDrop?: (err: DeviceError) => void;
  readonly droppedFrames: DroppedFrames = noDrops();

  constructor(protected readonly what: string) {}

  get isOpen(): boolean {
    return this.link !== undefined;
  }

  abstract open(): Promise<void>;
  wireBudgetMs(_pdu: Buffer): number {
    return 0;
  }
  protected abstract frame(unit: number, pdu: Buffer, tid: number): Buffer;
  protected abstract onBytes(): void;
  /** A request timed out: its answer may still come. */
  protected gaveUp(_p: Pending): void {}
  /** Earliest time the next request may go out (RTU inter-frame silence). */
  protected readyAt = 0;
  private tid = 0;

  async transact(unit: number, pdu: Buffer, timeoutMs: number): Promise<Exchange> {
    if (!this.link) throw new DeviceError('port-unavailable', `${this.what}: not open`);
    const t0 = nowMs();
    // Bytes may still be coming in (a late answer): go only after a whole gap of silence.
    while (this.readyAt > nowMs()) await waitUntil(this.readyAt);
    const silenceWaitMs = this.readyAt > t0 ? nowMs() - t0 : 0;
    const link = this.link;
    if (!link) throw new DeviceError('port-unavailable', `${this.what}: not open`);
    this.tid = (this.tid + 1) & 0xffff;
    const adu = this.frame(unit, pdu, this.tid);
    this.rx = Buffer.alloc(0);
    return new Promise<Exchange>((resolve, reject) => {
      const p: Pending = {
        unit,
        reqPdu: pdu,
        reqBytes: adu.length,
        tid: this.tid,
        writtenAt: nowMs(),
        silenceWaitMs,
        resolve,
        reject: (e) => reject(markWentOut(e)), // written: the unit may have acted on it
        timer: setTimeout(() => {
          if (this.pending !== p) return;
          this.pending = undefined;
          this.gaveUp(p);
          p.reject(
            p.foreign
              ? new DeviceError('bad-response', `${this.what}: ${p.foreign}`, 'degraded')
              : new DeviceError(
                  'timeout',
                  `${this.what}: no answer from unit ${unit} within ${Math.round(timeoutMs)} ms`,
                ),
          );
        }, timeoutMs),
      };
      this.pending = p;
      link.write(adu);
    });
  }

  protected finish(pdu: Buffer | DeviceError, resBytes = 0): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    if (pdu instanceof DeviceError) p.reject(pdu);
    else {
      const { writtenAt, reqBytes, silenceWaitMs } = p;
      p.resolve({ pdu, writtenAt, answeredAt: nowMs(), reqBytes, resBytes, silenceWaitMs });
    }
  }

  protected dropped(err: DeviceError): void {
    if (!this.link) return;
    this.link = undefined;
    this.finish(err);
    this.onDrop?.(err);
  }

  async close(): Promise<void> {
    const l = this.link;
    this.link = undefined;
    this.finish(new DeviceError('port-unavailable', `${this.what}: closed`));
    await l?.destroy();
  }
}

function tcpLink(
  host: string,
  port: number,
  timeoutMs: number,
  self: { feed(b: Buffer): void; dropGone(e: DeviceError): void },
  what: string,
) {
  return new Promise<ByteLink>((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.setNoDelay(true);
    const t = setTimeout(
      () => sock.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    sock.once('error', (err) => {
      clearTimeout(t);
      reject(openError(err, what));
    });
    sock.once('connect', () => {
      clearTimeout(t);
      sock.removeAllListeners('error');
      sock.on('error', () => undefined); // 'close' follows and reports the drop
      sock.on('data', (b) => self.feed(b));
      sock.on('close', () =>
        self.dropGone(new DeviceError('connection-refused', `${what}: connection closed by peer`)),
      );
      resolve({
        write: (b) => sock.write(b),
        destroy: () =>
          new Promise<void>((r) => (sock.destroyed ? r() : sock.once('close', () => r()).destroy())),
      });
    });
  });
}

/** Modbus TCP: MBAP framing, transaction ids matched. */
export class TcpTransport extends BaseTransport {
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connectTimeoutMs = 2000,
  ) {
    super(`tcp ${host}:${port}`);
  }
  async open(): Promise<void> {
    this.link = await tcpLink(this.host, this.port, this.connectTimeoutMs, this, this.what);
  }
  dropGone(e: DeviceError) {
    this.dropped(e);
  }
  feed(b: Buffer) {
    this.rx = this.rx.length ? Buffer.concat([this.rx, b]) : b;
    this.onBytes();
  }
  protected frame(unit: number, pdu: Buffer, tid: number): Buffer {
    return encodeMbap(tid, unit, pdu);
  }
  protected onBytes(): void {
    let frames;
    try {
      ({ frames, rest: this.rx } = takeMbapFrames(this.rx));
    } catch (err) {
      this.rx = Buffer.alloc(0);
      this.finish(new DeviceError('bad-response', `${this.what}: ${(err as Error).message}`, 'degraded'));
      return;
    }
    for (const f of frames) {
      const p = this.pending;
      if (!p || f.tid !== p.tid) {
        this.droppedFrames.late++; // stale answer to a request that already timed out
        continue;
      }
      if (f.unit !== p.unit) {
        this.finish(
          new DeviceError(
            'bad-response',
            `${this.what}: unit ${f.unit} answered for unit ${p.unit}`,
            'degraded',
          ),
        );
      } else this.finish(Buffer.from(f.pdu), f.pdu.length + 7);
    }
  }
}

/**
 * RTU framing (CRC16) over a serial port or a raw TCP socket to a serial device
 * server. Frames are cut by the length their function code implies. With no
 * transaction id, a frame answers the request waiting only if it comes from the unit
 * asked, for the function asked, in the shape asked (rtu-window.ts); anything else,
 * and anything arriving with nobody waiting, is dropped and counted.
 */
export class RtuTransport extends BaseTransport {
  constructor(
    private readonly target:
      | {
          kind: 'serial';
          path: string;
          baud: number;
          parity: 'none' | 'even' | 'odd';
          dataBits: 7 | 8;
          stopBits: 1 | 2;
        }
      | { kind: 'tcp'; host: string; port: number; baud: number },
  ) {
    super(target.kind === 'serial' ? `serial ${target.path}` : `rtu-over-tcp ${target.host}:${target.port}`);
    // A device server's line framing is not configured: 10 bits (8N1) as before.
    this.bits = target.kind === 'serial' ? bitsPerChar(target) : BITS_PER_CHAR;
    this.gapMs = frameGapMs(target.baud, this.bits);
  }
  private gapMs: number;
  private readonly bits: number;
  private readonly late = new GaveUp();

  override wireBudgetMs(pdu: Buffer): number {
    return transactionWireMs(pdu.length + 3, expectedRtuResponseLength(pdu), this.target.baud, this.bits);
  }

  protected override gaveUp(p: { unit: number; reqPdu: Buffer }): void {
    this.late.note(p.unit, p.reqPdu, nowMs());
  }

  async open(): Promise<void> {
    const t = this.target;
    if (t.kind === 'tcp') {
      this.link = await tcpLink(t.host, t.port, 2000, this, this.what);
      this.gapMs = 0; // the device server keeps the line's silences itself
      return;
    }
    const port = new SerialPort({
      path: t.path,
      baudRate: t.baud,
      parity: t.parity,
      dataBits: t.dataBits,
      stopBits: t.stopBits,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(openError(err as NodeJS.ErrnoException, this.what)) : resolve())),
    );
    port.on('data', (b: Buffer) => this.feed(b));
    port.on('error', () => undefined); // 'close' follows
    port.on('close', () => this.dropped(new DeviceError('port-unavailable', `${this.what}: port closed`)));
    this.link = {
      write: (b) => port.write(b),
      destroy: () => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())),
    };
  }
  dropGone(e: DeviceError) {
    this.dropped(e);
  }
  feed(b: Buffer) {
    this.readyAt = nowMs() + this.gapMs;
    this.rx = this.rx.length ? Buffer.concat([this.rx, b]) : b;
    this.onBytes();
  }
  protected frame(unit: number, pdu: Buffer): Buffer {
    return encodeRtu(unit, pdu);
  }
  protected onBytes(): void {
    // What is left of a read after a frame is framed on at once, with or without a
    // request waiting, so no count or verdict depends on where the line cut its reads.
    for (;;) {
      const p = this.pending;
      const len = rtuResponseLength(this.rx);
      if (len === 0 || this.rx.length < len) return; // a partial frame: the next request's flush drops it
      if (!p) {
        // Nobody is waiting (its request timed out, or it has its answer): count a whole
        // frame; skip a broken one by its length, an unknown function byte by byte.
        const whole = len > 0 && rtuCrcOk(this.rx.subarray(0, len));
        if (whole) this.droppedFrames.late++;
        this.rx = this.rx.subarray(len > 0 ? len : 1);
        continue;
      }
      if (len < 0) {
        const fn = this.rx[1];
        this.rx = this.rx.subarray(1);
        this.finish(
          new DeviceError(
            'bad-response',
            `${this.what}: unknown function ${fn} from unit ${p.unit}`,
            'degraded',
          ),
        );
        continue;
      }
      const frame = this.rx.subarray(0, len);
      this.rx = this.rx.subarray(len);
      if (!rtuCrcOk(frame)) {
        this.finish(
          new DeviceError(
            'crc-error',
            `${this.what}: CRC mismatch in answer from unit ${p.unit}`,
            'degraded',
          ),
        );
        continue;
      }
      const verdict = judge(p.reqPdu, p.unit, frame);
      if (verdict === 'answer') {
        this.finish(Buffer.from(frame.subarray(1, len - 2)), len);
        continue;
      }
      if (this.late.fits(frame, nowMs())) this.droppedFrames.late++;
      else if (verdict === 'mismatch') this.droppedFrames.mismatched++;
      else {
        this.droppedFrames.foreign++;
        p.foreign = `unit ${frame[0]} answered when unit ${p.unit} was asked`;
      }
    }
  }
}
