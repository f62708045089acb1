import { defaultInfo, infoWords } from './about.ts';
import type { BarrierSim } from './barrier.ts';
import { COMMANDS, type CommandName } from './fields.ts';
import { emptyTables, layOut, type Tables } from './layout.ts';
import { registersOf, type SimProfile, type Table } from './profile.ts';

interface Trigger {
  action: CommandName;
  /** The profile's conditional close ("close if clear"). */
  ifClear?: boolean;
  type: 'coil' | 'holding';
  address: number;
  value: number | boolean;
  /** Register holding the sequence number that comes with this command, if any. */
  sequenceAt?: number;
}

/** A read the master made of one lane sensor: what it was answered, and when (performance.now()). */
interface SensorRead {
  value: boolean;
  at: number;
}

/**
 * One close this unit received, judged by what the master had read of the lane before
 * writing it: a close written after reading the lane occupied is the master's fault; one
 * written after reading it clear, onto a lane that is occupied by the time the write
 * arrives, is a race, with the read→write window measured here.
 */
export interface CloseRecord {
  at: string;
  accepted: boolean;
  conditional: boolean;
  /** What the last reads of the loop and the photo-eye before this write answered (undefined: never read). */
  readLoop?: boolean;
  readEye?: boolean;
  /** From the older of those two reads to this write, ms. */
  windowMs?: number;
  /** The arm when the close arrived: a close on an arm already down moves nothing. */
  armAtWrite: string;
  occupiedAtWrite: boolean;
  underArmAtWrite: boolean;
  race: boolean;
  /** The master's first read that answered the lane occupied after this close: arm angle then. */
  detectAngleDeg?: number;
  /** The first open or stop after this close, while the arm was not yet down: arm angle, and ms since detection. */
  reversalAngleDeg?: number;
  reversalMs?: number;
}

