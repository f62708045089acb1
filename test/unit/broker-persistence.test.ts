import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, expect, it } from 'vitest';
import { createPersistence } from '../../gateway/broker/persistence.ts';

// The broker's LevelDB store with retained messages written behind (RETAINED_FLUSH_MS):
// what a subscriber reads and what survives a restart must be the latest message per topic.
interface Store {
  storeRetained(packet: { topic: string; payload: Buffer; retain: boolean }): Promise<void>;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

const dir = mkdtempSync(path.join(tmpdir(), 'gh-persist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const packet = (topic: string, text: string) => ({
  cmd: 'publish',
  topic,
  payload: Buffer.from(text),
  qos: 0,
  retain: true,
});

async function retained(store: Store, pattern: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const p of store.createRetainedStreamCombi([pattern]) as AsyncIterable<{
    topic: string;
    payload: Buffer;
  }>)
    out[p.topic] = p.payload.toString();
  return out;
}

it('a retained message held back is read at once, the latest per topic, and survives a close', async () => {
  let p = await createPersistence(dir);
  let store = p.persistence as Store;
  for (let i = 0; i < 200; i++) await store.storeRetained(packet('v/gate-1/state', `s${i}`));
  await store.storeRetained(packet('v/gate-2/state', 'only'));
  await store.storeRetained(packet('v/gate-3/state', 'going'));
  await store.storeRetained(packet('v/gate-3/state', '')); // cleared: a device removed
  await store.storeRetained(packet('v/gate-1/availability', 'online')); // held, but not asked for
  // Read straight away, well inside the write-behind period.
  expect(await retained(store, 'v/+/state')).toEqual({ 'v/gate-1/state': 's199', 'v/gate-2/state': 'only' });
  await store.storeRetained(packet('v/gate-1/state', 'last'));
  await p.close();

  p = await createPersistence(dir);
  store = p.persistence as Store;
  expect(await retained(store, 'v/#')).toEqual({
    'v/gate-1/state': 'last',
    'v/gate-1/availability': 'online',
    'v/gate-2/state': 'only',
  });
  await p.close();
});
