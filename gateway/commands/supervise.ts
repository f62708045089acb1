import type { BarrierFields } from '../../drivers/contract/canonical.ts';
import type { DeviceEntry } from '../core/registry.ts';
import { failureOf, type CommandFailure } from './failures.ts';
import { watchClose, type LaneSensor } from './rules.ts';

/**
 * Supervision reads follow each other back to back, but no closer than this: on a serial
 * line a read takes longer anyway (about 30 ms at 9600 baud: the line is the limit), while
 * on TCP it leaves the bus free between reads for the other units behind the same
 * endpoint and spares the controller hundreds of requests a second; at 100 reads a second
 * an arm coming down in 1.5 s travels under a degree between two of them.
 */
export const SUPERVISE_PERIOD_MS = 10;

/** Consecutive failed supervision reads tolerated (a CRC error on a noisy line) before the command fails. */
const MAX_READ_ERRORS = 3;

/** How one supervised close ended, with what the gateway measured; metrics and the audit take it. */
export interface SupervisionReport {
  device: string;
  outcome:
    'closed' | 'reversed' | 'reversal-failed' | 'tripped' | 'fault' | 'timeout' | 'refused' | 'read-error';
  /** Supervision reads made (each a read of the barrier and, for a barrier without sensors, of its lane). */
  reads: number;
  readErrors: number;
  /** From the first write's acknowledgement to the end of supervision. */
  durationMs: number;
  sensor?: LaneSensor;
  /** Arm angle in the reading that saw the vehicle, and in the first reading after the reversal. */
  detectAngleDeg?: number;
  reversalAngleDeg?: number;
  /** From the reading that saw the vehicle to the device's acknowledgement of the reversal's first write. */
  reversalMs?: number;
  /** The arm read closed while the lane read occupied: a reversal came too late, or none could. */
  closedOnVehicle?: boolean;
}

export type SupervisionEnd =
  | { end: 'confirmed'; last: BarrierFields }
  | { end: 'failed'; failure: CommandFailure; detail?: string }
  | { end: 'timeout'; last: BarrierFields | undefined }
  | { end: 'refused' };

const now = () => performance.now();
const angle = (s: BarrierFields | undefined) =>
  s?.arm_angle_deg === undefined ? undefined : Math.round(s.arm_angle_deg * 10) / 10;
const at = (s: BarrierFields | undefined) => (angle(s) === undefined ? '' : ` at ${angle(s)}°`);

/**
 * Watches one written close until the arm reads closed or the deadline passes: the
 * barrier (and, for a barrier without its own loop, the lane's sensor units) is read
 * back to back at the bus's supervision priority, and a vehicle while the arm may still
 * be coming down gets the profile's reversal at once. The gateway's watch backs up the
 * controller's own safety devices, never replaces them.
 */
export class CloseSupervisor {
  private reads = 0;
  private readErrors = 0;
  private readonly started = now();

  constructor(
    private readonly barrier: DeviceEntry,
    /** Barriers of the same lane whose sensors guard this one (empty when it has its own). */
    private readonly lane: readonly DeviceEntry[],
    private readonly deadline: number,
    /** Aborted when the controller refused the close: its arm will not move. */
    private readonly refused: AbortSignal,
  ) {}

  async run(): Promise<{ end: SupervisionEnd; report: SupervisionReport }> {
    try {
      return await this.watch();
    } catch (err) {
      const failure = failureOf(err);
      return this.done({ end: 'failed', failure, detail: (err as Error).message }, { outcome: 'read-error' });
    }
  }

  private async watch(): Promise<{ end: SupervisionEnd; report: SupervisionReport }> {
    let last: BarrierFields | undefined;
    for (let started = 0; ;) {
      if (this.refused.aborted) return this.done({ end: 'refused' }, { outcome: 'refused' });
      const wait = started + SUPERVISE_PERIOD_MS - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      started = now();
      const s = await this.sense();
      if (!s) continue;
      last = s;
      const watch = watchClose(s);
      if (watch.next === 'confirm') {
        const onVehicle = s.loop_occupied === true || s.photo_eye_blocked === true;
        return this.done({ end: 'confirmed', last: s }, { outcome: 'closed', closedOnVehicle: onVehicle });
      }
      if (watch.next === 'reverse') return this.reverse(s, watch.sensor);
      if (watch.next === 'fail' && watch.failure.startsWith('interlock-tripped:')) {
        const detail = `arm ${s.arm_state ?? '?'}${at(s)} with the lane occupied: the controller's own safety acted first`;
        const sensor = watch.failure.slice('interlock-tripped:'.length) as LaneSensor;
        return this.done(
          { end: 'failed', failure: watch.failure, detail },
          { outcome: 'tripped', sensor, detectAngleDeg: angle(s) },
        );
      }
      if (watch.next === 'fail')
        return this.done({ end: 'failed', failure: watch.failure }, { outcome: 'fault' });
      if (now() > this.deadline) return this.done({ end: 'timeout', last }, { outcome: 'timeout' });
    }
  }

