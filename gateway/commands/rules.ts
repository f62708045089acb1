import type { BarrierFields } from '../../drivers/contract/canonical.ts';
import type { BarrierAction } from '../../drivers/contract/driver.ts';
import type { CommandFailure } from './failures.ts';

/**
 * Interlocks: reasons a barrier must not be actuated now. Never bring an arm down on
 * a car (occupied loop, blocked photo-eye) and never drive a controller in fault.
 */
export function interlock(action: BarrierAction, s: BarrierFields): CommandFailure | undefined {
  if (s.fault_code && action !== 'reset-fault') return `interlock:barrier-fault:${s.fault_code}`;
  if (action === 'close' || action === 'release') {
    if (s.loop_occupied) return 'interlock:loop-occupied';
    if (s.photo_eye_blocked) return 'interlock:photo-eye-blocked';
  }
  return undefined;
}

/** Whether the sensed state shows the action done. */
export function confirmed(action: BarrierAction, s: BarrierFields): boolean {
  switch (action) {
    case 'open':
      return s.arm_state === 'open';
    case 'hold-open':
      return s.arm_state === 'open' && s.hold_open !== false;
    case 'close':
      return s.arm_state === 'closed';
    case 'release':
      return s.hold_open !== true;
    case 'stop':
      return s.arm_state === 'stopped' || s.arm_state === 'open' || s.arm_state === 'closed';
    case 'reset-fault':
      return !s.fault_code;
  }
}

/** A condition seen while confirming that means the action will not complete. */
export function aborted(action: BarrierAction, s: BarrierFields): CommandFailure | undefined {
  if (action === 'close' && (s.loop_occupied || s.photo_eye_blocked)) {
    return s.loop_occupied ? 'interlock-tripped:loop-occupied' : 'interlock-tripped:photo-eye-blocked';
  }
  if (s.fault_code && action !== 'reset-fault') return `barrier-fault:${s.fault_code}`;
  return undefined;
}
