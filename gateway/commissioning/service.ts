import path from 'node:path';
import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Document } from 'yaml';
import { checkDevice } from '../config/load.ts';
import type { DeviceConfig, DriverPlugin } from '../../drivers/contract/plugin.ts';
import type { DeviceRegistry } from '../core/registry.ts';
import { DeviceError } from '../../drivers/contract/errors.ts';
import { normalize } from '../core/normalizer.ts';
import { GatehouseError } from '../errors.ts';
import { ConfigStore, type Saved, type SavedChange } from './config-store.ts';
import { externalizeSecrets, type Externalized } from './typed-secrets.ts';
import { appendEntry, removeEntry, replaceEntry } from './yaml-edit.ts';
import { BusCommissioning } from './buses.ts';

export type { Saved };

export interface CommissioningTarget {
  testDevice(raw: Record<string, unknown>): Promise<TestOutcome>;
  saveDevice(raw: Record<string, unknown>): Promise<Saved>;
}

/** Changes to what is already there: devices and buses, live and in the file. */
export interface CommissioningChanges {
  changeDevice(id: string, raw: Record<string, unknown>): Promise<Saved>;
  removeDevice(id: string): Promise<Saved>;
  readonly buses: BusCommissioning;
}

export interface TestOutcome {
  ok: boolean;
  ms: number;
  fields?: Record<string, unknown>;
  reason?: string;
  detail?: string;
}

const TEST_TIMEOUT_MS = 10_000;
const NO_SECRET: Externalized = { stored: {}, undo: async () => undefined };

/**
 * Installer work on a running gateway: try a definition, add it, change or remove it,
 * with no restart. Every change is validated, written to the config file, and only then
 * made live: writing is what fails in the field (a read-only mount, a full disk), and a
 * refused write must leave no trace on MQTT or in InfluxDB of a device that never was.
 * Should the live step fail after the write, the file is put back. Changes run one at
 * a time, so the file and the registry never see two at once.
 */
