import type { BarrierFields, DeviceEvent } from '../contract/canonical.ts';

/**
 * Events a barrier's registers imply, derived by comparing consecutive reads:
 * passages from counter deltas, tailgating when a cycle saw more passages than
 * openings, a forced arm when it left `closed` with no command and nobody on the loop,
 * and fault transitions. Polls may skip intermediate states; every rule works on
 * counters or on what changed between two reads, so a slow poll still counts right.
 */
export class BarrierEventTracker {
  private prev: BarrierFields | undefined;
  private lastOpenCommandAt = -Infinity;
  private cyclePassages = 0;
  private cycleOpenings = 0;

  constructor(
    private readonly faultNames: Record<string, string> = {},
    /** How long after an open/hold-open command an arm movement counts as commanded. */
    private readonly commandWindowMs = 15_000,
  ) {}

  commanded(action: string, now = Date.now()): void {
    if (action === 'open' || action === 'hold-open') this.lastOpenCommandAt = now;
  }

  update(f: BarrierFields, now = Date.now()): DeviceEvent[] {
    const prev = this.prev;
    this.prev = f;
    const events: DeviceEvent[] = [];
    const faultNow = f.fault_code ?? 0;
    const faultBefore = prev?.fault_code ?? 0;
    if (faultNow !== faultBefore) {
      if (faultBefore !== 0) {
        events.push({
          type: 'fault-cleared',
          detail: `fault ${faultBefore} cleared`,
          data: { code: faultBefore },
          time: now,
        });
      }
      if (faultNow !== 0) {
        const name = this.faultNames[String(faultNow)];
        events.push({
          type: 'fault',
          detail: `fault ${faultNow}${name ? ` (${name})` : ''}`,
          data: { code: faultNow },
          time: now,
        });
      }
    }
    if (!prev) return events;

    let passages = 0;
    for (const [field, type] of [
      ['vehicles_in', 'passage-in'],
      ['vehicles_out', 'passage-out'],
    ] as const) {
      const before = prev[field];
      const after = f[field];
      if (before === undefined || after === undefined || after <= before) continue; // reset or wrap: re-baseline
      const count = after - before;
      passages += count;
      events.push({
        type,
        detail: `${count} vehicle${count > 1 ? 's' : ''}`,
        data: { count, total: after },
        time: now,
      });
    }

    const wasClosed = prev.arm_state === 'closed';
    const isClosed = f.arm_state === 'closed';
    if (f.cycles !== undefined && prev.cycles !== undefined && f.cycles > prev.cycles) {
      this.cycleOpenings += f.cycles - prev.cycles;
    } else if (f.cycles === undefined && wasClosed && !isClosed) {
      this.cycleOpenings += 1;
    }
    this.cyclePassages += passages;
    if (isClosed) {
      if (this.cyclePassages > Math.max(1, this.cycleOpenings)) {
        events.push({
          type: 'tailgating',
          detail: `${this.cyclePassages} vehicles through ${this.cycleOpenings || 1} opening(s)`,
          data: { passages: this.cyclePassages, openings: this.cycleOpenings },
          time: now,
        });
      }
      this.cyclePassages = 0;
      this.cycleOpenings = 0;
    }

    if (
      wasClosed &&
      !isClosed &&
      f.arm_state !== 'unknown' &&
      !f.loop_occupied &&
      now - this.lastOpenCommandAt > this.commandWindowMs
    ) {
      events.push({
        type: 'forced-arm',
        detail: `arm ${f.arm_state} without a command${f.arm_angle_deg !== undefined ? ` at ${f.arm_angle_deg}°` : ''}`,
        data: { arm_state: f.arm_state ?? 'unknown' },
        time: now,
      });
    }
    return events;
  }
}
