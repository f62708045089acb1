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

/** A condition seen while confirming that means the action will not complete (a close is watched instead). */
export function aborted(action: BarrierAction, s: BarrierFields): CommandFailure | undefined {
  if (s.fault_code && action !== 'reset-fault') return `barrier-fault:${s.fault_code}`;
  return undefined;
}

export type LaneSensor = 'loop-occupied' | 'photo-eye-blocked';

/** What one supervised reading of a closing arm calls for. */
export type CloseWatch =
  | { next: 'confirm' }
  | { next: 'watch' }
  | { next: 'reverse'; sensor: LaneSensor }
  | { next: 'fail'; failure: CommandFailure };

/**
 * A close is watched until the arm is down. A vehicle while the arm may still be coming
 * down (closing, or a position the device cannot tell) means reverse now; an arm already
 * stopped or rising means the controller's own safety acted first; an arm still up has
 * not started down: keep watching, and reverse the moment it does.
 */
export function watchClose(s: BarrierFields): CloseWatch {
  if (s.arm_state === 'closed') return { next: 'confirm' };
  const sensor: LaneSensor | undefined = s.loop_occupied
    ? 'loop-occupied'
    : s.photo_eye_blocked
      ? 'photo-eye-blocked'
      : undefined;
  if (sensor) {
    if (s.arm_state === 'opening' || s.arm_state === 'stopped')
      return { next: 'fail', failure: `interlock-tripped:${sensor}` };
    if (s.arm_state !== 'open') return { next: 'reverse', sensor };
  }
  if (s.fault_code) return { next: 'fail', failure: `barrier-fault:${s.fault_code}` };
  return { next: 'watch' };
}
