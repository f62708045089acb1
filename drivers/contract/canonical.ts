import { Type, type Static } from '@sinclair/typebox';

/**
 * The canonical telemetry schema (README, Interfaces: InfluxDB). Every vendor's data is mapped onto
 * these fields before it reaches a sink; sinks never see vendor names.
 */
export const ArmStateSchema = Type.Union([
  Type.Literal('closed'),
  Type.Literal('opening'),
  Type.Literal('open'),
  Type.Literal('closing'),
  Type.Literal('stopped'),
  Type.Literal('unknown'),
]);
export type ArmState = Static<typeof ArmStateSchema>;

export const BarrierFieldsSchema = Type.Object(
  {
    arm_state: Type.Optional(ArmStateSchema),
    arm_angle_deg: Type.Optional(Type.Number()),
    loop_occupied: Type.Optional(Type.Boolean()),
    photo_eye_blocked: Type.Optional(Type.Boolean()),
    fault_code: Type.Optional(Type.Integer()),
    cycles: Type.Optional(Type.Integer()),
    vehicles_in: Type.Optional(Type.Integer()),
    vehicles_out: Type.Optional(Type.Integer()),
    motor_current_a: Type.Optional(Type.Number()),
    cabinet_temp_c: Type.Optional(Type.Number()),
    supply_v: Type.Optional(Type.Number()),
    hold_open: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type BarrierFields = Static<typeof BarrierFieldsSchema>;

export const IrModeSchema = Type.Union([Type.Literal('on'), Type.Literal('off'), Type.Literal('auto')]);
export type IrMode = Static<typeof IrModeSchema>;

export const ProbeFieldsSchema = Type.Object(
  {
    online: Type.Optional(Type.Boolean()),
    clock_skew_s: Type.Optional(Type.Number()),
    snapshot_ms: Type.Optional(Type.Number()),
    snapshot_luma: Type.Optional(Type.Number()),
    ir_mode: Type.Optional(IrModeSchema),
    night: Type.Optional(Type.Boolean()),
    motion: Type.Optional(Type.Boolean()),
    tamper: Type.Optional(Type.Boolean()),
    stream_ok: Type.Optional(Type.Boolean()),
    relay_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ProbeFields = Static<typeof ProbeFieldsSchema>;

export const DEVICE_KINDS = ['barrier', 'probe'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];
export type CanonicalFields = BarrierFields | ProbeFields;

/** Event types that reach the `events` measurement and `<device>/events` topic. */
export const EVENT_TYPES = [
  'passage-in',
  'passage-out',
  'tailgating',
  'forced-arm',
  'fault',
  'fault-cleared',
  'motion',
  'tamper',
  'day-night',
  'command',
  'health',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Something that happened at a device, as a driver reports it. */
export interface DeviceEvent {
  type: EventType;
  detail: string;
  /** Extra fields kept with the event (numbers, flags, a snapshot reference). */
  data?: Record<string, string | number | boolean>;
  time?: number;
}

/** One normalized reading as sinks receive it. Tags are bounded: never ids of commands or plates. */
export interface Reading {
  measurement: 'barrier' | 'probe' | 'device_health' | 'events' | 'gateway';
  tags: Record<string, string>;
  fields: Record<string, string | number | boolean>;
  /** Milliseconds since the epoch. */
  time: number;
}
