import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool, type SpoolOptions } from '../../gateway/sinks/influx/spool.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gh-spool-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function opts(o: Partial<SpoolOptions> = {}): SpoolOptions {
  return { dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024, fsync: 'always', ...o };
}

/** A batch of `points` lines whose values carry `tag`, so replay order can be checked. */
function batch(tag: number, points = 3): Buffer {
  let s = '';
  for (let i = 0; i < points; i++) s += `m,b=${tag} v=${tag * 100 + i}i ${tag * 100 + i}\n`;
  return Buffer.from(s);
}

async function drain(spool: Spool): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let r = await spool.peek(); r; r = await spool.peek()) {
    out.push(Buffer.from(r.body));
    await spool.ack(r);
  }
  return out;
}

function segments(): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort();
}

function logCapture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => lines };
}

describe('influx disk spool', () => {
  it('replays appended batches in order, then deletes acknowledged segments', async () => {
    const spool = await Spool.open(opts());
    for (let i = 1; i <= 4; i++) await spool.append(batch(i), 3);
    expect(spool.pendingPoints).toBe(12);
    expect(spool.bytes).toBeGreaterThan(0);
    const bodies = await drain(spool);
    expect(bodies.map(String)).toEqual([1, 2, 3, 4].map((i) => String(batch(i))));
    expect(spool.pendingPoints).toBe(0);
    expect(spool.isEmpty).toBe(true);
    expect(spool.bytes).toBe(0);
    expect(segments()).toEqual([]);
    await spool.close();
  });

  it('rotates segments at segmentBytes and reads across them', async () => {
    const spool = await Spool.open(opts({ segmentBytes: 1024 }));
    for (let i = 1; i <= 60; i++) await spool.append(batch(i, 5), 5);
    expect(segments().length).toBeGreaterThan(3);
    for (const s of segments()) expect(statSync(path.join(dir, s)).size).toBeLessThan(1024 + 200);
    const bodies = await drain(spool);
    expect(bodies).toHaveLength(60);
    expect(bodies.map(String)).toEqual(Array.from({ length: 60 }, (_, i) => String(batch(i + 1, 5))));
    expect(segments()).toEqual([]);
    await spool.close();
  });

  it('resumes after a restart from the last acknowledged record', async () => {
    const a = await Spool.open(opts({ segmentBytes: 1024 }));
    for (let i = 1; i <= 12; i++) await a.append(batch(i), 3);
    for (let k = 0; k < 5; k++) {
      const r = (await a.peek())!;
      await a.ack(r);
    }
    await a.close();
    const b = await Spool.open(opts({ segmentBytes: 1024 }));
    expect(b.pendingPoints).toBe(7 * 3);
    const bodies = await drain(b);
    expect(bodies.map(String)).toEqual([6, 7, 8, 9, 10, 11, 12].map((i) => String(batch(i))));
    await b.close();
  });

  it('keeps what was spooled when the process dies without closing (no close, reopen)', async () => {
    const a = await Spool.open(opts({ fsync: 'never' }));
    await a.append(batch(1), 3);
    await a.append(batch(2), 3);
    // No close(): a crashed process never gets to it.
    const b = await Spool.open(opts());
    expect((await drain(b)).map(String)).toEqual([String(batch(1)), String(batch(2))]);
    await b.close();
    await a.close();
  });

  it('truncates a torn tail (partial record) and replays the rest', async () => {
    const a = await Spool.open(opts());
    for (let i = 1; i <= 3; i++) await a.append(batch(i), 3);
    await a.close();
    const seg = path.join(dir, segments()[0]!);
    const good = statSync(seg).size;
    // A record header promising 500 bytes followed by only 10: a write cut by power loss.
    const torn = Buffer.alloc(18);
    torn.writeUInt32BE(500, 0);
    appendFileSync(seg, torn);
    const log = logCapture();
    const b = await Spool.open(opts({ logger: log.logger }));
    expect(b.truncatedBytes).toBe(18);
    expect(statSync(seg).size).toBe(good);
    expect(log.lines().some((l) => l.code === 'GH_SPOOL_TRUNCATED')).toBe(true);
    expect((await drain(b)).map(String)).toEqual([1, 2, 3].map((i) => String(batch(i))));
    await b.close();
  });

  it('truncates at a record whose crc does not match', async () => {
    const a = await Spool.open(opts());
    for (let i = 1; i <= 3; i++) await a.append(batch(i), 3);
    await a.close();
    const seg = path.join(dir, segments()[0]!);
    const buf = readFileSync(seg);
    const recordLen = buf.length / 3;
    buf.writeUInt8(buf.readUInt8(2 * recordLen + 20) ^ 0xff, 2 * recordLen + 20); // flip a byte inside the third record's payload
    writeFileSync(seg, buf);
    const b = await Spool.open(opts());
    expect(b.truncatedBytes).toBe(recordLen);
    expect(b.pendingPoints).toBe(6);
    expect((await drain(b)).map(String)).toEqual([1, 2].map((i) => String(batch(i))));
    await b.close();
  });

  it('drops the oldest segment beyond maxBytes, counting and logging the lost points', async () => {
    const log = logCapture();
    const spool = await Spool.open(opts({ maxBytes: 8 * 1024, segmentBytes: 2048, logger: log.logger }));
    const n = 200;
    for (let i = 1; i <= n; i++) await spool.append(batch(i, 4), 4);
    expect(spool.bytes).toBeLessThanOrEqual(8 * 1024);
    expect(spool.pointsDropped).toBeGreaterThan(0);
    expect(spool.pointsDropped + spool.pendingPoints).toBe(n * 4);
    const warned = log.lines().filter((l) => l.code === 'GH_SPOOL_FULL');
    expect(warned.reduce((s, l) => s + Number(l.points), 0)).toBe(spool.pointsDropped);
    // What is left is the newest data, still in order.
    const bodies = (await drain(spool)).map(String);
    expect(bodies.at(-1)).toBe(String(batch(n, 4)));
    const tags = bodies.map((b) => Number(/b=(\d+)/.exec(b)![1]));
    expect(tags).toEqual([...tags].sort((x, y) => x - y));
    await spool.close();
  });

  it('counts the unacknowledged part of a partly replayed segment when it is dropped', async () => {
    const spool = await Spool.open(opts({ maxBytes: 4096, segmentBytes: 1024 }));
    for (let i = 1; i <= 4; i++) await spool.append(batch(i, 2), 2);
    await spool.ack((await spool.peek())!); // 2 points of the first segment delivered
    for (let i = 5; i <= 200; i++) await spool.append(batch(i, 2), 2);
    expect(spool.pointsDropped).toBeGreaterThan(0);
    expect(spool.pointsDropped + spool.pendingPoints).toBe(200 * 2 - 2);
    await spool.close();
  });

  it('syncs on an interval under the interval policy and still replays', async () => {
    const a = await Spool.open(opts({ fsync: 'interval', fsyncIntervalMs: 20 }));
    await a.append(batch(1), 3);
    await a.sync();
    await a.close();
    const b = await Spool.open(opts());
    expect(b.pendingPoints).toBe(3);
    await b.close();
  });
});
