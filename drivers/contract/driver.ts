import type { Logger } from 'pino';
import type { BarrierFields, CanonicalFields, DeviceEvent, DeviceKind } from './canonical.ts';
import type { FeatureStatus, Health } from './health.ts';

/**
 * The one small interface every driver implements (cf. a Telegraf input plugin).
 * A driver knows its device and protocol only: nothing of MQTT, InfluxDB or HTTP.
 *
 * - `read()` returns canonical fields, or throws a DeviceError whose reason becomes health.
 * - Events that arrive unprompted (camera motion) go to `ctx.emit`.
 * - `execute()` writes a command to the device; confirmation is the command service's
 *   job, done by reading back sensed state.
 */
export interface Driver {
  readonly id: string;
  readonly kind: DeviceKind;
  connect(): Promise<void>;
  /** `urgent` reads (command confirmation) jump ahead of queued routine polls on a shared bus. */
  read(opts?: { urgent?: boolean }): Promise<ReadResult>;
  execute(command: DriverCommand, opts?: ExecuteOptions): Promise<unknown>;
  /**
   * Optional, barriers: a narrow read of what watching a moving arm needs (SENSE_FIELDS),
   * at the line's highest priority, as fast as the transport allows. Not a poll: nothing
   * is published. A barrier without its own sensors reads what it knows of its arm.
   */
  sense?(): Promise<BarrierFields>;
  /**
   * Optional, barriers: bring a closing arm back up now, the way the device's profile
   * declares its reversal (open, or stop then open), at the line's highest priority.
   * `onWritten` fires when the reversal's first write is with the device (as for execute).
   */
  reverse?(opts?: Pick<ExecuteOptions, 'onWritten'>): Promise<unknown>;
  /** The driver's own view of health, for what read() cannot tell (e.g. degraded reasons). */
  health(): Health | undefined;
  /**
   * Optional: what the device can do, by feature (a camera: imaging, events, snapshot,
   * stream, relay-outputs). `unsupported` is a feature the device lacks, not a fault.
   * Features not yet known are absent.
   */
  features?(): Record<string, FeatureStatus>;
  /**
   * Optional: what the device says about itself (board id, firmware, serial number),
   * read once at connect; absent until the device has answered.
   */
  info?(): Record<string, string> | undefined;
  /**
   * Optional: the picture the device took on its last poll, so that people looking at it
   * (a dozen crew phones) cost the camera nothing more than its own schedule.
   */
  latestSnapshot?(): DriverSnapshot | undefined;
  close(): Promise<void>;
}

/** A picture from a camera, as a driver hands it over. */
export interface DriverSnapshot {
  contentType: string;
  jpeg: Buffer;
  /** Mean luma, 0–255. */
  luma: number;
  /** How long the camera took to answer. */
  ms: number;
  /** When it was taken (ms since the epoch). */
  takenAt: number;
}

export interface ReadResult {
  fields: CanonicalFields;
  /**
   * Canonical fields the device has but reports no valid reading of right now (a
   * position register's "unknown" marker): what was last known of them no longer holds.
   */
  unknown?: string[];
  events?: DeviceEvent[];
  /** Health the reading itself implies (e.g. degraded: barrier-fault:3, clock-skew). */
  health?: Health;
}

/**
 * Every gate command, in one list: the API and MQTT schemas, device profiles and the
 * status page take it from here. A new action is one entry here plus its words in
 * BARRIER_ACTION_WORDS.
 */
export const BARRIER_ACTIONS = ['open', 'close', 'hold-open', 'release', 'stop', 'reset-fault'] as const;
export type BarrierAction = (typeof BARRIER_ACTIONS)[number];

/** How each action reads to a person (status page buttons, README). */
export const BARRIER_ACTION_WORDS: Record<BarrierAction, string> = {
  open: 'open the arm',
  close: 'close the arm (refused while a vehicle is on the loop or in the photo-eye)',
  'hold-open': 'open and keep open (for holdSeconds, or until release)',
  release: 'end a hold-open; the arm closes when the lane is clear',
  stop: 'stop the arm where it is',
  'reset-fault': 'clear a controller fault after the cause is fixed',
};

/** What a supervised read returns at least, where the device has it. */
export const SENSE_FIELDS = [
  'arm_state',
  'arm_angle_deg',
  'loop_occupied',
  'photo_eye_blocked',
  'fault_code',
] as const;

export interface ExecuteOptions {
  /**
   * Called with the device's lane sensors read just before the write, in the same bus
   * turn where the transport allows it (no other request between); throwing refuses the
   * command and nothing is written. The error thrown reaches the caller unchanged.
   */
  guard?: (sensed: BarrierFields) => void;
  /**
   * Called once the command's first write is with the device: the arm may move from here
   * on. `acknowledged` is false when the write went out and no answer came (it timed out,
   * or the link dropped while waiting): the driver then throws, but the device may have
   * carried the write out, so only reading it back tells.
   */
  onWritten?: (acknowledged: boolean) => void;
}

export type DriverCommand =
  { action: BarrierAction } | { action: 'set-ir-mode'; mode: 'on' | 'off' | 'auto' } | { action: 'snapshot' };

export interface DriverContext {
  log: Logger;
  /** Report an event that arrived without a read (pull-point message, trap). */
  emit(event: DeviceEvent): void;
  /** Where a driver may keep files (snapshots), under the gateway's data dir. */
  dataDir: string;
}
