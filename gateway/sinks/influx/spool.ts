import { mkdir, open, readdir, readFile, rename, truncate, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../../logger.ts';

/**
 * A durable, append-only, segmented disk spool for batches InfluxDB could not take.
 *
 * Layout: `<dir>/<seq>.seg` files, oldest first, plus `<dir>/ack` holding the read
 * position in the oldest segment (`<seq> <offset>`). Each record is
 *   u32 payload length | u32 crc32(payload) | payload
 * (big-endian) and each payload is `u32 point count | line protocol bytes`.
 *
 * Records are replayed in order and acknowledged one by one; a segment is deleted once
 * every record in it is acknowledged. The ack file is rewritten without fsync: after a
 * power cut a few records may be replayed twice, which InfluxDB absorbs because a point
 * with the same series and timestamp overwrites itself (at-least-once + idempotent
 * writes = every point once in the database).
 *
 * Bounded: when the spool grows past `maxBytes` the oldest segment is dropped, its
 * unacknowledged points counted in `pointsDropped` and logged.
 *
 * On open every segment is scanned; the first record with a short header, a length
 * running past the end of the file or a bad crc ends that segment, which is truncated
 * there (a power cut tears only the tail that was being written) and logged.
 *
 * fsync policy (`fsync`):
 * - 'always' (default): `append` resolves only after fdatasync of the segment, and a new
 *   segment's directory entry is fsynced on creation. A record is one whole batch (up to
 *   batchSize points, ~1.2 MB at 5000 ten-field barrier points), so it is one sync per
 *   batch, not per point. Measured on the 2-core test VM: 8-10 ms per 5000-point batch,
 *   i.e. 0.5-0.6 M points/s into the spool, ~5x the rate influxd itself ingests, and a
 *   gateway produces a few hundred points/s; so the safe policy costs nothing visible.
 *   ('interval' measured 2.5-3 ms per batch, 'never' 0.5-1 ms.)
 * - 'interval': fdatasync at most every `fsyncIntervalMs` (1 s) when dirty; a power cut
 *   loses at most that window; a process crash (SIGKILL) loses nothing since the page
 *   cache survives it.
 * - 'never': the OS decides; survives process crashes, not power cuts.
 * `sync()` forces a sync under any policy (the sink's flush() uses it).
 */

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  segmentBytes: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs?: number;
  logger?: Logger;
}

/** One spooled batch, as handed back for replay. */
export interface SpoolRecord {
  seq: number;
  offset: number;
  end: number;
  points: number;
  body: Buffer;
}

interface Segment {
  seq: number;
  file: string;
  size: number;
  points: number;
}

const HEADER = 8;
const COUNT = 4;
const SEG_RE = /^(\d{12})\.seg$/;

function segName(seq: number): string {
  return `${String(seq).padStart(12, '0')}.seg`;
}

/** Walk a segment's records; returns where the valid prefix ends and what it holds. */
export function scanSegment(buf: Buffer): { validBytes: number; records: number[]; points: number } {
  const records: number[] = [];
  let off = 0;
  let points = 0;
  while (off + HEADER <= buf.length) {
    const len = buf.readUInt32BE(off);
    const crc = buf.readUInt32BE(off + 4);
    if (len < COUNT || off + HEADER + len > buf.length) break;
    const payload = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== crc) break;
    records.push(off);
    points += payload.readUInt32BE(0);
    off += HEADER + len;
  }
  return { validBytes: off, records, points };
}

/** Encode one record (header + payload) for a batch of `points` points. */
export function encodeRecord(body: Buffer, points: number): Buffer[] {
  const count = Buffer.allocUnsafe(COUNT);
  count.writeUInt32BE(points, 0);
  const crc = crc32(body, crc32(count));
  const header = Buffer.allocUnsafe(HEADER);
  header.writeUInt32BE(COUNT + body.length, 0);
  header.writeUInt32BE(crc, 4);
  return [header, count, body];
}

export class Spool {
  private segments: Segment[] = [];
  /** Read position inside segments[0]. */
  private headOffset = 0;
  /** Points of segments[0] before headOffset (already acknowledged). */
  private headAckedPoints = 0;
  private active: { seq: number; fh: FileHandle } | undefined;
  private nextSeq = 1;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readFh: { seq: number; fh: FileHandle } | undefined;
  private closed = false;
  private readonly log: Logger | undefined;
  private readonly segmentBytes: number;

  /** Points lost to the size bound (drop-oldest) or to a corrupt record found while replaying. */
  pointsDropped = 0;
  /** Bytes cut off torn segment tails when the spool was opened. */
  truncatedBytes = 0;

