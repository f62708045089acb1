import type { ArmState, BarrierFields, CommandName } from './fields.ts';

/**
 * One simulated barrier: arm physics, the loop detector and photo-eye driven by a
 * traffic model, counters, analog readings and injected faults. Time is integrated
 * in tick(now), so results do not depend on how often something reads the registers.
 */
export const FAULTS = [
  'motor-overcurrent',
  'encoder-fault',
  'arm-knocked-off',
  'power-loss',
  'crc-corruption',
  'slow-response',
  'wrong-unit',
  'forced-open',
  'lost-write-answer',
] as const;
export type FaultName = (typeof FAULTS)[number];

/** Controller fault codes the barrier itself reports (the profiles name them). */
const FAULT_CODES: Partial<Record<FaultName, number>> = {
  'motor-overcurrent': 1,
  'encoder-fault': 2,
  'arm-knocked-off': 3,
};

export interface BarrierOptions {
  openMs: number;
  closeMs: number;
  seed: number;
  traffic: 'off' | 'random' | 'scripted';
  ratePerMin: number;
  /** The controller opens by itself for a waiting car (ticket/ANPR accepted); default on with random traffic. */
  autoOpen?: boolean;
  /**
   * A controller without its own safety: it takes a close whatever its loop and photo-eye
   * say, and never reverses for a vehicle. Default off (the safe controller).
   */
  blind?: boolean;
  /** An impact: the arm coming down below this angle onto a vehicle under it (default 30°). */
  impactAngleDeg?: number;
}

const DEFAULT_IMPACT_ANGLE_DEG = 30;

interface Car {
  dir: 'in' | 'out';
  /** Follows the car ahead closely instead of waiting for its own opening. */
  tailgate: boolean;
  /** 'waiting' on the loop, then 'crossing' (loop then photo-eye), until `until`. */
  phase: 'queued' | 'waiting' | 'loop' | 'eye';
  until: number;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOOP_MS = 400;
const EYE_MS = 700;
const AUTO_OPEN_DELAY_MS = 800;
const MAX_QUEUE = 20;

export class BarrierSim {
  angle = 0;
  state: ArmState = 'closed';
  holdOpen = false;
  faultCode = 0;
  cycles = 0;
  vehiclesIn = 0;
  vehiclesOut = 0;
  /** Descents that reached below the impact angle with a vehicle under the arm (one per descent). */
  impacts = 0;
  private struckThisDescent = false;
  /** The arm is coming down because a command said so (not the controller's own auto-close). */
  private commandedClose = false;
  readonly faults = new Map<FaultName, { delayMs?: number }>();
  private cars: Car[] = [];
  private passagesSinceOpen = 0;
  private openSince = 0;
  private nextArrival = Infinity;
  private last: number;
  private readonly rand: () => number;
  private readonly born: number;

  constructor(
    readonly opts: BarrierOptions,
    now = Date.now(),
  ) {
    this.rand = mulberry32(opts.seed);
    this.last = this.born = now;
    this.setTraffic(opts.traffic, opts.ratePerMin, now);
  }

  setTraffic(mode: BarrierOptions['traffic'], ratePerMin = this.opts.ratePerMin, now = Date.now()): void {
    this.opts.traffic = mode;
    this.opts.ratePerMin = ratePerMin;
    this.nextArrival = mode === 'random' && ratePerMin > 0 ? now + this.interArrival() : Infinity;
  }

  private interArrival(): number {
    return (-Math.log(1 - this.rand()) * 60_000) / this.opts.ratePerMin;
  }

  get powered(): boolean {
    return !this.faults.has('power-loss');
  }

  get loopOccupied(): boolean {
    return this.cars.some((c) => c.phase === 'waiting' || c.phase === 'loop');
  }

  /** A vehicle under the arm: the controller's own safety never lowers the arm onto it. */
  get underArm(): boolean {
    return this.cars.some((c) => c.phase === 'loop' || c.phase === 'eye');
  }

