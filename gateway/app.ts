import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DriverPlugin } from '../drivers/contract/plugin.ts';
import type { CredentialsReload } from './api/context.ts';
import { buildApi } from './api/server.ts';
import { Bridge } from './bridge/bridge.ts';
import { GatehouseBroker } from './broker/broker.ts';
import { AuditLog } from './commands/audit.ts';
import { CommandService } from './commands/service.ts';
import { commissioningRoutes } from './commissioning/routes.ts';
import { Jobs } from './commissioning/jobs.ts';
import { manageRoutes } from './commissioning/manage-routes.ts';
import { Commissioning } from './commissioning/service.ts';
import type { VillageConfig } from './config/load.ts';
import { withOverrides, type ConfigOverrides } from './config/overrides.ts';
import { Bus } from './core/bus.ts';
import { DeviceRegistry } from './core/registry.ts';
import { StateStore } from './core/state.ts';
import { SnapshotCache } from './core/snapshots.ts';
import { GatehouseError } from './errors.ts';
import { EvidenceKeeper } from './evidence.ts';
import { GatewayMetrics, GatewayStats } from './metrics.ts';
import { OccupancyTracker } from './occupancy.ts';
import { createDriverPlugins } from './plugins.ts';
import { ComponentStack, isAddressInUse } from './runtime/components.ts';
import { Reloader } from './runtime/reload.ts';
import type { Credentials, HashedToken } from './credentials/from-config.ts';
import { TokenStore } from './credentials/tokens.ts';
import { loadServerCertificate } from './tls/files.ts';
import { gatewayListeners, plainCredentialWarnings } from './tls/exposure.ts';
import { InfluxSink } from './sinks/influx/influx-sink.ts';
import { MqttSink } from './sinks/mqtt/sink.ts';
import type { Sink } from './sinks/sink.ts';

export interface GatewayOptions extends ConfigOverrides {
  config: VillageConfig;
  /** The YAML the config came from; commissioning saves new devices into it. */
  configFile?: string;
  log: Logger;
  /** API tokens, hashed (config tokens plus the env/demo one). */
  tokens: HashedToken[];
  /** Re-reads the config file's tokens and MQTT users (SIGHUP, the admin route). */
  credentials?: () => Credentials;
  /** How often the `gateway` measurement is written. */
  statsIntervalMs?: number;
}

/** A taken port names itself and the flag that moves it. */
async function listening<T>(p: Promise<T>, what: string, port: number, flag: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (isAddressInUse(err)) throw new GatehouseError('GH_PORT_IN_USE', [what, port, flag], { cause: err });
    throw err;
  }
}

/**
 * The composition root: drivers → normalizer → bus → sinks (InfluxDB, MQTT, state,
 * metrics); API/MQTT → command service → driver. `start` brings the parts up in
 * dependency order and `stop` takes them down in reverse, so a part stops while what
 * it relies on still runs (commands drain before sinks flush; sinks flush before the
 * broker closes).
 */
export class Gateway {
  private stopped = false;
  private reloader?: Reloader;

  private constructor(
    readonly config: VillageConfig,
    readonly dataDir: string,
    readonly bus: Bus,
    readonly state: StateStore,
    readonly registry: DeviceRegistry,
    readonly commands: CommandService,
    readonly occupancy: OccupancyTracker,
    readonly sinks: readonly Sink[],
    readonly broker: GatehouseBroker,
    readonly api: FastifyInstance,
    private readonly components: ComponentStack,
  ) {}

  static async start(opts: GatewayOptions): Promise<Gateway> {
    const config = withOverrides(opts.config, opts);
    const { log } = opts;
    const dataDir = path.resolve(config.dataDir);
    mkdirSync(dataDir, { recursive: true });
    const stack = new ComponentStack(log);
    try {
      return await Gateway.compose(config, dataDir, opts, stack);
    } catch (err) {
      await stack.stopAll();
      throw err;
    }
  }