  private constructor(private readonly opts: SpoolOptions) {
    this.log = opts.logger;
    // A segment must be well under the bound, or drop-oldest would drop the one being written.
    this.segmentBytes = Math.max(1024, Math.min(opts.segmentBytes, Math.floor(opts.maxBytes / 4)));
  }

  static async open(opts: SpoolOptions): Promise<Spool> {
    const s = new Spool(opts);
    await s.load();
    if (opts.fsync === 'interval') {
      s.timer = setInterval(() => void s.sync().catch(() => undefined), opts.fsyncIntervalMs ?? 1000);
      s.timer.unref();
    }
    return s;
  }

  /** Bytes on disk, acknowledged records of the oldest segment included until it is deleted. */
  get bytes(): number {
    let b = 0;
    for (const s of this.segments) b += s.size;
    return b;
  }

  /** Points waiting for replay. */
  get pendingPoints(): number {
    let p = 0;
    for (const s of this.segments) p += s.points;
    return p - this.headAckedPoints;
  }

  get isEmpty(): boolean {
    const head = this.segments[0];
    return head === undefined || (this.segments.length === 1 && this.headOffset >= head.size);
  }

  /** Append one batch; resolves once it is in the file (and synced under 'always'). */
  append(body: Buffer, points: number): Promise<void> {
    return this.serial(async () => {
      if (this.closed) throw new Error('spool closed');
      const seg = await this.activeSegment();
      const parts = encodeRecord(body, points);
      const size = HEADER + COUNT + body.length;
      const meta = this.segments[this.segments.length - 1]!;
      // A full disk ends a write short or with ENOSPC: cut the torn bytes off again, or
      // records appended once space returns would sit behind them and be lost as corrupt.
      let written = 0;
      try {
        ({ bytesWritten: written } = await seg.fh.writev(parts));
      } finally {
        if (written !== size) await seg.fh.truncate(meta.size).catch(() => undefined);
      }
      if (written !== size) throw new Error(`spool: short write (${written} of ${size} bytes; disk full?)`);
      meta.size += size;
      meta.points += points;
      this.dirty = true;
      if (this.opts.fsync === 'always') await this.syncActive();
      if (meta.size >= this.segmentBytes) await this.closeActive();
      await this.enforceBound();
    });
  }

  /** The oldest unacknowledged record, or undefined when the spool is empty. */
  peek(): Promise<SpoolRecord | undefined> {
    return this.serial(async () => {
      for (;;) {
        const head = this.segments[0];
        if (!head) return undefined;
        if (this.headOffset >= head.size) {
          if (this.active?.seq === head.seq) return undefined;
          await this.dropHead(false);
          continue;
        }
        const rec = await this.readRecord(head, this.headOffset);
        if (rec) return rec;
        // Corrupt after it was scanned (disk trouble): the rest of this segment is unusable.
        const lost = head.points - this.headAckedPoints;
        this.pointsDropped += lost;
        this.log?.error(
          { code: 'GH_SPOOL_CORRUPT', segment: head.file, offset: this.headOffset, points: lost },
          'influx spool: corrupt record while replaying; rest of segment dropped',
        );
        if (this.active?.seq === head.seq) await this.closeActive();
        await this.dropHead(false);
      }
    });
  }

  /** Acknowledge a record returned by peek (it reached InfluxDB or was rejected there). */
  ack(rec: SpoolRecord): Promise<void> {
    return this.serial(async () => {
      const head = this.segments[0];
      // The record's segment may have been dropped by the size bound meanwhile.
      if (!head || head.seq !== rec.seq || rec.offset !== this.headOffset) return;
      this.headOffset = rec.end;
      this.headAckedPoints += rec.points;
      if (this.headOffset >= head.size) {
        if (this.active?.seq === head.seq) await this.closeActive();
        await this.dropHead(false);
      } else {
        await writeFile(path.join(this.opts.dir, 'ack'), `${head.seq} ${this.headOffset}\n`);
      }
    });
  }

  /** Force an fdatasync of the segment being written. */
  sync(): Promise<void> {
    return this.serial(() => this.syncActive());
  }