export class Commissioning implements CommissioningTarget, CommissioningChanges {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly store: ConfigStore;
  readonly buses: BusCommissioning;

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly plugins: readonly DriverPlugin[],
    busMap: Map<string, Record<string, unknown>>,
    private readonly dataDir: string,
    configFile: string | undefined,
    private readonly log: Logger,
    private readonly hooks: {
      /** True while a gate command for the device is accepted or executing. */
      busy?(device: string): boolean;
      /** A device left the village: what others hold of it (retained MQTT topics) goes too. */
      removed?(device: string): void;
    } = {},
  ) {
    this.store = new ConfigStore(configFile, plugins);
    this.buses = new BusCommissioning(registry, plugins, busMap, this.store, log, (fn) => this.serial(fn));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Check a definition as the YAML would be checked. A typed-in password is held in
   * memory only: a test or a refused definition must leave no secret file behind.
   */
  private check(raw: Record<string, unknown>, replacing?: string): DeviceConfig {
    const { password, ...rest } = raw;
    const typed = typeof password === 'string';
    const ids = new Set(this.registry.all().map((e) => e.config.id));
    if (replacing) ids.delete(replacing);
    const config = checkDevice(typed ? rest : raw, this.plugins, {
      buses: this.buses.map,
      existingIds: ids,
      baseDir: this.store.baseDir,
    });
    return typed ? { ...config, password } : config;
  }

  async testDevice(raw: Record<string, unknown>): Promise<TestOutcome> {
    const config = this.check(raw);
    const plugin = this.plugins.find((p) => p.driver === config.driver)!;
    const log = this.log.child({ device: config.id, commissioning: true });
    const driver = plugin.create(config, {
      log,
      buses: this.buses.map,
      context: () => ({ log, emit: () => undefined, dataDir: path.join(this.dataDir, 'commissioning') }),
    });
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new DeviceError('timeout', `no answer within ${TEST_TIMEOUT_MS} ms`)),
          TEST_TIMEOUT_MS,
        );
      });
      await Promise.race([driver.connect(), timeout]);
      const result = await Promise.race([driver.read({ urgent: true }), timeout]);
      const ms = Math.round(performance.now() - started);
      const health = result.health;
      return {
        ok: !health || health.status === 'online',
        ms,
        fields: normalize(config.kind, result.fields as Record<string, unknown>).fields as Record<
          string,
          unknown
        >,
        ...(health?.reason ? { reason: health.reason } : {}),
        ...(health?.detail ? { detail: health.detail } : {}),
      };
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      if (err instanceof DeviceError) return { ok: false, ms, reason: err.reason, detail: err.message };
      throw err;
    } finally {
      clearTimeout(timer);
      await driver.close().catch(() => undefined);
    }
  }

  saveDevice(raw: Record<string, unknown>): Promise<Saved> {
    return this.serial(async () => {
      const checked = this.check(raw);
      const { saved, secret } = await this.save(raw, (doc, stored) => appendEntry(doc, 'devices', stored));
      const config = saved ? deviceIn(saved, checked.id) : checked;
      await this.live(saved, secret, () => this.start(config));
      this.log.info(
        { device: config.id, driver: config.driver },
        `device ${config.id} added by commissioning`,
      );
      return saved ? { id: config.id, savedTo: saved.file } : { id: config.id };
    });
  }

  changeDevice(id: string, raw: Record<string, unknown>): Promise<Saved> {
    return this.serial(async () => {
      const before = this.existing(id);
      if (raw.id !== undefined && raw.id !== id) {
        throw new GatehouseError('GH_API_BAD_REQUEST', {
          detail: `body.id "${String(raw.id)}" is not "${id}": to rename a device, remove it and add it again`,
        });
      }
      const def = { ...raw, id };
      const checked = this.check(def, id);
      const { saved, secret } = await this.save(def, (doc, stored) => {
        if (!replaceEntry(doc, 'devices', id, stored)) appendEntry(doc, 'devices', stored);
      });
      const config = saved ? deviceIn(saved, id) : checked;
      await this.registry.remove(id);
      await this.live(
        saved,
        secret,
        () => this.start(config),
        () => this.start(before.config),
      );
      this.log.info({ device: id, driver: config.driver }, `device ${id} changed by commissioning`);
      return saved ? { id, savedTo: saved.file } : { id };
    });
  }

  removeDevice(id: string): Promise<Saved> {
    return this.serial(async () => {
      this.existing(id);
      const saved = await this.store.change((doc) => removeEntry(doc, 'devices', id));
      await this.registry.remove(id);
      this.hooks.removed?.(id);
      // A password typed in at commissioning has no other user.
      await unlink(path.join(this.dataDir, 'secrets', `${id}.password`)).catch(() => undefined);
      this.log.info({ device: id }, `device ${id} removed by commissioning`);
      return saved ? { id, savedTo: saved.file } : { id };
    });
  }

  private existing(id: string) {
    const entry = this.registry.get(id);
    if (!entry) throw new GatehouseError('GH_DEVICE_NOT_FOUND', { device: id });
    if (this.hooks.busy?.(id)) throw new GatehouseError('GH_DEVICE_BUSY', { device: id });
    return entry;
  }

  private start(config: DeviceConfig): void {
    this.registry.add(config).poller.start();
  }

  /** Write a definition into the file (a typed password to its own file first). */
  private async save(
    raw: Record<string, unknown>,
    edit: (doc: Document, stored: Record<string, unknown>) => void,
  ): Promise<{ saved: SavedChange | undefined; secret: Externalized }> {
    if (!this.store.saving) return { saved: undefined, secret: NO_SECRET };
    const secret = await externalizeSecrets(raw, this.dataDir);
    try {
      return { saved: await this.store.change((doc) => edit(doc, secret.stored)), secret };
    } catch (err) {
      await secret.undo();
      throw err;
    }
  }

  /** Make a saved change live; if that fails, put the file (and the old device) back. */
  private async live(
    saved: SavedChange | undefined,
    secret: Externalized,
    apply: () => void,
    restore?: () => void,
  ): Promise<void> {
    try {
      apply();
    } catch (err) {
      this.log.error({ err }, 'a saved change could not be made live; the config file is put back');
      restore?.();
      await saved?.undo().catch((e: unknown) => this.log.error({ err: e }, 'config file not put back'));
      await secret.undo();
      throw err;
    }
  }
}

/** The device as the loader read it back from the saved file: what a restart would run. */
function deviceIn(saved: SavedChange, id: string): DeviceConfig {
  const found = saved.config.devices.find((d) => d.id === id);
  if (!found) throw new Error(`device ${id} is not in ${saved.file} after saving it`);
  return found;
}