  private static async compose(
    config: VillageConfig,
    dataDir: string,
    opts: GatewayOptions,
    stack: ComponentStack,
  ): Promise<Gateway> {
    const { log } = opts;
    // Relative certificate paths start where the config file is, as secret files do.
    const baseDir = opts.configFile ? path.dirname(path.resolve(opts.configFile)) : process.cwd();
    const tokens = new TokenStore(opts.tokens);
    const bus = new Bus();
    const state = new StateStore();
    const sinks: Sink[] = [];
    bus.onListenerError((err, msg) => log.error({ err, type: msg.type }, 'a sink failed to take a message'));
    bus.subscribe((m) => state.handle(m));
    const occupancy = new OccupancyTracker(
      Object.fromEntries(config.sites.filter((s) => s.capacity).map((s) => [s.id, s.capacity!])),
    );
    bus.subscribe((m) => occupancy.handle(m));
    let bridge: Bridge | undefined;
    const metrics = new GatewayMetrics(state, () => [
      ...sinks,
      ...(bridge ? [{ name: 'bridge', stats: () => bridge!.stats() }] : []),
      { name: 'mqtt-login', stats: () => broker.loginStats() },
    ]);
    bus.subscribe((m) => metrics.handle(m));
    metrics.watchDisk(dataDir);

    const audit = await stack.add(
      'audit log',
      () => {
        const log = new AuditLog(path.join(dataDir, 'audit'));
        log.onSync = (s) => metrics.auditSync(s);
        return log;
      },
      (a) => a.close(),
    );
    const broker = await stack.add(
      'broker',
      () =>
        GatehouseBroker.create({
          village: config.village,
          config: config.broker,
          dataDir,
          baseDir,
          log,
        }),
      (b) => b.close(),
    );
    metrics.watchBroker(() => broker.stats());
    if (config.bridge) {
      const bridgeConfig = config.bridge;
      bridge = await stack.add(
        'bridge',
        async () => {
          const b = new Bridge({
            config: bridgeConfig,
            broker,
            log: log.child({ component: 'bridge' }),
            dataDir,
            baseDir,
          });
          await b.start();
          return b;
        },
        (b) => b.close(),
      );
    }

    const influx = await stack.add(
      'influx sink',
      async () => {
        const sink = new InfluxSink({
          config: config.influx,
          village: config.village,
          dataDir,
          logger: log.child({ component: 'influx' }),
        });
        await sink.start();
        return sink;
      },
      async (s) => {
        await s.flush().catch((err: unknown) => log.warn({ err }, 'influx flush failed'));
        await s.close();
      },
    );
    sinks.push(influx);
    for (const { name, ...target } of config.influxTargets) {
      const sink = await stack.add(
        `influx sink ${name}`,
        async () => {
          const s = new InfluxSink({
            config: target,
            name: `influx-${name}`,
            village: config.village,
            dataDir,
            logger: log.child({ component: `influx-${name}` }),
          });
          await s.start();
          return s;
        },
        async (s) => {
          await s.flush().catch((err: unknown) => log.warn({ err, target: name }, 'influx flush failed'));
          await s.close();
        },
      );
      sinks.push(sink);
    }
    // The MQTT sink takes commands too (a town command may arrive through the bridge as
    // soon as it connects): they wait for the command service, which starts after the sinks.
    let commandsStarted!: (c: CommandService) => void;
    const commandsReady = new Promise<CommandService>((resolve) => (commandsStarted = resolve));
    const mqtt = await stack.add(
      'mqtt sink',
      async () => {
        const sink = new MqttSink({
          broker,
          log: log.child({ component: 'mqtt-sink' }),
          submitCommand: async (device, req, actor, o) =>
            (await commandsReady).submit(device, req, `mqtt:${actor}`, o),
          ...(bridge ? { uplink: bridge } : {}),
          commandLimit: config.broker.limits,
        });
        await sink.start();
        return sink;
      },
      async (s) => {
        await s.flush().catch((err: unknown) => log.warn({ err }, 'mqtt flush failed'));
        await s.close();
      },
    );
    sinks.push(mqtt);
    for (const sink of sinks) bus.subscribe((m) => sink.handle(m));
    const plugins: DriverPlugin[] = createDriverPlugins();
    const buses = new Map(config.buses.map((b) => [String(b.id), b] as const));
    const registry = await stack.add(
      'devices',
      () => {
        const r = new DeviceRegistry(plugins, bus, state, log, dataDir, buses, config.site, {
          prefix: broker.prefix,
          subscribe: (filter, handler) => broker.subscribe(filter, handler),
        });
        for (const device of config.devices) r.add(device);
        return r;
      },
      (r) => r.close(),
    );
    // The probes' pictures, taken over from each poll: crew phones never reach a camera.
    const snapshots = new SnapshotCache((id) => registry.get(id));
    bus.subscribe((m) => snapshots.handle(m));
    const commands = await stack.add(
      'commands',
      () => {
        const c = new CommandService(
          registry,
          bus,
          audit,
          log.child({ component: 'commands' }),
          config.commands.confirmTimeoutMs,
          config.commands.confirmPollMs,
          config.commands.maxQueuedPerBarrier,
        );
        c.onUpdate((rec) => mqtt.publishCommandUpdate(rec));
        c.onSupervision((r) => metrics.supervision(r));
        c.onUpdate((rec) => metrics.command(rec));
        commandsStarted(c);
        return c;
      },
      (c) => c.drain(),
    );

    // The admin route reloads through the finished gateway; it cannot be called before listen.
    // eslint-disable-next-line prefer-const -- assigned once the stack is up
    let gateway: Gateway;
    const commissioning = new Commissioning(
      registry,
      plugins,
      buses,
      dataDir,
      opts.configFile,
      log.child({ component: 'commissioning' }),
      {
        busy: (device) =>
          commands
            .list(1000)
            .some((c) => c.device === device && (c.state === 'accepted' || c.state === 'executing')),
        removed: (device) => mqtt.forget(device),
      },
    );
    const jobs = new Jobs();
    let stopping = false;
    const api = await stack.add(
      'api',
      async () => {
        const app = await buildApi(
          {
            village: config.village,
            registry,
            state,
            commands,
            occupancy,
            sinks,
            bus,
            snapshots,
            gateway: {
              dataDir,
              ...(bridge ? { uplink: bridge } : {}),
              brokerClients: () => broker.connectedClients,
            },
            tokens,
            limits: config.api.limits,
            reloadCredentials: async () => gateway.reloadCredentials(),
            ready: () => readiness(sinks, bridge, stopping),
            metrics: () => metrics.text(),
          },
          log,
          [commissioningRoutes(commissioning, jobs), manageRoutes(commissioning, jobs)],
          config.api.tls ? { https: loadServerCertificate('api.tls', config.api.tls, baseDir).options } : {},
        );
        const { host, port } = config.api;
        await listening(app.listen({ port, host }), 'API', port, '--api-port');
        return app;
      },
      async (app) => {
        stopping = true;
        await app.close();
      },
    );
    await stack.add(
      'mqtt listeners',
      async () => {
        broker.attachWebSocket(api.server);
        const { port } = config.broker;
        await listening(broker.listen(), 'MQTT', port, '--mqtt-port');
        for (const warning of plainCredentialWarnings(gatewayListeners(config))) {
          log.warn({ code: 'GH_TLS_PLAIN_CREDENTIALS' }, warning);
        }
      },
      () => undefined,
    );
    await stack.add(
      'evidence',
      () => new EvidenceKeeper(registry, bus, path.join(dataDir, 'evidence'), config.evidence, log),
      (e) => e.close(),
    );
    await stack.add(
      'polling',
      () => registry.startPolling(),
      () => registry.stopPolling(),
    );
    await stack.add(
      'gateway stats',
      () =>
        GatewayStats.every(opts.statsIntervalMs ?? 10_000, sinks, (fields) =>
          bus.publish({ type: 'gateway', fields, time: Date.now() }),
        ),
      (s) => s.stop(),
    );
    gateway = new Gateway(
      config,
      dataDir,
      bus,
      state,
      registry,
      commands,
      occupancy,
      sinks,
      broker,
      api,
      stack,
    );
    gateway.reloader = new Reloader({
      tokens,
      broker,
      ...(bridge ? { bridge } : {}),
      ...(config.api.tls
        ? { api: { server: api.server as unknown as TlsServer, files: config.api.tls, baseDir } }
        : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      log,
    });
    return gateway;
  }

  get apiUrl(): string {
    const addr = this.api.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    return `${this.config.api.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  /** Re-read the config file's API tokens and MQTT users; throws GH_CREDENTIALS_RELOAD, keeping the old ones. */
  reloadCredentials(): CredentialsReload {
    return this.reloader!.reloadCredentials();
  }

  /** SIGHUP: renewed certificates and the config file's credentials, nothing else. */
  reload(): void {
    this.reloader?.all();
  }

  get mqttPort(): number | undefined {
    return this.broker.port;
  }

  /** Graceful: every part in reverse order of start (polling first, the audit log last). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.components.stopAll();
  }
}

/** Ready once every sink writes or spools; the uplink is reported, never a reason to be unready. */
function readiness(
  sinks: readonly Sink[],
  bridge: Bridge | undefined,
  stopping: boolean,
): { ready: boolean; checks: Record<string, string> } {
  const checks: Record<string, string> = { config: 'loaded' };
  for (const s of sinks) checks[`sink:${s.name}`] = s.status();
  if (bridge) checks.bridge = bridge.status();
  const ready = sinks.every((s) => s.status() === 'connected' || s.status() === 'spooling');
  return { ready: ready && !stopping, checks };
}