  /** One supervised reading; undefined after a failed read that is still tolerated. */
  private async sense(): Promise<BarrierFields | undefined> {
    try {
      const [own, ...peers] = await Promise.all([this.barrier, ...this.lane].map(senseOf));
      this.reads++;
      this.readErrors = 0;
      return mergeLane(own!, peers);
    } catch (err) {
      if (++this.readErrors >= MAX_READ_ERRORS || now() > this.deadline) throw err;
      return undefined;
    }
  }

  private async reverse(
    seen: BarrierFields,
    sensor: LaneSensor,
  ): Promise<{ end: SupervisionEnd; report: SupervisionReport }> {
    const detectedAt = now();
    let writtenAt: number | undefined;
    let after: Promise<BarrierFields | undefined> | undefined;
    const drv = this.barrier.driver;
    const onWritten = () => {
      writtenAt = now();
      // Queued at once, ahead of the rest of the reversal (a pulse, an echo check).
      after = senseOf(this.barrier).catch(() => undefined);
    };
    const seenAs = `${sensor === 'loop-occupied' ? 'vehicle on the loop' : 'photo-eye blocked'} with the arm ${seen.arm_state ?? '?'}${at(seen)}`;
    try {
      if (drv.reverse) await drv.reverse({ onWritten });
      else await drv.execute({ action: 'open' }, { onWritten });
    } catch (err) {
      // The vehicle was seen and the reversal did not go through: say so, never "reversed".
      return this.done(
        {
          end: 'failed',
          failure: failureOf(err),
          detail: `${seenAs}; the reversal failed: ${(err as Error).message}`,
        },
        { outcome: 'reversal-failed', sensor, detectAngleDeg: angle(seen) },
      );
    }
    writtenAt ??= now();
    const atReversal = await (after ?? senseOf(this.barrier).catch(() => undefined));
    const ms = Math.round((writtenAt - detectedAt) * 100) / 100;
    return this.done(
      {
        end: 'failed',
        failure: `reversed:${sensor}`,
        detail:
          `${seenAs}; reversal acknowledged ${ms} ms later` +
          (angle(atReversal) === undefined ? '' : `, arm${at(atReversal)}`),
      },
      {
        outcome: 'reversed',
        sensor,
        detectAngleDeg: angle(seen),
        reversalAngleDeg: angle(atReversal),
        reversalMs: ms,
      },
    );
  }

  private done(
    end: SupervisionEnd,
    r: Omit<SupervisionReport, 'device' | 'reads' | 'readErrors' | 'durationMs'>,
  ): { end: SupervisionEnd; report: SupervisionReport } {
    const report: SupervisionReport = {
      device: this.barrier.ref.id,
      reads: this.reads,
      readErrors: this.readErrors,
      durationMs: Math.round((now() - this.started) * 100) / 100,
      ...r,
    };
    return { end, report };
  }
}

/** A supervised reading of one device: its narrow read where the driver has one, else a full urgent read. */
async function senseOf(e: DeviceEntry): Promise<BarrierFields> {
  if (e.driver.sense) return e.driver.sense();
  return (await e.poller.readNow(true)).fields as BarrierFields;
}

/** A barrier without its own loop takes any vehicle its lane's sensors see as its own. */
export function mergeLane(own: BarrierFields, lane: readonly BarrierFields[]): BarrierFields {
  if (lane.length === 0) return own;
  const merged = { ...own };
  for (const s of lane) {
    if (s.loop_occupied) merged.loop_occupied = true;
    if (s.photo_eye_blocked) merged.photo_eye_blocked = true;
    merged.loop_occupied ??= s.loop_occupied;
    merged.photo_eye_blocked ??= s.photo_eye_blocked;
  }
  return merged;
}

/** A reading of the lane's sensor units alone (the last look before a relay barrier's close). */
export async function senseLane(lane: readonly DeviceEntry[]): Promise<BarrierFields[]> {
  return Promise.all(lane.map(senseOf));
}

/** The report as audit data: flat, numbers rounded, absent values left out. */
export function auditData(r: SupervisionReport): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(r)) if (v !== undefined && k !== 'device') out[k] = v;
  return out;
}
