import type { BusMessage } from './core/bus.ts';
import type { BarrierFields } from '../drivers/contract/canonical.ts';

export interface SiteOccupancy {
  site: string;
  /** Vehicles inside: the set baseline plus every counted entry minus every exit since. */
  occupancy: number;
  capacity?: number;
  free?: number;
  entries: number;
  exits: number;
  barriers: string[];
  since: string;
}

interface Counters {
  in: number;
  out: number;
}

/**
 * Parking occupancy per site from the barriers' vehicle counters. Counters are read
 * as deltas, so a controller that restarts (its counters fall back to zero) loses no
 * passage and adds none twice.
 */
export class OccupancyTracker {
  private readonly last = new Map<string, Counters>();
  private readonly sites = new Map<string, SiteOccupancy>();

  constructor(capacities: Record<string, number> = {}) {
    for (const [site, capacity] of Object.entries(capacities)) this.site(site).capacity = capacity;
  }

  private site(id: string): SiteOccupancy {
    let s = this.sites.get(id);
    if (!s) {
      s = { site: id, occupancy: 0, entries: 0, exits: 0, barriers: [], since: new Date().toISOString() };
      this.sites.set(id, s);
    }
    return s;
  }

  handle(msg: BusMessage): void {
    if (msg.type !== 'telemetry' || msg.device.kind !== 'barrier' || !msg.device.site) return;
    const f = msg.fields as BarrierFields;
    if (f.vehicles_in === undefined || f.vehicles_out === undefined) return;
    const site = this.site(msg.device.site);
    if (!site.barriers.includes(msg.device.id)) site.barriers.push(msg.device.id);
    const prev = this.last.get(msg.device.id);
    this.last.set(msg.device.id, { in: f.vehicles_in, out: f.vehicles_out });
    if (!prev) return; // the first reading is the reference, not traffic
    const delta = (now: number, before: number) => (now >= before ? now - before : now);
    const ins = delta(f.vehicles_in, prev.in);
    const outs = delta(f.vehicles_out, prev.out);
    site.entries += ins;
    site.exits += outs;
    site.occupancy = Math.max(0, site.occupancy + ins - outs);
  }

  /** A crew's count at the lot resets the baseline. */
  set(siteId: string, occupancy: number): SiteOccupancy {
    const s = this.site(siteId);
    s.occupancy = occupancy;
    s.since = new Date().toISOString();
    return this.view(s);
  }

  private view(s: SiteOccupancy): SiteOccupancy {
    return s.capacity === undefined ? { ...s } : { ...s, free: Math.max(0, s.capacity - s.occupancy) };
  }

  all(): SiteOccupancy[] {
    return [...this.sites.values()].map((s) => this.view(s));
  }

  get(site: string): SiteOccupancy | undefined {
    const s = this.sites.get(site);
    return s && this.view(s);
  }
}
