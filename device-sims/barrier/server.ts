import net from 'node:net';
import { SerialPort } from 'serialport';
import {
  EXCEPTION,
  exceptionPdu,
  mbapFrame,
  rtuCrcOk,
  rtuFrame,
  rtuRequestLength,
  splitMbap,
} from './codec.ts';
import { DEFAULT_FRAMING, interFrameMs, nowMs, sleepUntil, wireMs, type Framing } from './timing.ts';
import { handlePdu } from './handlers/index.ts';
import type { UnitImage } from './image.ts';

/** Write single coil / register, write multiple coils / registers. */
const WRITE_FUNCTIONS = new Set([5, 6, 15, 16]);

interface Answer {
  pdu: Buffer;
  /** Unit id the answer goes out under (wrong-unit fault changes it). */
  unit: number;
  corrupt: boolean;
  delayMs: number;
}

/**
 * The simulator's Modbus server: one request dispatcher shared by the Modbus TCP
 * listener, RTU on serial lines and RTU framing over TCP (serial device server mode).
 * Protocol-level faults (silence, slowness, corrupted CRC, wrong unit id) are applied
 * here; everything barrier-like lives in the units.
 */
export class SimServer {
  readonly units = new Map<number, UnitImage>();
  served = 0;
  private readonly closers: (() => Promise<void>)[] = [];
  private closing = false;

  constructor(readonly opts: { latencyMs: number }) {}

  answer(unitId: number, pdu: Buffer): Answer | null {
    if (unitId === 0) {
      for (const u of this.units.values()) if (u.sim.powered) handlePdu(u, pdu); // broadcast: act, never answer
      return null;
    }
    const u = this.units.get(unitId);
    if (!u || !u.sim.powered) return null;
    const res = handlePdu(u, pdu);
    this.served++;
    const f = u.sim.faults;
    // The unit carried the write out; its answer is lost on the way back (a noisy line).
    if (f.has('lost-write-answer') && WRITE_FUNCTIONS.has(pdu[0] ?? 0)) return null;
    return {
      pdu: res,
      unit: f.has('wrong-unit') ? (unitId + 100) & 0xff : unitId,
      corrupt: f.has('crc-corruption'),
      delayMs: this.opts.latencyMs + (f.has('slow-response') ? (f.get('slow-response')?.delayMs ?? 1500) : 0),
    };
  }

  async listenTcp(host: string, port: number): Promise<string> {
    const srv = net.createServer((sock) => {
      sock.setNoDelay(true);
      let rx: Buffer = Buffer.alloc(0);
      sock.on('error', () => undefined);
      sock.on('data', (chunk) => {
        rx = rx.length ? Buffer.concat([rx, chunk]) : chunk;
        let requests;
        try {
          ({ requests, rest: rx } = splitMbap(rx));
        } catch {
          sock.destroy(); // unframeable stream: what a real device does too
          return;
        }
        for (const fr of requests) {
          const a = this.answer(fr.unit, fr.pdu);
          if (!a) {
            // Modbus TCP's answer for a unit id nobody serves; a powered-off unit stays silent.
            if (!this.units.has(fr.unit) && fr.unit !== 0) {
              const pdu = exceptionPdu(fr.pdu[0] ?? 0, EXCEPTION.gatewayTargetNoResponse);
              sock.write(mbapFrame(fr.transaction, fr.unit, pdu));
            }
            continue;
          }
          let pdu = a.pdu;
          if (a.corrupt && pdu.length > 2) {
            pdu = Buffer.from(pdu);
            pdu[1]! ^= 0x01; // no CRC on TCP: a damaged byte count is what gets through
          }
          const out = mbapFrame(fr.transaction, a.unit, pdu);
          if (a.delayMs > 0) setTimeout(() => !sock.destroyed && sock.write(out), a.delayMs);
          else sock.write(out);
        }
      });
    });
    return this.listen(srv, host, port);
  }

