/**
 * The controller's own vocabulary: what a barrier knows about itself and which gate
 * commands it takes. The words match the gateway's canonical schema by agreement, not
 * by import (a simulator is a peer of the driver, not part of it);
 * test/unit/barrier-sim-layout.test.ts checks that the two lists still agree.
 */
export const ARM_STATES = ['closed', 'opening', 'open', 'closing', 'stopped', 'unknown'] as const;
export type ArmState = (typeof ARM_STATES)[number];

export const COMMANDS = ['open', 'close', 'hold-open', 'release', 'stop', 'reset-fault'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Everything the controller reports, in physical units, before a vendor lays it into registers. */
export interface BarrierFields {
  arm_state: ArmState;
  arm_angle_deg: number;
  loop_occupied: boolean;
  photo_eye_blocked: boolean;
  hold_open: boolean;
  fault_code: number;
  cycles: number;
  vehicles_in: number;
  vehicles_out: number;
  motor_current_a: number;
  cabinet_temp_c: number;
  supply_v: number;
}
export type FieldName = keyof BarrierFields;

/** On/off inputs: the only fields a coil, a discrete input or a status bit can carry. */
export const FLAG_FIELDS = ['loop_occupied', 'photo_eye_blocked', 'hold_open'] as const;
export const NUMBER_FIELDS = [
  'arm_angle_deg',
  'fault_code',
  'cycles',
  'vehicles_in',
  'vehicles_out',
  'motor_current_a',
  'cabinet_temp_c',
  'supply_v',
] as const;
export const FIELD_NAMES: readonly FieldName[] = ['arm_state', ...FLAG_FIELDS, ...NUMBER_FIELDS];

export const isFlagField = (f: FieldName): f is (typeof FLAG_FIELDS)[number] =>
  (FLAG_FIELDS as readonly string[]).includes(f);
