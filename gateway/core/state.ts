import type { CanonicalFields, DeviceEvent } from '../../drivers/contract/canonical.ts';
import { mergeTelemetry, type BusMessage, type DeviceRef } from './bus.ts';
import type { Health } from '../../drivers/contract/health.ts';

export interface DeviceState {
  device: DeviceRef;
  /** Latest value of every canonical field seen, merged across reads (less those now unknown). */
  fields: CanonicalFields;
  health: Health;
  lastSeen?: string;
  pollMs?: number;
  errors: number;
  /** Newest first, bounded. */
  recentEvents: (DeviceEvent & { time: number })[];
}

const RECENT_EVENTS = 20;

/** The in-memory sink: latest state and health per device, for the API and interlocks. */
export class StateStore {
  private readonly devices = new Map<string, DeviceState>();

  register(device: DeviceRef): void {
    this.devices.set(device.id, {
      device,
      fields: {},
      health: { status: 'offline', reason: 'not-polled-yet', since: new Date().toISOString() },
      errors: 0,
      recentEvents: [],
    });
  }

  /** A device removed while running: its state goes, and late messages about it are ignored. */
  unregister(id: string): void {
    this.devices.delete(id);
  }

  get(id: string): DeviceState | undefined {
    return this.devices.get(id);
  }

  all(): DeviceState[] {
    return [...this.devices.values()];
  }

  handle(msg: BusMessage): void {
    if (msg.type === 'gateway') return;
    const s = this.devices.get(msg.device.id);
    if (!s) return;
    if (msg.type === 'telemetry') {
      s.fields = mergeTelemetry(s.fields, msg);
      s.lastSeen = new Date(msg.time).toISOString();
    } else if (msg.type === 'health') {
      s.health = msg.health;
      s.errors = msg.errors;
      if (msg.pollMs !== undefined) s.pollMs = msg.pollMs;
    } else {
      s.recentEvents.unshift({ ...msg.event, time: msg.time });
      s.recentEvents.length = Math.min(s.recentEvents.length, RECENT_EVENTS);
    }
  }
}
