import type { Logger } from 'pino';
import type { CanonicalFields, DeviceEvent, DeviceKind } from './canonical.ts';
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
  execute(command: DriverCommand): Promise<unknown>;
  /** The driver's own view of health, for what read() cannot tell (e.g. degraded reasons). */
  health(): Health | undefined;
  /**
   * Optional: what the device can do, by feature (a camera: imaging, events, snapshot,
   * stream, relay-outputs). `unsupported` is a feature the device lacks, not a fault.
   * Features not yet known are absent.
   */
  features?(): Record<string, FeatureStatus>;
  close(): Promise<void>;
}

export interface ReadResult {
  fields: CanonicalFields;
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

export type DriverCommand =
  { action: BarrierAction } | { action: 'set-ir-mode'; mode: 'on' | 'off' | 'auto' } | { action: 'snapshot' };

export interface DriverContext {
  log: Logger;
  /** Report an event that arrived without a read (pull-point message, trap). */
  emit(event: DeviceEvent): void;
  /** Where a driver may keep files (snapshots), under the gateway's data dir. */
  dataDir: string;
}
