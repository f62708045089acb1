/**
 * The open batch: lines are UTF-8-encoded into one growing Buffer as they arrive.
 * Concatenating thousands of lines into one JS string and encoding it at the end costs
 * ~4x more (V8 has to flatten a deep rope first); measured ~0.5 vs ~2.2 µs per point.
 */
export class LineBuffer {
  private buf: Buffer;
  private off = 0;
  points = 0;

  constructor(private readonly initialBytes: number) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get bytes(): number {
    return this.off;
  }

  append(line: string): void {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8.
    if (this.buf.length - this.off < line.length * 3) this.grow(line.length * 3);
    this.off += this.buf.write(line, this.off);
    this.points++;
  }

  /** Hand over the batch so far and start an empty one; undefined when empty. */
  take(): { body: Buffer; points: number } | undefined {
    if (this.points === 0) return undefined;
    const full = this.off * 4 >= this.buf.length;
    // A nearly empty buffer (a small timed flush) is copied so a big slab is not held in the queue.
    const body = full ? this.buf.subarray(0, this.off) : Buffer.from(this.buf.subarray(0, this.off));
    const batch = { body, points: this.points };
    if (full) this.buf = Buffer.allocUnsafe(Math.max(this.initialBytes, this.buf.length));
    this.off = 0;
    this.points = 0;
    return batch;
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + need));
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }
}
