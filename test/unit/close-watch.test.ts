import { describe, expect, it } from 'vitest';
import type { BarrierFields } from '../../drivers/contract/canonical.ts';
import { watchClose } from '../../gateway/commands/rules.ts';
import { mergeLane } from '../../gateway/commands/supervise.ts';

const clear = { loop_occupied: false, photo_eye_blocked: false };
const s = (f: BarrierFields) => watchClose(f);

describe('what a supervised reading of a closing arm calls for', () => {
  it('confirms once the arm is down, and watches while the lane is clear', () => {
    expect(s({ arm_state: 'closed', ...clear })).toEqual({ next: 'confirm' });
    expect(s({ arm_state: 'closing', arm_angle_deg: 40, ...clear })).toEqual({ next: 'watch' });
    expect(s({ arm_state: 'open', ...clear })).toEqual({ next: 'watch' });
  });

  it('reverses for a vehicle while the arm may still come down, naming the sensor (loop first)', () => {
    expect(s({ arm_state: 'closing', loop_occupied: true })).toEqual({
      next: 'reverse',
      sensor: 'loop-occupied',
    });
    expect(s({ arm_state: 'closing', photo_eye_blocked: true })).toEqual({
      next: 'reverse',
      sensor: 'photo-eye-blocked',
    });
    expect(s({ arm_state: 'closing', loop_occupied: true, photo_eye_blocked: true })).toMatchObject({
      sensor: 'loop-occupied',
    });
    // A position the device cannot tell, or none at all (a relay barrier): assume it is coming down.
    expect(s({ arm_state: 'unknown', loop_occupied: true })).toMatchObject({ next: 'reverse' });
    expect(s({ loop_occupied: true })).toMatchObject({ next: 'reverse' });
  });

  it('leaves the arm to the controller when its own safety acted first', () => {
    expect(s({ arm_state: 'opening', loop_occupied: true })).toEqual({
      next: 'fail',
      failure: 'interlock-tripped:loop-occupied',
    });
    expect(s({ arm_state: 'stopped', photo_eye_blocked: true })).toEqual({
      next: 'fail',
      failure: 'interlock-tripped:photo-eye-blocked',
    });
  });

  it('keeps watching an arm that has not started down yet, and reverses the moment it does', () => {
    expect(s({ arm_state: 'open', loop_occupied: true })).toEqual({ next: 'watch' });
  });

  it('a vehicle outranks a fault; a fault alone fails the close', () => {
    expect(s({ arm_state: 'closing', loop_occupied: true, fault_code: 1 })).toMatchObject({
      next: 'reverse',
    });
    expect(s({ arm_state: 'stopped', fault_code: 3, ...clear })).toEqual({
      next: 'fail',
      failure: 'barrier-fault:3',
    });
  });

  it('a barrier without sensors takes its lane’s', () => {
    expect(mergeLane({ arm_state: 'closing' }, [clear, { loop_occupied: true }])).toEqual({
      arm_state: 'closing',
      loop_occupied: true,
      photo_eye_blocked: false,
    });
    expect(mergeLane({ arm_state: 'closing', loop_occupied: false }, [])).toEqual({
      arm_state: 'closing',
      loop_occupied: false,
    });
  });
});
