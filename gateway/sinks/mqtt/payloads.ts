import type { DeviceRef, EventMessage, HealthMessage, TelemetryMessage } from '../../core/bus.ts';
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
  if (m.type === 'telemetry') return { ...base, fields: { ...base.fields, ...m.fields } };
  const { status, reason, detail } = m.health;
  const next: DeviceState = { ...base, status };
  delete next.reason;
  delete next.detail;
  return { ...next, ...(reason ? { reason } : {}), ...(detail ? { detail } : {}) };
}

/** Same state, ignoring when it was stamped. */
export function sameState(a: DeviceState | undefined, b: DeviceState): boolean {
  if (!a) return false;
  return JSON.stringify({ ...a, time: '' }) === JSON.stringify({ ...b, time: '' });
}

export function availabilityOf(health: Health): 'online' | 'offline' {
  return health.status === 'offline' ? 'offline' : 'online';
}
