import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from './api/server.ts';
import { GatehouseError } from './errors.ts';
import type { ApiToken } from './api/context.ts';
import { GatehouseBroker } from './broker/broker.ts';
import { Bridge } from './bridge/bridge.ts';
import type { BridgeConfig } from './bridge/config.ts';
import { AuditLog } from './commands/audit.ts';
import { CommandService } from './commands/service.ts';
import type { VillageConfig } from './config/load.ts';
import { Bus } from './core/bus.ts';
import { DeviceRegistry } from './core/registry.ts';
import { StateStore } from './core/state.ts';
import { GatewayMetrics } from './metrics.ts';
import { OccupancyTracker } from './occupancy.ts';
import { createDriverPlugins } from './plugins.ts';
import type { DriverPlugin } from '../drivers/contract/plugin.ts';
import { Commissioning } from './commissioning/service.ts';
import { InfluxSink } from './sinks/influx/influx-sink.ts';
import { resolveInfluxSinkConfig } from './sinks/influx/config.ts';
import { MqttSink } from './sinks/mqtt/sink.ts';
import type { Sink } from './sinks/sink.ts';
import { EvidenceKeeper } from './evidence.ts';
import { commissioningRoutes } from './commissioning/routes.ts';

/** A listen that fails on a taken port says which port and what to do. */
async function portFree<T>(listening: Promise<T>, what: string, port: number, flag: string): Promise<T> {
  try {
    return await listening;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new GatehouseError('GH_PORT_IN_USE', [what, port, flag], { cause: err });
    }
    throw err;
  }
}

export interface GatewayOptions {
  config: VillageConfig;
  /** The YAML the config came from; commissioning saves new devices into it. */
  configFile?: string;
  log: Logger;
  /** Command-line overrides of the config. */
  apiPort?: number;
  apiHost?: string;
  mqttPort?: number;
  dataDir?: string;
  influxUrl?: string;
  /** Resolved API tokens (config tokens plus the env/demo one). */
  tokens: ApiToken[];
  /** How often the `gateway` measurement is written. */
  statsIntervalMs?: number;
}

/**
 * The composition root: drivers → normalizer → bus → sinks (InfluxDB, MQTT, state,
 * metrics); API/MQTT → command service → driver. Started and stopped in dependency order.
 */
export class Gateway {
  readonly bus = new Bus();
  readonly state = new StateStore();
  readonly registry: DeviceRegistry;
  readonly commands: CommandService;
  readonly occupancy: OccupancyTracker;
  readonly sinks: Sink[] = [];
  readonly dataDir: string;
  broker!: GatehouseBroker;
  api!: FastifyInstance;
  private readonly metrics: GatewayMetrics;
  private readonly plugins: DriverPlugin[];
  private readonly commissioning: Commissioning;
  private readonly audit: AuditLog;
  private statsTimer: NodeJS.Timeout | undefined;
  private evidence: EvidenceKeeper | undefined;
  private bridge: Bridge | undefined;
  private stopped = false;

  private constructor(private readonly opts: GatewayOptions) {
    const { config, log } = opts;
    this.dataDir = path.resolve(opts.dataDir ?? config.dataDir ?? '.data');
    mkdirSync(this.dataDir, { recursive: true });
    this.bus.onListenerError((err, msg) =>
      log.error({ err, type: msg.type }, 'a sink failed to take a message'),
    );
    this.bus.subscribe((m) => this.state.handle(m));
    this.metrics = new GatewayMetrics(this.state, () => [
      ...this.sinks,
      ...(this.bridge ? [{ name: 'bridge', stats: () => this.bridge!.stats() }] : []),
    ]);
    this.bus.subscribe((m) => this.metrics.handle(m));
    this.occupancy = new OccupancyTracker(
      Object.fromEntries((config.sites ?? []).filter((s) => s.capacity).map((s) => [s.id, s.capacity!])),
    );
    this.bus.subscribe((m) => this.occupancy.handle(m));
    const buses = new Map(config.buses.map((b) => [String(b.id), b] as const));
    this.plugins = createDriverPlugins();
    // Devices that speak MQTT subscribe through the broker, which starts after the registry.
    const mqtt = {
      prefix: `gatehouse/v1/${config.village}`,
      subscribe: (filter: string, handler: (m: { topic: string; payload: Buffer }) => void) =>
        this.broker.subscribe(filter, handler),
    };
    this.registry = new DeviceRegistry(
      this.plugins,
      this.bus,
      this.state,
      log,
      this.dataDir,
      buses,
      config.site,
      mqtt,
    );
    for (const device of config.devices) this.registry.add(device);
    this.audit = new AuditLog(path.join(this.dataDir, 'audit'));
    this.commands = new CommandService(
      this.registry,
      this.bus,
      this.audit,
      log.child({ component: 'commands' }),
      config.commands?.confirmTimeoutMs,
      config.commands?.confirmPollMs,
    );
    this.commissioning = new Commissioning(
      this.registry,
      this.plugins,
      buses,
      this.dataDir,
      opts.configFile,
      log.child({ component: 'commissioning' }),
    );
  }

  static async start(opts: GatewayOptions): Promise<Gateway> {
    const gw = new Gateway(opts);
    try {
      await gw.startServices();
    } catch (err) {
      await gw.stop().catch(() => undefined);
      throw err;
    }
    return gw;
  }

