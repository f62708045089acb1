import { expect, it } from 'vitest';
import { normalize } from '../../gateway/core/normalizer.ts';

// The one gate between drivers and sinks: what a driver or a profile produced, filtered
// to the canonical fields of the device's kind with the canonical types.
it('passes canonical fields of the right type and names every field it drops', () => {
  const r = normalize('barrier', {
    arm_state: 'open',
    arm_angle_deg: 87.5,
    loop_occupied: false,
    cycles: 12,
    snapshot_luma: 40, // a probe's field on a barrier
    arm_colour: 'red', // not canonical at all
    photo_eye_blocked: 'yes', // wrong type
    motor_current_a: Number.NaN, // a broken sensor: InfluxDB would refuse the batch
    fault_code: undefined, // absent, not rejected
  });
  expect(r.fields).toEqual({ arm_state: 'open', arm_angle_deg: 87.5, loop_occupied: false, cycles: 12 });
  expect(r.rejected.sort()).toEqual(['arm_colour', 'motor_current_a', 'photo_eye_blocked', 'snapshot_luma']);
});

it('checks a value against its field type, enumerations included', () => {
  expect(normalize('barrier', { arm_state: 'half-way' }).rejected).toEqual(['arm_state']);
  expect(normalize('probe', { snapshot_luma: 12.5, ir_mode: 'auto' }).fields).toEqual({
    snapshot_luma: 12.5,
    ir_mode: 'auto',
  });
  expect(normalize('probe', { ir_mode: 'AUTO' }).rejected).toEqual(['ir_mode']);
});