  close(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      if (this.timer) clearInterval(this.timer);
      await this.closeActive();
      await this.readFh?.fh.close();
      this.readFh = undefined;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<void> {
    const dir = this.opts.dir;
    await mkdir(dir, { recursive: true });
    const names = (await readdir(dir)).filter((n) => SEG_RE.test(n)).sort();
    let ackSeq = 0;
    let ackOffset = 0;
    try {
      const [a, b] = (await readFile(path.join(dir, 'ack'), 'utf8')).trim().split(' ').map(Number);
      if (Number.isInteger(a) && Number.isInteger(b)) [ackSeq, ackOffset] = [a!, b!];
    } catch {
      // no ack file: nothing acknowledged yet
    }
    for (const name of names) {
      const seq = Number(SEG_RE.exec(name)![1]);
      const file = path.join(dir, name);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      if (seq < ackSeq) {
        // Fully acknowledged before a crash interrupted its deletion.
        await unlink(file);
        continue;
      }
      const buf = await readFile(file);
      const scan = scanSegment(buf);
      if (scan.validBytes < buf.length) {
        this.truncatedBytes += buf.length - scan.validBytes;
        this.log?.warn(
          {
            code: 'GH_SPOOL_TRUNCATED',
            segment: file,
            keptBytes: scan.validBytes,
            cutBytes: buf.length - scan.validBytes,
          },
          'influx spool: torn segment tail truncated',
        );
        await truncate(file, scan.validBytes);
      }
      if (scan.validBytes === 0) {
        await unlink(file);
        continue;
      }
      const seg: Segment = { seq, file, size: scan.validBytes, points: scan.points };
      if (this.segments.length === 0 && seq === ackSeq && scan.records.includes(ackOffset)) {
        this.headOffset = ackOffset;
        for (const off of scan.records) {
          if (off >= ackOffset) break;
          this.headAckedPoints += buf.readUInt32BE(off + HEADER);
        }
      }
      this.segments.push(seg);
    }
    if (this.segments.length > 0) {
      this.log?.info(
        { segments: this.segments.length, bytes: this.bytes, points: this.pendingPoints },
        'influx spool: found spooled points to replay',
      );
    }
  }

  private async activeSegment(): Promise<{ seq: number; fh: FileHandle }> {
    if (this.active) return this.active;
    const seq = this.nextSeq++;
    const file = path.join(this.opts.dir, segName(seq));
    const fh = await open(file, 'a');
    this.active = { seq, fh };
    this.segments.push({ seq, file, size: 0, points: 0 });
    if (this.opts.fsync !== 'never') await this.syncDir();
    return this.active;
  }

  private async syncActive(): Promise<void> {
    if (!this.active || !this.dirty) return;
    await this.active.fh.datasync();
    this.dirty = false;
  }

  private async syncDir(): Promise<void> {
    const d = await open(this.opts.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  private async closeActive(): Promise<void> {
    if (!this.active) return;
    if (this.opts.fsync !== 'never') await this.syncActive();
    await this.active.fh.close();
    this.active = undefined;
    this.dirty = false;
  }

  /** Delete the oldest segment; `counted` when it still held unacknowledged points. */
  private async dropHead(counted: boolean): Promise<void> {
    const head = this.segments.shift();
    if (!head) return;
    if (counted) {
      const lost = head.points - this.headAckedPoints;
      this.pointsDropped += lost;
      this.log?.warn(
        { code: 'GH_SPOOL_FULL', segment: head.file, points: lost, maxBytes: this.opts.maxBytes },
        'influx spool: over its size bound, oldest segment dropped',
      );
    }
    this.headOffset = 0;
    this.headAckedPoints = 0;
    if (this.readFh?.seq === head.seq) {
      await this.readFh.fh.close();
      this.readFh = undefined;
    }
    await unlink(head.file).catch(() => undefined);
    const next = this.segments[0];
    // Record the new head atomically so a crash never leaves an ack pointing into a deleted file.
    const ackFile = path.join(this.opts.dir, 'ack');
    await writeFile(`${ackFile}.tmp`, next ? `${next.seq} 0\n` : `${this.nextSeq} 0\n`);
    await rename(`${ackFile}.tmp`, ackFile);
  }

  private async enforceBound(): Promise<void> {
    while (this.bytes > this.opts.maxBytes && this.segments.length > 1) await this.dropHead(true);
  }

  private async readRecord(seg: Segment, offset: number): Promise<SpoolRecord | undefined> {
    if (this.readFh?.seq !== seg.seq) {
      await this.readFh?.fh.close();
      this.readFh = { seq: seg.seq, fh: await open(seg.file, 'r') };
    }
    const fh = this.readFh.fh;
    const header = Buffer.allocUnsafe(HEADER);
    const h = await fh.read(header, 0, HEADER, offset);
    if (h.bytesRead < HEADER) return undefined;
    const len = header.readUInt32BE(0);
    if (len < COUNT || offset + HEADER + len > seg.size) return undefined;
    const payload = Buffer.allocUnsafe(len);
    const p = await fh.read(payload, 0, len, offset + HEADER);
    if (p.bytesRead < len || crc32(payload) !== header.readUInt32BE(4)) return undefined;
    return {
      seq: seg.seq,
      offset,
      end: offset + HEADER + len,
      points: payload.readUInt32BE(0),
      body: payload.subarray(COUNT),
    };
  }
}
