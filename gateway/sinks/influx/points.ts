import type { BusMessage, DeviceRef } from '../../core/bus.ts';
import type { Reading } from '../../../drivers/contract/canonical.ts';
import type { FieldValue, IntegerFields } from './line-protocol.ts';

/**
 * The pure mapping from bus messages to InfluxDB points (README, Interfaces: InfluxDB).
 * Tags stay bounded: village, device, kind, site, lane. Command ids, actors and plates
 * are fields, never tags, so a busy gate cannot grow the series index.
 */

export type Measurement = Reading['measurement'];

/** Canonical fields that are counts or codes: written as integers so CQs and Grafana see one type. */
export const INTEGER_FIELDS: Record<Measurement, IntegerFields> = {
  barrier: new Set(['fault_code', 'cycles', 'vehicles_in', 'vehicles_out']),
  probe: new Set(),
  device_health: new Set(['errors']),
  events: new Set(),
  gateway: new Set(['spool_bytes', 'queue_depth', 'points_written', 'points_dropped']),
};

/** The measurements whose numeric fields are downsampled to 5-minute means. */
export const DOWNSAMPLED_MEASUREMENTS: readonly Measurement[] = [
  'barrier',
  'probe',
  'device_health',
  'gateway',
];

export function deviceTags(village: string, d: DeviceRef): Record<string, string> {
  const tags: Record<string, string> = { village, device: d.id, kind: d.kind };
  if (d.site) tags.site = d.site;
  if (d.lane) tags.lane = d.lane;
  return tags;
}

/** Event fields the event itself owns; `event.data` keys that clash get a `data_` prefix. */
const EVENT_OWN_FIELDS = new Set(['type', 'detail', 'command_id', 'actor', 'time']);

export function measurementOf(msg: BusMessage): Measurement {
  switch (msg.type) {
    case 'telemetry':
      return msg.device.kind;
    case 'health':
      return 'device_health';
    case 'event':
      return 'events';
    case 'gateway':
      return 'gateway';
  }
}

export function tagsOf(msg: BusMessage, village: string): Record<string, string> {
  return msg.type === 'gateway' ? { village } : deviceTags(village, msg.device);
}

/** The point's fields. Telemetry and gateway fields pass through as they are (not copied: nothing here mutates them). */
export function fieldsOf(msg: BusMessage): Record<string, FieldValue> {
  switch (msg.type) {
    case 'telemetry':
      return msg.fields as Record<string, FieldValue>;
    case 'gateway':
      return msg.fields;
    case 'health': {
      const fields: Record<string, FieldValue> = {
        online: msg.health.status === 'online',
        status: msg.health.status,
        reason: msg.health.reason ?? '',
        errors: msg.errors,
      };
      if (msg.pollMs !== undefined) fields.poll_ms = msg.pollMs;
      return fields;
    }
    case 'event': {
      const e = msg.event;
      const fields: Record<string, FieldValue> = {};
      for (const [k, v] of Object.entries(e.data ?? {}))
        fields[EVENT_OWN_FIELDS.has(k) ? `data_${k}` : k] = v;
      fields.type = e.type;
      fields.detail = e.detail;
      if (e.commandId !== undefined) fields.command_id = e.commandId;
      if (e.actor !== undefined) fields.actor = e.actor;
      return fields;
    }
  }
}

export function toPoint(msg: BusMessage, village: string): Reading {
  return {
    measurement: measurementOf(msg),
    tags: tagsOf(msg, village),
    fields: fieldsOf(msg),
    time: msg.time,
  };
}
