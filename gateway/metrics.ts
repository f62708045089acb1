import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BusMessage } from './core/bus.ts';
import type { StateStore } from './core/state.ts';
import type { Sink } from './sinks/sink.ts';

/** Prometheus metrics, fed from the bus like any other sink, plus gauges read at scrape time. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly pollSeconds: Histogram<'kind'>;
  private readonly readings: Counter<'kind'>;
  private readonly events: Counter<'type'>;

  constructor(state: StateStore, sinks: () => readonly Pick<Sink, 'name' | 'stats'>[]) {
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_process_' });
    this.pollSeconds = new Histogram({
      name: 'gatehouse_poll_seconds',
      help: 'Time to read one device',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.readings = new Counter({
      name: 'gatehouse_readings_total',
      help: 'Canonical readings published on the bus',
      labelNames: ['kind'],
      registers: [this.registry],
    });
    this.events = new Counter({
      name: 'gatehouse_events_total',
      help: 'Device events (passages, faults, commands, motion…)',
      labelNames: ['type'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'gatehouse_devices',
      help: 'Devices by health status',
      labelNames: ['status'],
      registers: [this.registry],
      collect() {
        const counts = { online: 0, degraded: 0, offline: 0 };
        for (const s of state.all()) counts[s.health.status]++;
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'gatehouse_sink_stat',
      help: 'Sink counters (points_written, points_dropped, spool_bytes, queue_depth…)',
      labelNames: ['sink', 'stat'],
      registers: [this.registry],
      collect() {
        for (const sink of sinks()) {
          for (const [stat, v] of Object.entries(sink.stats())) this.set({ sink: sink.name, stat }, v);
        }
      },
    });
  }

  handle(msg: BusMessage): void {
    if (msg.type === 'telemetry') this.readings.inc({ kind: msg.device.kind });
    else if (msg.type === 'health' && msg.pollMs !== undefined && msg.health.status !== 'offline') {
      this.pollSeconds.observe({ kind: msg.device.kind }, msg.pollMs / 1000);
    } else if (msg.type === 'event') this.events.inc({ type: msg.event.type });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Sink counters that go into the `gateway` measurement (see the README's canonical telemetry). */
const GATEWAY_SINK_FIELDS = ['spool_bytes', 'queue_depth', 'points_written', 'points_dropped'];

/**
 * The gateway's own health as telemetry: CPU (% of one core since the last sample),
 * RSS, and the sinks' counters, published on a timer like any device reading.
 */
export class GatewayStats {
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private timer: NodeJS.Timeout | undefined;

  private constructor(private readonly sinks: readonly Pick<Sink, 'stats'>[]) {}

  static every(
    intervalMs: number,
    sinks: readonly Pick<Sink, 'stats'>[],
    publish: (fields: Record<string, number>) => void,
  ): GatewayStats {
    const stats = new GatewayStats(sinks);
    stats.timer = setInterval(() => publish(stats.sample()), intervalMs);
    stats.timer.unref();
    return stats;
  }

  sample(): Record<string, number> {
    const cpu = process.cpuUsage();
    const now = performance.now();
    const usedMs = (cpu.user - this.lastCpu.user + cpu.system - this.lastCpu.system) / 1000;
    const fields: Record<string, number> = {
      cpu: Math.round((usedMs / Math.max(1, now - this.lastAt)) * 1000) / 10,
      rss_mb: Math.round((process.memoryUsage.rss() / 1048576) * 10) / 10,
    };
    this.lastCpu = cpu;
    this.lastAt = now;
    for (const sink of this.sinks) {
      for (const [k, v] of Object.entries(sink.stats())) if (GATEWAY_SINK_FIELDS.includes(k)) fields[k] = v;
    }
    return fields;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
