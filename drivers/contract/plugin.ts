import type { Static, TObject } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Driver, DriverContext } from './driver.ts';
import type { DeviceKind } from './canonical.ts';
import type { DeviceConfig } from './device.ts';

export type { DeviceConfig };

export interface PluginEnv {
  log: Logger;
  /** Buses from the config, by id (driver plugins that share lines use them). */
  buses: Map<string, Record<string, unknown>>;
  /** Per-device context for the driver (log, emit, data dir). */
  context(device: DeviceConfig): DriverContext;
  /** The embedded broker, for devices that speak MQTT themselves (subscribe in-process). */
  mqtt?: MqttAccess;
}

export interface MqttAccess {
  prefix: string;
  subscribe(
    filter: string,
    handler: (msg: { topic: string; payload: Buffer }) => void,
  ): Promise<() => Promise<void>>;
}

/**
 * How a driver family plugs into the gateway (cf. a Telegraf input plugin): a name,
 * the schema of its device options, and a factory. Adding a vendor of a supported
 * family is a profile file; adding a family is one plugin.
 */
export interface DriverPlugin<Options extends TObject = TObject> {
  driver: string;
  kinds: readonly DeviceKind[];
  /** Device keys beyond the common ones (bus, unit, profile, url…); the config is checked against it. */
  options: Options;
  /** Poll interval when the device names none. */
  defaultPollMs: number;
  /** Extra checks after the schema passed (a profile exists, a bus is of the right type). */
  check?(
    device: DeviceConfig<Static<Options>>,
    env: { buses: Map<string, Record<string, unknown>> },
  ): string | undefined;
  create(device: DeviceConfig<Static<Options>>, env: PluginEnv): Driver;
  /** Release what the plugin shares between devices (serial lines, sockets). */
  closeAll?(): Promise<void>;
  /** Release one shared line once its bus has left the config (no device uses it any more). */
  closeBus?(busId: string): Promise<void>;
  /**
   * Sweep a bus for answering units and tell, by each profile's signature, what each
   * one is. Goes through the same line polling uses, without starving it.
   */
  scan?(request: BusScan, env: Pick<PluginEnv, 'log' | 'buses'>): Promise<ScanHit[]>;
}

export interface ScanProgress {
  done: number;
  total: number;
  found: number;
}

export interface BusScan {
  bus: string;
  units: readonly number[];
  /** Wait per unit: short, since most addresses of a sweep are silent. */
  timeoutMs?: number;
  onProgress?(p: ScanProgress): void;
  signal?: AbortSignal;
}

export interface ScanHit {
  unit: number;
  /** Profiles whose signature the unit fits, best first; empty when none does. */
  profiles: string[];
  /** What was seen, in the installer's words (an exception, no known signature). */
  detail?: string;
  /** What the unit says about itself (firmware, serial number), where its profile says how to read it. */
  info?: Record<string, string>;
}
