import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CommandRecord } from './commands/schema.ts';
import type { SupervisionReport } from './commands/supervise.ts';
import type { BusMessage } from './core/bus.ts';
import type { StateStore } from './core/state.ts';
import {
  registerBrokerMetrics,
  registerDiskMetrics,
  registerStatMetrics,
  type StatsSource,
} from './metrics-scrape.ts';
import type { Sink } from './sinks/sink.ts';

/** prom-client's defaults become gatehouse_process_… and gatehouse_nodejs_…. */
const PROCESS_PREFIX = 'gatehouse_';
/**
 * prom-client's defaults that are gauges named `…_total`, which `promtool check metrics`
 * refuses; the per-type gauges they sum (`…_active_handles{type}`…) stay.
 */
const MISNAMED_DEFAULTS = ['active_handles_total', 'active_requests_total', 'active_resources_total'];

const STATUSES = ['online', 'degraded', 'offline'] as const;
const seconds = (from: string, to: string) => Math.max(0, Date.parse(to) - Date.parse(from)) / 1000;
/** A failure reason without its number (`barrier-fault:7` → `barrier-fault`): labels stay bounded. */
const family = (failure: string) => failure.replace(/:-?\d+$/, '');

/**
 * Prometheus metrics, fed from the bus and the command service like any other sink,
 * plus gauges read at scrape time (device state, sinks, bridge, broker, disk).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly pollSeconds: Histogram<'device' | 'kind'>;
  private readonly pollErrors: Counter<'device' | 'reason'>;
  private readonly pollLateness: Histogram<'kind'>;
  private readonly readings: Counter<'kind'>;
  private readonly events: Counter<'type'>;
  private readonly commands: Counter<'action' | 'outcome' | 'reason'>;
  private readonly commandSeconds: Histogram<'action' | 'until'>;
  private readonly auditSyncSeconds: Histogram;

  constructor(state: StateStore, sinks: () => readonly StatsSource[]) {
    collectDefaultMetrics({ register: this.registry, prefix: PROCESS_PREFIX });
    for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(`${PROCESS_PREFIX}nodejs_${name}`);
    const registers = [this.registry];
    this.pollSeconds = new Histogram({
      name: 'gatehouse_device_poll_seconds',
      help: 'Time to read one device (successful polls)',
      labelNames: ['device', 'kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.pollLateness = new Histogram({
      name: 'gatehouse_poll_lateness_seconds',
      help: 'How long after its scheduled time each scheduled poll started (timer lateness: event-loop load)',
      labelNames: ['kind'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.pollErrors = new Counter({
      name: 'gatehouse_device_poll_errors_total',
      help: 'Failed polls, by health reason',
      labelNames: ['device', 'reason'],
      registers,
    });
    this.readings = new Counter({
      name: 'gatehouse_readings_total',
      help: 'Canonical readings published on the bus',
      labelNames: ['kind'],
      registers,
    });
    this.events = new Counter({
      name: 'gatehouse_events_total',
      help: 'Device events (passages, faults, commands, motion…)',
      labelNames: ['type'],
      registers,
    });
    this.commands = new Counter({
      name: 'gatehouse_commands_total',
      help: 'Commands that reached a final state, by action and outcome (reason: the failure, its code cut)',
      labelNames: ['action', 'outcome', 'reason'],
      registers,
    });
    this.commandSeconds = new Histogram({
      name: 'gatehouse_command_seconds',
      help: 'From accepted to the first write to the device (until="first_write") and to the final state (until="final")',
      labelNames: ['action', 'until'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30],
      registers,
    });
    this.auditSyncSeconds = new Histogram({
      name: 'gatehouse_audit_sync_seconds',
      help: 'One fdatasync of the command audit log; no gate is written before its record is synced',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    new Gauge({
      name: 'gatehouse_devices',
      help: 'Devices by health status',
      labelNames: ['status'],
      registers,
      collect() {
        const counts = { online: 0, degraded: 0, offline: 0 };
        for (const s of state.all()) counts[s.health.status]++;
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'gatehouse_device_status',
      help: '1 for the status each device is in (online, degraded, offline), 0 for the others',
      labelNames: ['device', 'kind', 'status'],
      registers,
      collect() {
        this.reset();
        for (const s of state.all()) {
          for (const status of STATUSES) {
            this.set(
              { device: s.device.id, kind: s.device.kind, status },
              s.health.status === status ? 1 : 0,
            );
          }
        }
      },
    });
    new Gauge({
      name: 'gatehouse_device_reason',
      help: "1 for the reason of each device that is not online (a series per device's current reason)",
      labelNames: ['device', 'kind', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const s of state.all()) {
          if (s.health.reason)
            this.set({ device: s.device.id, kind: s.device.kind, reason: s.health.reason }, 1);
        }
      },
    });
    new Gauge({
      name: 'gatehouse_device_last_seen_timestamp_seconds',
      help: 'Unix time of the last reading from each device',
      labelNames: ['device', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const s of state.all()) {
          if (s.lastSeen)
            this.set({ device: s.device.id, kind: s.device.kind }, Date.parse(s.lastSeen) / 1000);
        }
      },
    });
    new Gauge({
      name: 'gatehouse_probe_night',
      help: 'Probes: 1 when the camera reports night (IR should be lit), 0 by day',
      labelNames: ['device'],
      registers,
      collect() {
        this.reset();
        for (const s of state.all()) {
          const night = (s.fields as { night?: boolean }).night;
          if (s.device.kind === 'probe' && night !== undefined)
            this.set({ device: s.device.id }, night ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'gatehouse_sink_stat',
      help: 'Sink counters (points_written, points_dropped, spool_bytes, queue_depth…)',
      labelNames: ['sink', 'stat'],
      registers,
      collect() {
        for (const sink of sinks()) {
          for (const [stat, v] of Object.entries(sink.stats())) this.set({ sink: sink.name, stat }, v);
        }
      },
    });
    registerStatMetrics(this.registry, sinks);
  }

  // Close supervision (commands/supervise.ts): field initializers, so the series exist from the start.
  private readonly supervisionReads = new Counter({
    name: 'gatehouse_supervision_reads_total',
    help: 'Reads made while watching a closing arm (the barrier, and its lane for one without sensors)',
    labelNames: ['device'],
    registers: [this.registry],
  });
  private readonly supervisedCloses = new Counter({
    name: 'gatehouse_supervised_closes_total',
    help: 'Supervised closes by outcome: closed, reversed, tripped (the controller acted first), fault, timeout, refused, read-error',
    labelNames: ['device', 'outcome'],
    registers: [this.registry],
  });
  private readonly reversals = new Counter({
    name: 'gatehouse_supervision_reversals_total',
    help: 'Closing arms the gateway reversed, by the sensor that saw the vehicle',
    labelNames: ['device', 'sensor'],
    registers: [this.registry],
  });
  private readonly reversalSeconds = new Histogram({
    name: 'gatehouse_supervision_reversal_seconds',
    help: 'From the reading that saw a vehicle under a closing arm to the acknowledgement of the reversal',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly reversalTravel = new Histogram({
    name: 'gatehouse_supervision_arm_travel_degrees',
    help: 'How far the arm came down between the reading that saw the vehicle and the first reading after the reversal',
    buckets: [0.5, 1, 2, 5, 10, 20, 45, 90],
    registers: [this.registry],
  });
  private readonly impacts = new Counter({
    name: 'gatehouse_supervision_impacts_total',
    help: 'Supervised closes whose arm read closed while the lane read occupied (a reversal too late, or none possible)',
    labelNames: ['device'],
    registers: [this.registry],
  });

  /** Each supervised close once it ends (CommandService.onSupervision). */
  supervision(r: SupervisionReport): void {
    const device = r.device;
    this.supervisionReads.inc({ device }, r.reads);
    this.supervisedCloses.inc({ device, outcome: r.outcome });
    if (r.closedOnVehicle) this.impacts.inc({ device });
    if (r.outcome !== 'reversed') return;
    this.reversals.inc({ device, sensor: r.sensor ?? 'unknown' });
    if (r.reversalMs !== undefined) this.reversalSeconds.observe(r.reversalMs / 1000);
    if (r.detectAngleDeg !== undefined && r.reversalAngleDeg !== undefined)
      this.reversalTravel.observe(Math.max(0, r.detectAngleDeg - r.reversalAngleDeg));
  }

  handle(msg: BusMessage): void {
    if (msg.type === 'telemetry') this.readings.inc({ kind: msg.device.kind });
    else if (msg.type === 'health') {
      const device = msg.device.id;
      if (msg.lateMs !== undefined) this.pollLateness.observe({ kind: msg.device.kind }, msg.lateMs / 1000);
      if (msg.errors > 0) this.pollErrors.inc({ device, reason: msg.health.reason ?? 'unknown' });
      else if (msg.pollMs !== undefined)
        this.pollSeconds.observe({ device, kind: msg.device.kind }, msg.pollMs / 1000);
    } else if (msg.type === 'event') this.events.inc({ type: msg.event.type });
  }

  /** One sync of the audit log (AuditLog.onSync). */
  auditSync(seconds: number): void {
    this.auditSyncSeconds.observe(seconds);
  }

  /** Each update of a command record (CommandService.onUpdate): once at its first write, once at its end. */
  command(rec: CommandRecord): void {
    const first = rec.history[0];
    const last = rec.history[rec.history.length - 1];
    if (!first || !last) return;
    const { action } = rec;
    if (last.state === 'executing' && first.state === 'accepted') {
      this.commandSeconds.observe({ action, until: 'first_write' }, seconds(first.at, last.at));
    } else if (last.state === 'confirmed' || last.state === 'failed') {
      this.commands.inc({
        action,
        outcome: last.state,
        ...(rec.failure ? { reason: family(rec.failure) } : {}),
      });
      this.commandSeconds.observe({ action, until: 'final' }, seconds(first.at, last.at));
    }
  }

  /** The embedded broker's counters (clients, messages in and out, refused logins). */
  watchBroker(stats: () => Record<string, number>): void {
    registerBrokerMetrics(this.registry, stats);
  }

  /** Free space where the spool, the uplink queue and the audit log live. */
  watchDisk(dataDir: string): void {
    registerDiskMetrics(this.registry, dataDir);
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
