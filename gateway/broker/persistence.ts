import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { startsWithWildcard } from './topics.ts';

const require = createRequire(import.meta.url);

/** The slice of an aedes persistence this module touches (the library ships no types). */
interface AedesPersistence {
  createRetainedStreamCombi(patterns: string[]): Readable;
  subscriptionsByTopic(topic: string): Promise<{ topic: string }[]>;
  destroy?(cb?: () => void): unknown;
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
export async function createPersistence(dataDir?: string): Promise<BrokerPersistence> {
  if (!dataDir) {
    const memory = require('aedes-persistence') as () => AedesPersistence;
    return { persistence: withDollarRule(memory()), close: async () => {} };
  }
  mkdirSync(dataDir, { recursive: true });
  const { ClassicLevel } = require('classic-level') as { ClassicLevel: new (dir: string) => LevelDb };
  const levelPersistence = require('aedes-persistence-level') as (db: LevelDb) => AedesPersistence;
  const db = new ClassicLevel(dataDir);
  await db.open();
  return { persistence: withDollarRule(levelPersistence(db)), close: () => db.close() };
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