  get apiUrl(): string {
    const addr = this.api.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    return `http://127.0.0.1:${port}`;
  }

  get mqttPort(): number | undefined {
    return this.broker.port;
  }

  private async startServices(): Promise<void> {
    const { config, log } = this.opts;
    const influxCfg = resolveInfluxSinkConfig({
      ...((config.influx as object) ?? {}),
      ...(this.opts.influxUrl ? { url: this.opts.influxUrl } : {}),
    });
    const influx = new InfluxSink({
      config: influxCfg,
      village: config.village,
      dataDir: this.dataDir,
      logger: log.child({ component: 'influx' }),
    });
    this.sinks.push(influx);

    const brokerCfg = { ...((config.broker as object) ?? {}) } as Record<string, unknown>;
    if (this.opts.mqttPort !== undefined) brokerCfg.port = this.opts.mqttPort;
    this.broker = await GatehouseBroker.create({
      village: config.village,
      config: brokerCfg,
      dataDir: this.dataDir,
      log,
    });
    const mqtt = new MqttSink({
      broker: this.broker,
      log: log.child({ component: 'mqtt-sink' }),
      submitCommand: (device, req, actor) => this.commands.submit(device, req, `mqtt:${actor}`),
    });
    this.commands.onUpdate((rec) => mqtt.publishCommandUpdate(rec));
    this.sinks.push(mqtt);
    for (const sink of this.sinks) this.bus.subscribe((m) => sink.handle(m));

    this.api = await buildApi(
      {
        village: config.village,
        registry: this.registry,
        state: this.state,
        commands: this.commands,
        occupancy: this.occupancy,
        sinks: this.sinks,
        tokens: this.opts.tokens,
        ready: () => this.readiness(),
        metrics: () => this.metrics.text(),
      },
      log,
      [commissioningRoutes(this.commissioning)],
    );
    const apiCfg = config.api ?? { host: '0.0.0.0', port: 8080 };
    const apiPort = this.opts.apiPort ?? apiCfg.port;
    await portFree(
      this.api.listen({ port: apiPort, host: this.opts.apiHost ?? apiCfg.host }),
      'API',
      apiPort,
      '--api-port',
    );
    this.broker.attachWebSocket(this.api.server);
    await portFree(this.broker.listen(), 'MQTT', Number(brokerCfg.port ?? 1883), '--mqtt-port');
    await Promise.all(this.sinks.map((s) => s.start()));
    if (config.bridge) {
      this.bridge = new Bridge({
        config: config.bridge as BridgeConfig,
        broker: this.broker,
        log: log.child({ component: 'bridge' }),
        dataDir: this.dataDir,
      });
      await this.bridge.start();
    }

    this.evidence = new EvidenceKeeper(
      this.registry,
      this.bus,
      path.join(this.dataDir, 'evidence'),
      config.evidence,
      log,
    );
    this.registry.startPolling();
    this.statsTimer = setInterval(() => this.publishStats(), this.opts.statsIntervalMs ?? 10_000);
    this.statsTimer.unref();
  }

  private readiness(): { ready: boolean; checks: Record<string, string> } {
    const checks: Record<string, string> = { config: 'loaded' };
    for (const s of this.sinks) checks[`sink:${s.name}`] = s.status();
    // The uplink is reported, never a reason to be unready: the village works without it.
    if (this.bridge) checks.bridge = this.bridge.status();
    const ready = this.sinks.every((s) => s.status() === 'connected' || s.status() === 'spooling');
    return { ready: ready && !this.stopped, checks };
  }

  private lastCpu = process.cpuUsage();
  private lastCpuAt = performance.now();

  private publishStats(): void {
    const cpu = process.cpuUsage();
    const now = performance.now();
    const usedMs = (cpu.user - this.lastCpu.user + cpu.system - this.lastCpu.system) / 1000;
    const fields: Record<string, number> = {
      cpu: Math.round((usedMs / Math.max(1, now - this.lastCpuAt)) * 1000) / 10,
      rss_mb: Math.round((process.memoryUsage.rss() / 1048576) * 10) / 10,
    };
    this.lastCpu = cpu;
    this.lastCpuAt = now;
    for (const sink of this.sinks) {
      for (const [k, v] of Object.entries(sink.stats())) {
        if (['spool_bytes', 'queue_depth', 'points_written', 'points_dropped'].includes(k)) fields[k] = v;
      }
    }
    this.bus.publish({ type: 'gateway', fields, time: Date.now() });
  }

  /** Graceful: stop polling, finish commands, close the API, flush sinks, close lines. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const log = this.opts.log;
    if (this.statsTimer) clearInterval(this.statsTimer);
    await this.api?.close().catch((err: unknown) => log.warn({ err }, 'API close failed'));
    await this.registry.stopPolling();
    await this.commands.drain();
    await this.evidence?.close();
    await this.registry.close();
    for (const s of this.sinks) {
      await s.flush().catch((err: unknown) => log.warn({ err, sink: s.name }, 'flush failed'));
    }
    for (const s of [...this.sinks].reverse()) {
      await s.close().catch((err: unknown) => log.warn({ err, sink: s.name }, 'close failed'));
    }
    await this.bridge?.close().catch((err: unknown) => log.warn({ err }, 'bridge close failed'));
    await this.broker?.close().catch((err: unknown) => log.warn({ err }, 'broker close failed'));
    this.audit.close();
  }
}
