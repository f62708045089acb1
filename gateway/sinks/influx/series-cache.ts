import type { BusMessage, DeviceRef } from '../../core/bus.ts';
import { seriesKey } from './line-protocol.ts';
import { tagsOf, type Measurement } from './points.ts';

/** Bounds the by-value index should device ids ever be unbounded (a misbehaving source). */
const BY_NAME_LIMIT = 10_000;

interface Entry {
  id: string;
  kind: string;
  site: string | undefined;
  lane: string | undefined;
  keys: Partial<Record<Measurement, string>>;
}

/**
 * Escaped `measurement,tags` prefixes per device. Drivers usually publish with the same
 * DeviceRef object each time, so the first lookup is by identity; the entry re-checks the
 * ref's fields, so a ref changed in place (a device moved to another lane) gets a fresh
 * key, and new ref objects for a known device are found by value.
 */
export class SeriesKeyCache {
  private readonly byRef = new WeakMap<DeviceRef, Entry>();
  private readonly byName = new Map<string, Entry>();
  private gatewayKey: string | undefined;

  constructor(private readonly village: string) {}

  get(msg: BusMessage, measurement: Measurement): string {
    if (msg.type === 'gateway') return (this.gatewayKey ??= seriesKey('gateway', { village: this.village }));
    const d = msg.device;
    let e = this.byRef.get(d);
    if (e === undefined || e.id !== d.id || e.kind !== d.kind || e.site !== d.site || e.lane !== d.lane) {
      // A new ref object (or one changed in place): find the device by value.
      const name = `${d.id}\0${d.kind}\0${d.site ?? ''}\0${d.lane ?? ''}`;
      e = this.byName.get(name);
      if (e === undefined) {
        if (this.byName.size >= BY_NAME_LIMIT) this.byName.clear();
        e = { id: d.id, kind: d.kind, site: d.site, lane: d.lane, keys: {} };
        this.byName.set(name, e);
      }
      this.byRef.set(d, e);
    }
    return (e.keys[measurement] ??= seriesKey(measurement, tagsOf(msg, this.village)));
  }
}
