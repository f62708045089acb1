import { EventEmitter } from 'node:events';
import type { CanonicalFields, DeviceEvent, DeviceKind } from '../../drivers/contract/canonical.ts';
import type { Health } from '../../drivers/contract/health.ts';

/** What sinks know of a device: enough to tag and route, nothing vendor-specific. */
export interface DeviceRef {
  id: string;
  kind: DeviceKind;
  site?: string;
  lane?: string;
}

export interface TelemetryMessage {
  type: 'telemetry';
  device: DeviceRef;
  fields: CanonicalFields;
  /** Canonical fields the device has no valid reading of now: their last value no longer holds. */
  unknown?: readonly string[];
  time: number;
}

/** A device's latest fields after this telemetry: merged across reads, less what is now unknown. */
export function mergeTelemetry(prev: CanonicalFields, m: TelemetryMessage): CanonicalFields {
  const next: Record<string, unknown> = { ...prev, ...m.fields };
  for (const k of m.unknown ?? []) delete next[k];
  return next as CanonicalFields;
}

export interface HealthMessage {
  type: 'health';
  device: DeviceRef;
  health: Health;
  /** Duration of the last poll, ms. */
  pollMs?: number;
  /** How long after its scheduled time the timer of this poll fired, ms (scheduled polls only). */
  lateMs?: number;
  /** Consecutive failed polls. */
  errors: number;
  time: number;
}

export interface EventMessage {
  type: 'event';
  device: DeviceRef;
  event: DeviceEvent & { commandId?: string; actor?: string };
  time: number;
}

export interface GatewayStatsMessage {
  type: 'gateway';
  fields: Record<string, number>;
  time: number;
}

export type BusMessage = TelemetryMessage | HealthMessage | EventMessage | GatewayStatsMessage;

type Listener = (msg: BusMessage) => void;

/**
 * The in-process bus: drivers → normalizer → bus → sinks. Delivery is synchronous and
 * in order; a sink that needs to do I/O queues internally so a slow sink never blocks
 * polling. A listener that throws is reported, not allowed to break the others.
 */
export class Bus {
  private readonly listeners = new Set<Listener>();
  private readonly errors = new EventEmitter();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onListenerError(handler: (err: unknown, msg: BusMessage) => void): void {
    this.errors.on('error', handler);
  }

  publish(msg: BusMessage): void {
    for (const l of this.listeners) {
      try {
        l(msg);
      } catch (err) {
        if (this.errors.listenerCount('error') > 0) this.errors.emit('error', err, msg);
      }
    }
  }
}
