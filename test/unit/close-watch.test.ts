import { describe, expect, it } from 'vitest';
import type { BarrierFields } from '../../drivers/contract/canonical.ts';
import { watchClose } from '../../gateway/commands/rules.ts';
import { CloseSupervisor, mergeLane } from '../../gateway/commands/supervise.ts';
import type { DeviceEntry } from '../../gateway/core/registry.ts';
import { DeviceError } from '../../drivers/contract/errors.ts';

/** A barrier whose readings come from a script, one per supervision read. */
function scripted(readings: BarrierFields[], reverse: () => Promise<unknown>): DeviceEntry {
  let i = 0;
  const driver = {
    sense: async () => readings[Math.min(i++, readings.length - 1)]!,
    reverse: async (o: { onWritten?: () => void } = {}) => {
      const r = await reverse();
      o.onWritten?.();
      return r;
    },
  };
  return { ref: { id: 'b1', kind: 'barrier' }, driver } as unknown as DeviceEntry;
}
const watch = (e: DeviceEntry) =>
  new CloseSupervisor(e, [], performance.now() + 2000, new AbortController().signal).run();

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

  it('supervising: reads until the arm is down, and reports how many reads it took', async () => {
    const e = scripted(
      [
        { arm_state: 'closing', arm_angle_deg: 60, ...clear },
        { arm_state: 'closed', arm_angle_deg: 0, ...clear },
      ],
      async () => undefined,
    );
    const { end, report } = await watch(e);
    expect(end.end).toBe('confirmed');
    expect(report).toMatchObject({ outcome: 'closed', reads: 2, closedOnVehicle: false });
  });

  it('supervising: a vehicle gets the reversal, with the angles and the latency audited', async () => {
    const e = scripted(
      [
        { arm_state: 'closing', arm_angle_deg: 60, ...clear },
        { arm_state: 'closing', arm_angle_deg: 55, loop_occupied: true, photo_eye_blocked: false },
        { arm_state: 'opening', arm_angle_deg: 56, loop_occupied: true, photo_eye_blocked: false },
      ],
      async () => undefined,
    );
    const { end, report } = await watch(e);
    expect(end).toMatchObject({ end: 'failed', failure: 'reversed:loop-occupied' });
    expect(report).toMatchObject({ outcome: 'reversed', detectAngleDeg: 55, reversalAngleDeg: 56 });
    expect(report.reversalMs).toBeGreaterThanOrEqual(0);
  });

  it('supervising: a reversal that does not go through is never reported as one', async () => {
    const e = scripted([{ arm_state: 'closing', arm_angle_deg: 50, loop_occupied: true }], async () => {
      throw new DeviceError('timeout', 'no answer from unit 1 within 300 ms');
    });
    const { end, report } = await watch(e);
    expect(end).toMatchObject({ end: 'failed', failure: 'device-error:timeout' });
    expect(report).toMatchObject({ outcome: 'reversal-failed', sensor: 'loop-occupied', detectAngleDeg: 50 });
  });
});
