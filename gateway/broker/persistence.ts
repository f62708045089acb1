import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { startsWithWildcard, topicMatches } from './topics.ts';

const require = createRequire(import.meta.url);

/** The slice of an aedes persistence this module touches (the library ships no types). */
interface AedesPersistence {
  storeRetained(packet: RetainedPacket, cb?: (err: Error | null) => void): Promise<void> | void;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
  subscriptionsByTopic(topic: string): Promise<{ topic: string }[]>;
  destroy?(cb?: () => void): unknown;
}

interface RetainedPacket {
  topic: string;
  payload: Buffer;
}

interface LevelDb {
  open(): Promise<void>;
  close(): Promise<void>;
}

export interface BrokerPersistence {
  /** Pass to aedes as `persistence`. */
  persistence: unknown;
  /** Close the store after the broker closed. */
  close(): Promise<void>;
}

/**
 * Retained messages, QoS 1/2 sessions, subscriptions and wills on disk (LevelDB via
 * aedes-persistence-level), so they survive a gateway restart. Without a dir the
 * in-memory persistence is used (tests, benchmarks of the plain broker).
 */
export async function createPersistence(
  dataDir?: string,
  onError: (err: Error) => void = () => {},
): Promise<BrokerPersistence> {
  if (!dataDir) {
    const memory = require('aedes-persistence') as () => AedesPersistence;
    return { persistence: withDollarRule(memory()), close: async () => {} };
  }
  mkdirSync(dataDir, { recursive: true });
  const { ClassicLevel } = require('classic-level') as { ClassicLevel: new (dir: string) => LevelDb };
  const levelPersistence = require('aedes-persistence-level') as (db: LevelDb) => AedesPersistence;
  const db = new ClassicLevel(dataDir);
  await db.open();
  const level = levelPersistence(db);
  const behind = writeBehind(level, RETAINED_FLUSH_MS, onError);
  return {
    persistence: withDollarRule(level),
    close: async () => {
      await behind.stop();
      await db.close();
    },
  };
}

/**
 * How long a retained message may wait in memory before it reaches LevelDB. Every device's
 * `state` is retained and changes on nearly every poll; written through, 500 devices polled
 * each second cost ~450 LevelDB puts a second, a quarter of the gateway's CPU (bench/RESULTS.md).
 * Held back, only each topic's latest message is written once per period. A crash loses at
 * most this period of retained updates, and the gateway republishes every device's state and
 * availability on its first poll after a restart.
 */
export const RETAINED_FLUSH_MS = 5000;

/**
 * Retained messages written behind: aedes is told a retained message is stored at once
 * (live delivery never waited on the disk anyway), the latest per topic is kept in memory,
 * and written every `periodMs` and on close. A SUBSCRIBE reads LevelDB with what is not
 * written yet laid over it, without waiting for a write: waiting would hold back the
 * retained messages while live ones already flow to the new subscription.
 */
function writeBehind(
  p: AedesPersistence,
  periodMs: number,
  onError: (err: Error) => void,
): { stop(): Promise<void> } {
  const store = p.storeRetained.bind(p) as (packet: RetainedPacket) => Promise<void>;
  let pending = new Map<string, RetainedPacket>();
  /** Held or being written: newer than what LevelDB holds for the topic. */
  const unwritten = new Map<string, RetainedPacket>();
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (pending.size > 0) {
      const batch = [...pending.values()];
      pending = new Map();
      // Queued behind the previous flush, so an older message never lands after a newer one;
      // one put at a time, so the audit log's fsync never queues behind hundreds of them in
      // libuv's thread pool (both run there).
      writing = writing
        .then(async () => {
          for (const packet of batch) {
            await store(packet);
            if (unwritten.get(packet.topic) === packet) unwritten.delete(packet.topic);
          }
        })
        .then(
          () => undefined,
          (err: Error) => {
            onError(err);
            // Kept for the next flush unless a newer message for the topic came meanwhile.
            for (const packet of batch)
              if (unwritten.get(packet.topic) === packet && !pending.has(packet.topic))
                pending.set(packet.topic, packet);
          },
        );
    }
    return writing;
  };
  const timer = setInterval(() => void flush(), periodMs);
  timer.unref();
  p.storeRetained = (incoming: RetainedPacket, cb?: (err: Error | null) => void) => {
    // A copy: a client's payload may be a slice of a socket's read buffer, kept here for up
    // to a period (LevelDB used to copy it at once).
    const packet = { ...incoming, payload: Buffer.from(incoming.payload) };
    pending.set(packet.topic, packet);
    unwritten.set(packet.topic, packet);
    if (cb) return cb(null);
    return Promise.resolve();
  };
  for (const name of ['createRetainedStream', 'createRetainedStreamCombi'] as const) {
    const read = p[name].bind(p) as (arg: string & string[]) => Readable;
    p[name] = ((arg: string & string[]) => {
      const patterns: string[] = Array.isArray(arg) ? arg : [arg];
      const newer = new Map(unwritten);
      const stored = read(arg) as AsyncIterable<RetainedPacket>;
      return Readable.from(
        (async function* () {
          for await (const packet of stored) if (!newer.has(packet.topic)) yield packet;
          for (const packet of newer.values())
            if (packet.payload.length > 0 && patterns.some((f) => topicMatches(f, packet.topic)))
              yield packet;
        })(),
      );
    }) as never;
  }
  return {
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}

/**
 * [MQTT-4.7.2-1]: a filter starting with a wildcard never matches a topic starting with
 * `$`. aedes applies it to live delivery only; here it is applied to retained messages
 * sent on SUBSCRIBE and to messages queued for offline sessions as well.
 */
function withDollarRule(p: AedesPersistence): AedesPersistence {
  const retained = p.createRetainedStreamCombi.bind(p);
  const byTopic = p.subscriptionsByTopic.bind(p);
  p.createRetainedStreamCombi = (patterns: string[]) => {
    const literal = patterns.filter((f) => !startsWithWildcard(f));
    const wild = patterns.filter(startsWithWildcard);
    async function* merged(): AsyncGenerator<{ topic: string }> {
      const seen = new Set<string>();
      if (literal.length > 0) {
        for await (const pkt of retained(literal) as AsyncIterable<{ topic: string }>) {
          if (seen.has(pkt.topic)) continue;
          seen.add(pkt.topic);
          yield pkt;
        }
      }
      if (wild.length > 0) {
        for await (const pkt of retained(wild) as AsyncIterable<{ topic: string }>) {
          if (pkt.topic.startsWith('$') || seen.has(pkt.topic)) continue;
          seen.add(pkt.topic);
          yield pkt;
        }
      }
    }
    return Readable.from(merged());
  };
  p.subscriptionsByTopic = async (topic: string) => {
    const subs = await byTopic(topic);
    return topic.startsWith('$') ? subs.filter((s) => !startsWithWildcard(s.topic)) : subs;
  };
  return p;
}