  get photoEyeBlocked(): boolean {
    return this.cars.some((c) => c.phase === 'eye');
  }

  arrive(dir: 'in' | 'out', tailgate = false, now = Date.now()): void {
    if (this.cars.length < MAX_QUEUE) this.cars.push({ dir, tailgate, phase: 'queued', until: now });
  }

  setFault(fault: FaultName, active: boolean, delayMs?: number): void {
    if (active) this.faults.set(fault, { delayMs });
    else this.faults.delete(fault);
    const code = FAULT_CODES[fault];
    if (active && code !== undefined) {
      this.faultCode = code;
      if (this.state === 'opening' || this.state === 'closing') this.state = 'stopped';
    }
    if (fault === 'forced-open' && active) {
      this.state = 'open'; // lifted by hand: no motor, no cycle
      this.angle = 90;
    }
    if (fault === 'forced-open' && !active && this.state === 'open') this.state = 'closing';
  }

  /**
   * Apply a gate command the way a controller would; returns false when it refuses.
   * `ifClear`: a conditional close ("close if clear"), refused with a vehicle sensed even
   * by a controller that has no safety of its own.
   */
  command(action: CommandName, now = Date.now(), opts: { ifClear?: boolean } = {}): boolean {
    this.tick(now);
    const blocked = this.underArm;
    switch (action) {
      case 'reset-fault': {
        const stillActive = Object.entries(FAULT_CODES).some(([f]) => this.faults.has(f as FaultName));
        if (!stillActive) this.faultCode = 0;
        return !stillActive;
      }
      case 'stop':
        if (this.state === 'opening' || this.state === 'closing') this.state = 'stopped';
        return true;
      case 'open':
      case 'hold-open':
        if (this.faultCode !== 0) return false;
        if (action === 'hold-open') this.holdOpen = true;
        this.startOpening(now);
        return true;
      case 'release':
        this.holdOpen = false;
        return true;
      case 'close': {
        // The controller's own safety loop: no close with a vehicle on the loop or in the eye.
        const sensed = blocked || this.loopOccupied || this.photoEyeBlocked;
        if (this.faultCode !== 0 || (sensed && (!this.opts.blind || opts.ifClear))) return false;
        this.holdOpen = false;
        if (this.state !== 'closed') {
          this.state = 'closing';
          this.commandedClose = true;
        }
        return true;
      }
    }
  }

  /** Striking needs a vehicle under the arm (crossing the loop or in the eye); one waiting before it is not hit. */
  private countImpact(): void {
    const below = this.angle < (this.opts.impactAngleDeg ?? DEFAULT_IMPACT_ANGLE_DEG);
    if (below && this.underArm && !this.struckThisDescent) {
      this.impacts++;
      this.struckThisDescent = true;
    }
  }

  private startOpening(now: number): void {
    if (this.state === 'open' || this.state === 'opening') return;
    if (this.state === 'closed') {
      this.cycles++;
      this.passagesSinceOpen = 0;
    }
    this.state = 'opening';
    this.openSince = now;
  }

  tick(now = Date.now()): void {
    if (!this.powered) {
      this.last = now;
      return;
    }
    // Integrate in small steps so traffic and arm interact in order.
    while (this.last < now) {
      const dt = Math.min(20, now - this.last);
      this.last += dt;
      this.step(dt, this.last);
    }
  }

