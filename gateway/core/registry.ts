import type { Logger } from 'pino';
import path from 'node:path';
import type { Driver } from '../../drivers/contract/driver.ts';
import type { Bus, DeviceRef } from './bus.ts';
import type { DeviceEvent } from '../../drivers/contract/canonical.ts';
import type { DeviceConfig, DriverPlugin, MqttAccess } from '../../drivers/contract/plugin.ts';
import { DevicePoller } from './poller.ts';
import type { StateStore } from './state.ts';

export interface DeviceEntry {
  config: DeviceConfig;
  ref: DeviceRef;
  driver: Driver;
  poller: DevicePoller;
}

/** The devices of a village: built from config through driver plugins, polled while started. */
export class DeviceRegistry {
  private readonly entries = new Map<string, DeviceEntry>();

  constructor(
    private readonly plugins: readonly DriverPlugin[],
    private readonly bus: Bus,
    private readonly state: StateStore,
    private readonly log: Logger,
    private readonly dataDir: string,
    private readonly buses: Map<string, Record<string, unknown>>,
    private readonly defaultSite?: string,
    private readonly mqtt?: MqttAccess,
  ) {}

  add(config: DeviceConfig): DeviceEntry {
    const plugin = this.plugins.find((p) => p.driver === config.driver);
    if (!plugin) throw new Error(`no driver plugin "${config.driver}"`);
    const ref: DeviceRef = { id: config.id, kind: config.kind };
    const site = config.site ?? this.defaultSite;
    if (site) ref.site = site;
    if (config.lane) ref.lane = config.lane;
    const log = this.log.child({ device: config.id });
    const driver = plugin.create(config, {
      log,
      buses: this.buses,
      ...(this.mqtt ? { mqtt: this.mqtt } : {}),
      context: () => ({
        log,
        dataDir: path.join(this.dataDir, 'devices', config.id),
        emit: (event) => this.emitEvent(ref, event),
      }),
    });
    const poller = new DevicePoller(ref, driver, config.pollMs ?? plugin.defaultPollMs, this.bus, log, (e) =>
      this.emitEvent(ref, e),
    );
    const entry = { config, ref, driver, poller };
    this.entries.set(config.id, entry);
    this.state.register(ref);
    return entry;
  }

  /**
   * Where device events go. An enricher (passage evidence) may hold an event back to
   * attach a reference before it reaches the bus; it must publish it in the end.
   */
  eventHook: ((ref: DeviceRef, event: DeviceEvent) => void) | undefined;

  private emitEvent(ref: DeviceRef, event: DeviceEvent): void {
    if (this.eventHook) this.eventHook(ref, event);
    else this.bus.publish({ type: 'event', device: ref, event, time: event.time ?? Date.now() });
  }

  /**
   * Take a device out while the gateway runs: gone from lookups first (no new command
   * or API answer finds it), then its poll in flight is awaited, its driver closed and
   * its state dropped. Shared lines stay open for the devices still on them.
   */
  async remove(id: string): Promise<DeviceEntry | undefined> {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    await entry.poller.stop();
    await entry.driver
      .close()
      .catch((err: unknown) => this.log.warn({ err, device: id }, 'driver close failed'));
    this.state.unregister(id);
    return entry;
  }

  get(id: string): DeviceEntry | undefined {
    return this.entries.get(id);
  }

  all(): DeviceEntry[] {
    return [...this.entries.values()];
  }

  startPolling(): void {
    for (const e of this.entries.values()) e.poller.start();
  }

  async stopPolling(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.poller.stop()));
  }

  /** Stop polling, then close drivers and the lines plugins share. */
  async close(): Promise<void> {
    await this.stopPolling();
    await Promise.allSettled([...this.entries.values()].map((e) => e.driver.close()));
    await Promise.allSettled(this.plugins.map((p) => p.closeAll?.()));
  }
}
