import type { Logger } from 'pino';
import type { DriverPlugin, ScanHit, ScanProgress } from '../../drivers/contract/plugin.ts';
import { fieldName, validate } from '../../drivers/contract/schema-problems.ts';
import { SECTIONS } from '../config/sections.ts';
import type { DeviceRegistry } from '../core/registry.ts';
import { GatehouseError } from '../errors.ts';
import type { ConfigStore, Saved } from './config-store.ts';
import { parseUnits } from './units.ts';
import { appendEntry, removeEntry } from './yaml-edit.ts';

export interface BusView {
  id: string;
  type: string;
  settings: Record<string, unknown>;
  devices: string[];
}

/** A unit found by a sweep, with the definition to add it by (an id is all it lacks). */
export interface SweepHit extends ScanHit {
  device?: { kind: 'barrier'; driver: string; bus: string; unit: number; profile: string };
}

/**
 * Buses while the gateway runs: listed, added, removed (when no device is on them), and
 * swept for units. The map is the one the registry and the driver plugins read, so a bus
 * added here is usable by the next device at once.
 */
export class BusCommissioning {
  private readonly sweeping = new Set<string>();

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly plugins: readonly DriverPlugin[],
    readonly map: Map<string, Record<string, unknown>>,
    private readonly store: ConfigStore,
    private readonly log: Logger,
    private readonly serial: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {}

  private devicesOn(bus: string): string[] {
    return this.registry
      .all()
      .filter((e) => e.config.bus === bus)
      .map((e) => e.config.id);
  }

  list(): BusView[] {
    return [...this.map.entries()].map(([id, settings]) => ({
      id,
      type: String(settings.type),
      settings,
      devices: this.devicesOn(id),
    }));
  }

  private known(): string {
    return [...this.map.keys()].join(', ') || 'none';
  }

  /** Checked against the bus schema the YAML's `buses:` uses; defaults filled. */
  private check(raw: Record<string, unknown>): Record<string, unknown> {
    const { value, problems } = validate(SECTIONS.bus, raw);
    const all = problems.map((p) => `${fieldName(p.path) || 'bus'}: ${p.message}`);
    if (all.length === 0 && this.map.has(String(raw.id)))
      all.push(`id: duplicate bus id "${String(raw.id)}"`);
    if (all.length > 0) throw new GatehouseError('GH_BUS_INVALID', { problems: all.join('; ') });
    return value as Record<string, unknown>;
  }

  add(raw: Record<string, unknown>): Promise<Saved> {
    return this.serial(async () => {
      const checked = this.check(raw);
      const id = String(checked.id);
      const saved = await this.store.change((doc) => appendEntry(doc, 'buses', raw));
      const settings = saved?.config.buses.find((b) => b.id === id) ?? checked;
      this.map.set(id, settings);
      this.log.info({ bus: id, type: checked.type }, `bus ${id} added by commissioning`);
      return saved ? { id, savedTo: saved.file } : { id };
    });
  }

  remove(id: string): Promise<Saved> {
    return this.serial(async () => {
      if (!this.map.has(id)) throw new GatehouseError('GH_BUS_NOT_FOUND', { bus: id, known: this.known() });
      const on = this.devicesOn(id);
      if (on.length > 0) throw new GatehouseError('GH_BUS_IN_USE', { bus: id, devices: on.join(', ') });
      if (this.sweeping.has(id)) throw new GatehouseError('GH_SCAN_RUNNING', { bus: id });
      const saved = await this.store.change((doc) => removeEntry(doc, 'buses', id));
      this.map.delete(id);
      await Promise.allSettled(this.plugins.map((p) => p.closeBus?.(id)));
      this.log.info({ bus: id }, `bus ${id} removed by commissioning`);
      return saved ? { id, savedTo: saved.file } : { id };
    });
  }

  /**
   * Check a sweep request now (so the API can refuse it at once) and hand back the work
   * to run as a job: unit ids "1-247" or "1,2,5-9", a short wait per unit.
   */
  sweep(
    id: string,
    units: string,
    timeoutMs?: number,
  ): (progress: (p: ScanProgress) => void) => Promise<SweepHit[]> {
    const settings = this.map.get(id);
    if (!settings) throw new GatehouseError('GH_BUS_NOT_FOUND', { bus: id, known: this.known() });
    const plugin = this.plugins.find((p) => p.scan);
    if (!plugin?.scan)
      throw new GatehouseError('GH_BUS_NOT_FOUND', { bus: id, known: 'none that can be swept' });
    if (this.sweeping.has(id)) throw new GatehouseError('GH_SCAN_RUNNING', { bus: id });
    const list = parseUnits(units);
    this.sweeping.add(id);
    const scan = plugin.scan.bind(plugin);
    return async (progress) => {
      try {
        this.log.info({ bus: id, units }, `sweeping bus ${id} for units ${units}`);
        const hits = await scan(
          { bus: id, units: list, ...(timeoutMs ? { timeoutMs } : {}), onProgress: progress },
          { log: this.log.child({ bus: id, sweep: true }), buses: this.map },
        );
        return hits.map((h) => suggest(h, plugin.driver, id));
      } finally {
        this.sweeping.delete(id);
      }
    };
  }
}

function suggest(hit: ScanHit, driver: string, bus: string): SweepHit {
  const profile = hit.profiles[0];
  return profile ? { ...hit, device: { kind: 'barrier', driver, bus, unit: hit.unit, profile } } : { ...hit };
}