  private step(dt: number, now: number): void {
    if (now >= this.nextArrival) {
      this.arrive(this.rand() < 0.5 ? 'in' : 'out', this.rand() < 0.05, now);
      this.nextArrival = now + this.interArrival();
    }
    const blocked = () => this.underArm;
    if (this.state === 'opening') {
      this.angle = Math.min(90, this.angle + (90 * dt) / this.opts.openMs);
      if (this.angle >= 90) this.state = 'open';
    } else if (this.state === 'closing') {
      if (blocked() && !this.opts.blind)
        this.state = 'opening'; // safety reversal
      else {
        this.angle = Math.max(0, this.angle - (90 * dt) / this.opts.closeMs);
        this.countImpact();
        if (this.angle <= 0) this.state = 'closed';
      }
    }
    this.moveCars(now);
    // A commanded close also yields to a vehicle arriving on the loop (it refuses to start on one).
    const sensed = this.loopOccupied || this.photoEyeBlocked;
    if (this.state === 'closing' && this.commandedClose && sensed && !this.opts.blind) this.state = 'opening';
    if (this.state !== 'closing') {
      this.commandedClose = false;
      this.struckThisDescent = false;
    }
    const autoClose =
      this.state === 'open' &&
      !this.holdOpen &&
      !this.faults.has('forced-open') &&
      !blocked() &&
      (this.passagesSinceOpen > 0 || (this.cars.length === 0 && now - this.openSince > 20_000));
    if (autoClose) this.state = 'closing';
  }

  private moveCars(now: number): void {
    const head = this.cars[0];
    if (!head) return;
    if (head.phase === 'queued') {
      head.phase = 'waiting';
      head.until = now + AUTO_OPEN_DELAY_MS;
    }
    const autoOpen = this.opts.autoOpen ?? this.opts.traffic === 'random';
    if (head.phase === 'waiting') {
      const mayGo = this.holdOpen || this.passagesSinceOpen === 0 || head.tailgate;
      if (this.state === 'open' && mayGo) {
        head.phase = 'loop';
        head.until = now + LOOP_MS;
      } else if (autoOpen && this.state === 'closed' && now >= head.until && this.faultCode === 0) {
        this.startOpening(now);
      }
    }
    if (head.phase === 'loop' && now >= head.until) {
      head.phase = 'eye';
      head.until = now + EYE_MS;
      const follower = this.cars[1];
      if (follower?.tailgate && this.state !== 'closed') {
        follower.phase = 'loop'; // right behind: no wait for its own opening
        follower.until = now + LOOP_MS;
      }
    }
    if (head.phase === 'eye' && now >= head.until) {
      this.cars.shift();
      if (head.dir === 'in') this.vehiclesIn++;
      else this.vehiclesOut++;
      this.passagesSinceOpen++;
    }
  }

  /** The barrier's own view, in canonical units, before any vendor register encoding. */
  fields(now = Date.now()): BarrierFields {
    const t = (now - this.born) / 1000;
    const moving = this.state === 'opening' || this.state === 'closing';
    const noise = (a: number) => (this.rand() - 0.5) * a;
    const encoderBad = this.faults.has('encoder-fault');
    const knocked = this.faults.has('arm-knocked-off');
    return {
      arm_state: encoderBad || knocked ? 'unknown' : this.state,
      arm_angle_deg: encoderBad ? -1 : knocked ? 0 : Math.round(this.angle * 10) / 10,
      loop_occupied: this.loopOccupied,
      photo_eye_blocked: this.photoEyeBlocked,
      hold_open: this.holdOpen,
      fault_code: this.faultCode,
      cycles: this.cycles,
      vehicles_in: this.vehiclesIn,
      vehicles_out: this.vehiclesOut,
      motor_current_a: this.faults.has('motor-overcurrent')
        ? 9.2 + noise(0.2)
        : moving
          ? 2.4 + noise(0.3)
          : 0.08 + noise(0.02),
      cabinet_temp_c: 24 + 4 * Math.sin(t / 600) + noise(0.2),
      supply_v: 24.1 + noise(0.3),
    };
  }

  snapshot(now = Date.now()) {
    this.tick(now);
    return {
      ...this.fields(now),
      powered: this.powered,
      faults: Object.fromEntries(this.faults),
      blind: this.opts.blind === true,
      impacts: this.impacts,
      queue: this.cars.map((c) => `${c.dir}:${c.phase}${c.tailgate ? ':tailgate' : ''}`),
      traffic: this.opts.traffic,
    };
  }
}
