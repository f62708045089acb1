import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../errors.ts';

export interface QueuedMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface QueueEntry extends QueuedMessage {
  /** Byte offset just past this record: commit() it once delivered. */
  end: number;
}

const READ_CHUNK = 64 * 1024;
const COMPACT_AT = 1024 * 1024;

/**
 * An append-only disk queue: one JSON line per message in `queue.log`, and the byte
 * offset up to which messages were delivered in `queue.offset`. Appends are written
 * before they are acknowledged to the producer; the appends since the last save()
 * (the bridge calls it every 200 ms) share one fdatasync, a group commit as the
 * InfluxDB spool's per batch: a power cut loses at most that batch, a process crash
 * nothing (the page cache survives it). A crash before the offset is saved replays a
 * tail (at least once). A record torn by a crash is cut off when the queue is reopened.
 * The log is truncated once everything in it has been delivered.
 */
export class DiskQueue {
  private readonly fd: number;
  private readonly logFile: string;
  private readonly offsetFile: string;
  private size: number;
  private committed: number;
  private savedCommitted: number;
  private unsynced = false;

  constructor(
    dir: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.logFile = path.join(dir, 'queue.log');
    this.offsetFile = path.join(dir, 'queue.offset');
    this.fd = openSync(this.logFile, 'a+');
    this.size = this.lastRecordEnd(fstatSync(this.fd).size);
    if (this.size < fstatSync(this.fd).size) ftruncateSync(this.fd, this.size);
    const saved = existsSync(this.offsetFile) ? Number(readFileSync(this.offsetFile, 'utf8')) : 0;
    if (!Number.isInteger(saved) || saved < 0) {
      throw new GatehouseError('GH_BRIDGE_QUEUE', { file: this.offsetFile });
    }
    this.committed = Math.min(saved, this.size);
    this.savedCommitted = this.committed;
  }

  /** False when the queue is full (the message is dropped and the caller counts it). */
  append(msg: QueuedMessage): boolean {
    const line =
      JSON.stringify({ t: msg.topic, p: msg.payload.toString('base64'), r: msg.retain ? 1 : 0 }) + '\n';
    const buf = Buffer.from(line);
    if (this.size - this.committed + buf.length > this.maxBytes) return false;
    writeSync(this.fd, buf, 0, buf.length, this.size);
    this.size += buf.length;
    this.unsynced = true;
    return true;
  }

  /** fdatasync whatever was appended since the last sync: one sync per batch of appends. */
  sync(): void {
    if (!this.unsynced) return;
    this.unsynced = false;
    fdatasyncSync(this.fd);
  }

  /** Where the last whole record ends: a crash mid-append leaves a line without its newline. */
  private lastRecordEnd(size: number): number {
    const tail = Buffer.alloc(Math.min(size, READ_CHUNK));
    for (let end = size; end > 0;) {
      const from = Math.max(0, end - tail.length);
      const n = readSync(this.fd, tail, 0, end - from, from);
      const nl = tail.subarray(0, n).lastIndexOf(10);
      if (nl >= 0) return from + nl + 1;
      end = from;
    }
    return 0;
  }

  /** Up to `max` messages starting at byte `from` (a record boundary). */
  read(from: number, max: number): QueueEntry[] {
    const out: QueueEntry[] = [];
    let pos = from;
    let carry = Buffer.alloc(0);
    while (out.length < max && pos + carry.length < this.size) {
      const want = Math.min(READ_CHUNK, this.size - pos - carry.length);
      const chunk = Buffer.alloc(want);
      const n = readSync(this.fd, chunk, 0, want, pos + carry.length);
      if (n <= 0) break;
      let buf = Buffer.concat([carry, chunk.subarray(0, n)]);
      let nl: number;
      while (out.length < max && (nl = buf.indexOf(10)) >= 0) {
        const rec = JSON.parse(buf.subarray(0, nl).toString('utf8')) as { t: string; p: string; r: number };
        pos += nl + 1;
        out.push({ topic: rec.t, payload: Buffer.from(rec.p, 'base64'), retain: rec.r === 1, end: pos });
        buf = buf.subarray(nl + 1);
      }
      carry = buf;
    }
    return out;
  }

  get start(): number {
    return this.committed;
  }

  get end(): number {
    return this.size;
  }

  /** Bytes not yet delivered. */
  get pendingBytes(): number {
    return this.size - this.committed;
  }

  /** Everything before byte `end` was delivered. */
  commit(end: number): void {
    if (end > this.committed) this.committed = end;
  }

  /** Sync the log, write the delivered offset to disk, and truncate the log when it is all delivered. */
  save(): void {
    this.sync();
    if (this.committed === this.savedCommitted) return;
    if (this.committed === this.size && this.size >= COMPACT_AT) {
      ftruncateSync(this.fd, 0);
      this.size = 0;
      this.committed = 0;
    }
    const tmp = `${this.offsetFile}.tmp`;
    writeFileSync(tmp, String(this.committed));
    renameSync(tmp, this.offsetFile);
    this.savedCommitted = this.committed;
  }

  close(): void {
    this.sync();
    this.save();
    closeSync(this.fd);
  }
}
