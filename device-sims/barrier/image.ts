import type { BarrierSim } from './barrier.ts';
import { COMMANDS, type CommandName } from './fields.ts';
import { emptyTables, layOut, type Tables } from './layout.ts';
import { registersOf, type SimProfile, type Table } from './profile.ts';

interface Trigger {
  action: CommandName;
  type: 'coil' | 'holding';
  address: number;
  value: number | boolean;
  /** Register holding the sequence number that comes with this command, if any. */
  sequenceAt?: number;
}

/**
 * A unit's Modbus register space as its profile lays it out. Reads see the barrier's
 * current state laid out by the profile; writes that match the first write of a
 * profile command trigger that command (so any profile works without code), and a
 * sequence number written with it is echoed where the profile says.
 */
export class UnitImage {
  readonly img: Tables = emptyTables();
  private readonly valid: Record<Table, Set<number>> = {
    coil: new Set(),
    discrete: new Set(),
    input: new Set(),
    holding: new Set(),
  };
  private readonly triggers: Trigger[] = [];
  private echo = 0;
  /** Commands this unit accepted or refused, newest last (for the control interface). */
  readonly log: { action: CommandName; accepted: boolean; sequence?: number; at: string }[] = [];
  /**
   * Every command ever received, for safety audits: how many per action, and how many
   * closes arrived (and how many were carried out) with a vehicle on the loop or in
   * the photo-eye.
   */
  readonly counts = { received: 0, accepted: 0, closesWhileOccupied: 0, closesExecutedWhileOccupied: 0 };

  constructor(
    readonly unit: number,
    readonly profile: SimProfile,
    readonly sim: BarrierSim,
  ) {
    for (const f of profile.fields) {
      for (let i = 0; i < registersOf(f); i++) this.valid[f.type].add(f.address + i);
    }
    for (const action of COMMANDS) {
      const cmd = profile.commands[action];
      if (!cmd) continue;
      let first = true;
      for (const step of cmd.steps) {
        if (!('write' in step)) continue;
        const w = step.write;
        const len = w.values.length + (w.sequence ? 1 : 0);
        for (let i = 0; i < len; i++) this.valid[w.type].add(w.address + i);
        if (first) {
          this.triggers.push({
            action,
            type: w.type,
            address: w.address,
            value: w.values[0]!,
            sequenceAt: w.sequence ? w.address + w.values.length : undefined,
          });
        }
        first = false;
      }
    }
    if (profile.sequence) this.valid[profile.sequence.echo.type].add(profile.sequence.echo.address);
    this.refresh();
  }

  /** Lay the barrier's state into the register tables (called before every read). */
  refresh(now = Date.now()): void {
    this.sim.tick(now);
    layOut(this.profile, this.sim.fields(now), this.img);
    const echo = this.profile.sequence?.echo;
    if (echo) this.img[echo.type].set(echo.address, this.echo);
  }

  /** True when every address of [address, address+count) exists in this table. */
  has(type: Table, address: number, count: number): boolean {
    for (let a = address; a < address + count; a++) if (!this.valid[type].has(a)) return false;
    return true;
  }

  readBits(type: 'coil' | 'discrete', address: number, count: number): boolean[] {
    this.refresh();
    return Array.from({ length: count }, (_, i) => this.img[type].get(address + i) ?? false);
  }

  readWords(type: 'input' | 'holding', address: number, count: number): number[] {
    this.refresh();
    return Array.from({ length: count }, (_, i) => this.img[type].get(address + i) ?? 0);
  }

  write(type: 'coil' | 'holding', address: number, values: (number | boolean)[]): void {
    values.forEach((v, i) => (this.img[type] as Map<number, number | boolean>).set(address + i, v));
    for (const t of this.triggers) {
      if (t.type !== type || t.address < address || t.address >= address + values.length) continue;
      if (values[t.address - address] !== t.value) continue;
      const occupied = this.sim.loopOccupied || this.sim.photoEyeBlocked;
      const accepted = this.sim.command(t.action);
      this.counts.received++;
      if (accepted) this.counts.accepted++;
      if (t.action === 'close' && occupied) {
        this.counts.closesWhileOccupied++;
        if (accepted) this.counts.closesExecutedWhileOccupied++;
      }
      let sequence: number | undefined;
      if (t.sequenceAt !== undefined) {
        const s = this.img.holding.get(t.sequenceAt);
        // Echo only what came in this very write, and only for commands the controller took.
        if (s !== undefined && t.sequenceAt < address + values.length && accepted) this.echo = s;
        sequence = s;
      }
      this.log.push({ action: t.action, accepted, sequence, at: new Date().toISOString() });
      if (this.log.length > 50) this.log.shift();
    }
  }
}
