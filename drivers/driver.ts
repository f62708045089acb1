import type { Logger } from 'pino';
import type { CanonicalFields, DeviceEvent, DeviceKind } from '../gateway/core/canonical.ts';
import type { Health } from '../gateway/core/health.ts';

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
  close(): Promise<void>;
}

export interface ReadResult {
  fields: CanonicalFields;
  events?: DeviceEvent[];
  /** Health the reading itself implies (e.g. degraded: barrier-fault:3, clock-skew). */
  health?: Health;
}

export type BarrierAction = 'open' | 'close' | 'hold-open' | 'release' | 'stop' | 'reset-fault';

export type DriverCommand =
  { action: BarrierAction } | { action: 'set-ir-mode'; mode: 'on' | 'off' | 'auto' } | { action: 'snapshot' };

export interface DriverContext {
  log: Logger;
  /** Report an event that arrived without a read (pull-point message, trap). */
  emit(event: DeviceEvent): void;
  /** Where a driver may keep files (snapshots), under the gateway's data dir. */
  dataDir: string;
}
