import { statfs } from 'node:fs/promises';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Something with counters: a sink, the bridge, the broker. */
export interface StatsSource {
  readonly name: string;
  stats(): Record<string, number>;
}

type Kind = 'gauge' | 'counter';
type Sample = [labels: Record<string, string>, value: number];

/**
 * A metric whose values are read from the running parts when Prometheus scrapes, not
 * counted twice. Counters are re-set to what the part counted (which only grows while
 * the process lives), so the exposition still says `counter`.
 */
function scraped(
  registry: Registry,
  kind: Kind,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Sample[] | Promise<Sample[]>,
): void {
  if (kind === 'gauge') {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const [labels, v] of await read()) this.set(labels, v);
      },
    });
  } else {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const [labels, v] of await read()) this.inc(labels, v);
      },
    });
  }
}

/**
 * Sink and bridge counters (their `stats()` keys) as Prometheus metrics, one per key,
 * labelled with the part's name. A key a part lacks gives it no series.
 */
const STAT_METRICS: [stat: string, kind: Kind, name: string, help: string][] = [
  ['spool_bytes', 'gauge', 'gatehouse_spool_bytes', 'Bytes in the disk spool, waiting for InfluxDB'],
  ['spool_points', 'gauge', 'gatehouse_spool_points', 'Points in the disk spool, waiting for InfluxDB'],
  ['queue_depth', 'gauge', 'gatehouse_sink_queue_points', 'Points batched in memory or being written'],
  ['points_written', 'counter', 'gatehouse_points_written_total', 'Points InfluxDB accepted'],
  [
    'points_dropped',
    'counter',
    'gatehouse_points_dropped_total',
    'Points lost: refused by InfluxDB, unspoolable, or dropped from a full spool',
  ],
  ['bridge_connected', 'gauge', 'gatehouse_bridge_connected', '1 while the uplink to the town broker is up'],
  ['bridge_queue_bytes', 'gauge', 'gatehouse_bridge_queue_bytes', 'Bytes queued on disk for the uplink'],
  ['bridge_inflight', 'gauge', 'gatehouse_bridge_inflight_messages', 'Sent upstream, not yet acknowledged'],
  ['bridge_queued', 'counter', 'gatehouse_bridge_queued_total', 'Messages queued for the uplink'],
  ['bridge_acked', 'counter', 'gatehouse_bridge_acked_total', 'Messages the town broker acknowledged'],
  [
    'bridge_dropped',
    'counter',
    'gatehouse_bridge_dropped_total',
    'Messages dropped from a full uplink queue',
  ],
  ['bridge_injected', 'counter', 'gatehouse_bridge_injected_total', 'Town commands injected locally'],
];

export function registerStatMetrics(registry: Registry, sources: () => readonly StatsSource[]): void {
  for (const [stat, kind, name, help] of STAT_METRICS) {
    scraped(registry, kind, name, help, ['sink'], () =>
      sources().flatMap((s): Sample[] => {
        const v = s.stats()[stat];
        return v === undefined ? [] : [[{ sink: s.name }, v]];
      }),
    );
  }
}

/** The broker's `stats()` keys as metrics. */
const BROKER_METRICS: [stat: string, kind: Kind, name: string, help: string][] = [
  ['clients', 'gauge', 'gatehouse_broker_clients', 'MQTT clients connected'],
  ['messages_in', 'counter', 'gatehouse_broker_messages_received_total', 'PUBLISH packets from clients'],
  ['messages_out', 'counter', 'gatehouse_broker_messages_sent_total', 'Messages delivered to clients'],
  [
    'auth_failures',
    'counter',
    'gatehouse_broker_auth_failures_total',
    'CONNECTs refused for bad or missing credentials',
  ],
];

export function registerBrokerMetrics(registry: Registry, stats: () => Record<string, number>): void {
  for (const [stat, kind, name, help] of BROKER_METRICS) {
    scraped(registry, kind, name, help, [], () => [[{}, stats()[stat] ?? 0]]);
  }
}

/** Free and total space of the file system holding the data dir (spool, queue, audit log). */
export function registerDiskMetrics(registry: Registry, dir: string): void {
  const space = async (): Promise<{ free: number; size: number } | undefined> => {
    try {
      const s = await statfs(dir);
      return { free: s.bavail * s.bsize, size: s.blocks * s.bsize };
    } catch {
      return undefined; // a dir that vanished gives no series rather than a failed scrape
    }
  };
  scraped(
    registry,
    'gauge',
    'gatehouse_data_dir_free_bytes',
    'Bytes free to the gateway on the data dir file system',
    ['dir'],
    async () => {
      const s = await space();
      return s ? [[{ dir }, s.free]] : [];
    },
  );
  scraped(
    registry,
    'gauge',
    'gatehouse_data_dir_size_bytes',
    'Size of the data dir file system',
    ['dir'],
    async () => {
      const s = await space();
      return s ? [[{ dir }, s.size]] : [];
    },
  );
}
