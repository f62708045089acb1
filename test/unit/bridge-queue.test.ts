import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DiskQueue } from '../../gateway/bridge/queue.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-bridge-queue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const msg = (n: number) => ({ topic: `t/${n}`, payload: Buffer.from(`m${n}`), retain: false });

it('cuts off a record torn by a crash, and keeps appending whole records after it', () => {
  const q = new DiskQueue(dir, 1 << 20);
  expect(q.append(msg(1))).toBe(true);
  expect(q.append(msg(2))).toBe(true);
  q.close();
  // A power cut mid-append: half a JSON line without its newline.
  appendFileSync(path.join(dir, 'queue.log'), '{"t":"t/3","p":"bT');
  const again = new DiskQueue(dir, 1 << 20);
  expect(again.append(msg(4))).toBe(true);
  expect(again.read(again.start, 10).map((e) => e.topic)).toEqual(['t/1', 't/2', 't/4']);
  again.close();
  expect(readFileSync(path.join(dir, 'queue.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
});