/** Closes kept per unit for GET /closes. */
const MAX_CLOSES = 20_000;

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
  readonly log: {
    action: CommandName;
    accepted: boolean;
    sequence?: number;
    at: string;
    /** Receive time in ms since the epoch, sub-millisecond (performance.timeOrigin + performance.now()). */
    atMs: number;
  }[] = [];
  /**
   * Every command ever received, for safety audits: how many per action, and how many
   * closes arrived (and how many were carried out) with a vehicle on the loop or in
   * the photo-eye.
   */
  readonly counts = {
    received: 0,
    accepted: 0,
    closesWhileOccupied: 0,
    closesExecutedWhileOccupied: 0,
    /** Closes written although the master's last read of the loop or the eye had answered occupied. */
    closesAfterReadingOccupied: 0,
    /** Closes written after reading the lane clear, onto a lane occupied by then. */
    races: 0,
  };
  readonly closes: CloseRecord[] = [];
  private readonly sensors: { loop?: Sensor; eye?: Sensor };
  private readonly lastRead: { loop?: SensorRead; eye?: SensorRead } = {};
  private current: { rec: CloseRecord; detectAt?: number } | undefined;

  constructor(
    readonly unit: number,
    readonly profile: SimProfile,
    readonly sim: BarrierSim,
    /** Device information by name (`--info serial=…`); what is not given is made up per unit. */
    info: Record<string, string> = {},
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
    const cond = profile.closeIfClear?.steps.find((st) => 'write' in st);
    if (cond && 'write' in cond) {
      const w = cond.write;
      for (let i = 0; i < w.values.length + (w.sequence ? 1 : 0); i++) this.valid[w.type].add(w.address + i);
      this.triggers.push({
        action: 'close',
        ifClear: true,
        type: w.type,
        address: w.address,
        value: w.values[0]!,
        sequenceAt: w.sequence ? w.address + w.values.length : undefined,
      });
    }
    if (profile.sequence) this.valid[profile.sequence.echo.type].add(profile.sequence.echo.address);
    for (const c of profile.identify ?? [])
      for (let i = 0; i < (c.count ?? 1); i++) this.valid[c.type].add(c.address + i);
    // Device information is fixed at the factory: laid out once, never by refresh().
    for (const d of profile.deviceInfo ?? []) {
      infoWords(d, info[d.name] ?? defaultInfo(d, unit)).forEach((w, i) => {
        this.valid[d.type].add(d.address + i);
        this.img[d.type].set(d.address + i, w);
      });
    }
    const where = (name: string) => profile.fields.find((f) => f.field === name);
    this.sensors = { loop: where('loop_occupied'), eye: where('photo_eye_blocked') };
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
    this.sawRead(type, address, count);
    return Array.from({ length: count }, (_, i) => this.img[type].get(address + i) ?? false);
  }

  readWords(type: 'input' | 'holding', address: number, count: number): number[] {
    this.refresh();
    this.sawRead(type, address, count);
    return Array.from({ length: count }, (_, i) => this.img[type].get(address + i) ?? 0);
  }

  write(type: 'coil' | 'holding', address: number, values: (number | boolean)[]): void {
    const atMs = performance.timeOrigin + performance.now();
    values.forEach((v, i) => (this.img[type] as Map<number, number | boolean>).set(address + i, v));
    for (const t of this.triggers) {
      if (t.type !== type || t.address < address || t.address >= address + values.length) continue;
      if (values[t.address - address] !== t.value) continue;
      this.sim.tick();
      const occupied = this.sim.loopOccupied || this.sim.photoEyeBlocked;
      const underArm = this.sim.underArm;
      const arm = this.sim.state;
      const armDown = arm === 'closed';
      const accepted = this.sim.command(t.action, Date.now(), { ifClear: t.ifClear === true });
      this.counts.received++;
      if (accepted) this.counts.accepted++;
      if (t.action === 'close' && occupied) {
        this.counts.closesWhileOccupied++;
        if (accepted) this.counts.closesExecutedWhileOccupied++;
      }
      if (t.action === 'close') this.sawClose(accepted, arm, occupied, underArm, t.ifClear === true);
      else if (t.action === 'open' || t.action === 'stop') this.sawReversal(armDown);
      let sequence: number | undefined;
      if (t.sequenceAt !== undefined) {
        const s = this.img.holding.get(t.sequenceAt);
        // Echo only what came in this very write, and only for commands the controller took.
        if (s !== undefined && t.sequenceAt < address + values.length && accepted) this.echo = s;
        sequence = s;
      }
      this.log.push({
        action: t.action,
        accepted,
        sequence,
        at: new Date().toISOString(),
        atMs,
      });
      if (this.log.length > 50) this.log.shift();
    }
  }

  /** Remember what the master was told about the lane, and spot its first sight of a vehicle after a close. */
  private sawRead(type: Table, address: number, count: number): void {
    const at = performance.now();
    const covers = (f: Sensor | undefined) =>
      f !== undefined && f.type === type && f.address >= address && f.address < address + count;
    if (covers(this.sensors.loop)) this.lastRead.loop = { value: this.sim.loopOccupied, at };
    if (covers(this.sensors.eye)) this.lastRead.eye = { value: this.sim.photoEyeBlocked, at };
    if (this.current && this.sim.state === 'closed') this.current = undefined; // that close is over
    const c = this.current;
    const seen =
      (covers(this.sensors.loop) && this.sim.loopOccupied) ||
      (covers(this.sensors.eye) && this.sim.photoEyeBlocked);
    if (c && c.rec.accepted && seen && c.detectAt === undefined && this.sim.state !== 'closed') {
      c.detectAt = at;
      c.rec.detectAngleDeg = round(this.sim.angle);
    }
  }

  private sawClose(
    accepted: boolean,
    arm: string,
    occupied: boolean,
    underArm: boolean,
    conditional: boolean,
  ): void {
    const at = performance.now();
    const { loop, eye } = this.lastRead;
    const readOccupied = loop?.value === true || eye?.value === true;
    const reads = [loop?.at, eye?.at].filter((x): x is number => x !== undefined);
    const rec: CloseRecord = {
      at: new Date().toISOString(),
      accepted,
      conditional,
      ...(loop ? { readLoop: loop.value } : {}),
      ...(eye ? { readEye: eye.value } : {}),
      ...(reads.length ? { windowMs: round(at - Math.min(...reads), 3) } : {}),
      armAtWrite: arm,
      occupiedAtWrite: occupied,
      underArmAtWrite: underArm,
      race: !readOccupied && occupied,
    };
    if (readOccupied) this.counts.closesAfterReadingOccupied++;
    if (rec.race) this.counts.races++;
    this.closes.push(rec);
    if (this.closes.length > MAX_CLOSES) this.closes.shift();
    this.current = { rec };
  }

  private sawReversal(armDown: boolean): void {
    const c = this.current;
    this.current = undefined;
    if (!c || !c.rec.accepted || armDown) return;
    c.rec.reversalAngleDeg = round(this.sim.angle);
    if (c.detectAt !== undefined) c.rec.reversalMs = round(performance.now() - c.detectAt, 3);
  }
}

type Sensor = SimProfile['fields'][number];
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