  private async listen(srv: net.Server, host: string, port: number): Promise<string> {
    const sockets = new Set<net.Socket>();
    srv.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve());
    });
    this.closers.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          srv.close(() => r());
        }),
    );
    const a = srv.address() as net.AddressInfo;
    return `${host}:${a.port}`;
  }

  /** RTU framing over TCP, as a serial device server presents an RS-485 line. */
  async listenRtuTcp(host: string, port: number, baud: number, framing = DEFAULT_FRAMING): Promise<string> {
    const srv = net.createServer((sock) => {
      sock.setNoDelay(true);
      sock.on('error', () => undefined);
      const line = new RtuLine(this, (b) => !sock.destroyed && sock.write(b), baud, framing);
      sock.on('data', (b) => line.feed(b));
    });
    return this.listen(srv, host, port);
  }

  /** RTU on a serial device; reopens the path when it disappears and comes back. */
  async openSerial(path: string, baud: number, framing = DEFAULT_FRAMING): Promise<string> {
    const open = () =>
      new Promise<SerialPort>((resolve, reject) => {
        const port = new SerialPort({
          path,
          baudRate: baud,
          dataBits: 8,
          parity: framing.parity,
          stopBits: framing.stopBits,
          autoOpen: false,
        });
        port.open((err) => (err ? reject(err) : resolve(port)));
      });
    let current: SerialPort | undefined;
    const attach = (port: SerialPort) => {
      current = port;
      const line = new RtuLine(this, (b) => port.isOpen && port.write(b), baud, framing);
      port.on('data', (b: Buffer) => line.feed(b));
      port.on('error', () => undefined);
      port.on('close', () => {
        current = undefined;
        if (!this.closing) void reopen();
      });
    };
    const reopen = async () => {
      while (!this.closing) {
        await new Promise((r) => setTimeout(r, 300));
        try {
          attach(await open());
          return;
        } catch {
          // not back yet
        }
      }
    };
    attach(await open());
    this.closers.push(() => new Promise<void>((r) => (current?.isOpen ? current.close(() => r()) : r())));
    return path;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.closers.map((c) => c()));
  }
}

/**
 * One RTU line as a slave sees it: frames cut by their function code's length,
 * CRC-checked (bad frames are ignored, as the spec wants), and answered when the
 * wire would have carried them at the configured baud: request bytes, 3.5 chars of
 * silence, response latency, then the answer's own bytes.
 */
class RtuLine {
  private rx: Buffer = Buffer.alloc(0);
  private frameStart = 0;
  private resync: NodeJS.Timeout | undefined;
  private readonly gapMs: number;

  constructor(
    private readonly server: SimServer,
    private readonly write: (b: Buffer) => void,
    private readonly baud: number,
    private readonly framing: Framing,
  ) {
    this.gapMs = interFrameMs(baud, framing);
  }

  feed(chunk: Buffer): void {
    if (this.rx.length === 0) this.frameStart = nowMs();
    this.rx = this.rx.length ? Buffer.concat([this.rx, chunk]) : chunk;
    clearTimeout(this.resync);
    for (;;) {
      const len = rtuRequestLength(this.rx);
      if (len === 0 || len > this.rx.length || len < 0) break;
      const frame = this.rx.subarray(0, len);
      this.rx = this.rx.subarray(len);
      const start = this.frameStart;
      this.frameStart = nowMs();
      if (!rtuCrcOk(frame)) {
        this.rx = Buffer.alloc(0); // lost sync: wait for the next silence
        break;
      }
      void this.reply(frame, start);
    }
    if (this.rx.length > 0) {
      // A partial or unknown frame: after a silence longer than any pty hiccup, judge what we have.
      this.resync = setTimeout(() => this.silence(), Math.max(20, this.gapMs * 2));
    }
  }

  private silence(): void {
    const frame = this.rx;
    this.rx = Buffer.alloc(0);
    if (frame.length >= 4 && rtuCrcOk(frame) && rtuRequestLength(frame) < 0)
      void this.reply(frame, this.frameStart);
  }

  private async reply(frame: Buffer, start: number): Promise<void> {
    const pdu = frame.subarray(1, frame.length - 2);
    const a = this.server.answer(frame[0]!, pdu);
    if (!a) return;
    const out = rtuFrame(a.unit, a.pdu);
    if (a.corrupt) out[out.length - 1]! ^= 0xff;
    const wire = wireMs(frame.length + out.length, this.baud, this.framing);
    await sleepUntil(start + wire + this.gapMs + a.delayMs);
    this.write(out);
  }
}
