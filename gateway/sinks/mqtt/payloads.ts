import {
  mergeTelemetry,
  type DeviceRef,
  type EventMessage,
  type HealthMessage,
  type TelemetryMessage,
} from '../../core/bus.ts';
import type { CanonicalFields } from '../../../drivers/contract/canonical.ts';
import type { Health, HealthReason } from '../../../drivers/contract/health.ts';

/** The JSON bodies of the village topics (catalogue: gateway/broker/topics.ts); times are ISO 8601. */

function refTags(d: DeviceRef) {
  return {
    device: d.id,
    kind: d.kind,
    ...(d.site ? { site: d.site } : {}),
    ...(d.lane ? { lane: d.lane } : {}),
  };
}

export function telemetryPayload(m: TelemetryMessage) {
  return { time: new Date(m.time).toISOString(), ...refTags(m.device), fields: m.fields };
}

export function eventPayload(m: EventMessage) {
  const { type, detail, data, commandId, actor } = m.event;
  return {
    time: new Date(m.event.time ?? m.time).toISOString(),
    ...refTags(m.device),
    type,
    detail,
    ...(data ? { data } : {}),
    ...(commandId ? { commandId } : {}),
    ...(actor ? { actor } : {}),
  };
}

/** The latest merged view of a device: `<device>/state`, retained. */
export interface DeviceState {
  device: string;
  kind: string;
  site?: string;
  lane?: string;
  /** online | degraded | offline; degraded devices are `online` on availability, the reason is here. */
  status: Health['status'];
  reason?: HealthReason;
  detail?: string;
  fields: CanonicalFields;
  /** When the state last changed. */
  time: string;
}

export function mergeState(prev: DeviceState | undefined, m: TelemetryMessage | HealthMessage): DeviceState {
  const base: DeviceState = prev ?? {
    ...refTags(m.device),
    status: 'offline',
    reason: 'not-polled-yet',
    fields: {},
    time: new Date(m.time).toISOString(),
  };
  if (m.type === 'telemetry') return { ...base, fields: mergeTelemetry(base.fields, m) };
  const { status, reason, detail } = m.health;
  const { reason: _reason, detail: _detail, ...rest } = base;
  return { ...rest, status, ...(reason ? { reason } : {}), ...(detail ? { detail } : {}) };
}

/**
 * Same state, ignoring when it was stamped. Compared field by field (canonical values are
 * scalars): this runs for every poll of every device, and serializing both sides each
 * time cost more than the publish it saves.
 */
export function sameState(a: DeviceState | undefined, b: DeviceState): boolean {
  if (!a) return false;
  if (a.status !== b.status || a.reason !== b.reason || a.detail !== b.detail) return false;
  if (a.device !== b.device || a.kind !== b.kind || a.site !== b.site || a.lane !== b.lane) return false;
  const fa = a.fields as Record<string, unknown>;
  const fb = b.fields as Record<string, unknown>;
  const keys = Object.keys(fa);
  if (keys.length !== Object.keys(fb).length) return false;
  return keys.every((k) => k in fb && fa[k] === fb[k]);
}

export function availabilityOf(health: Health): 'online' | 'offline' {
  return health.status === 'offline' ? 'offline' : 'online';
}
