import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { parseDocument } from 'yaml';
import { checkDevice } from '../config/load.ts';
import type { DeviceConfig, DriverPlugin } from '../../drivers/contract/plugin.ts';
import type { DeviceRegistry } from '../core/registry.ts';
import { DeviceError } from '../../drivers/contract/errors.ts';
import { normalize } from '../core/normalizer.ts';

export interface CommissioningTarget {
  testDevice(raw: Record<string, unknown>): Promise<TestOutcome>;
  saveDevice(raw: Record<string, unknown>): Promise<{ id: string; savedTo?: string }>;
}

export interface TestOutcome {
  ok: boolean;
  ms: number;
  fields?: Record<string, unknown>;
  reason?: string;
  detail?: string;
}

const TEST_TIMEOUT_MS = 10_000;

/** Installer work on a running gateway: try a device definition, then add it for good. */
export class Commissioning implements CommissioningTarget {
  constructor(
    private readonly registry: DeviceRegistry,
    private readonly plugins: readonly DriverPlugin[],
    private readonly buses: Map<string, Record<string, unknown>>,
    private readonly dataDir: string,
    private readonly configFile: string | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * Installers type a password into a form; it never goes into the YAML. A plain
   * password is written to a 0600 file under the data dir and referenced from there.
   */
  private externalizeSecrets(raw: Record<string, unknown>): Record<string, unknown> {
    const dev = { ...raw };
    if (
      typeof dev.password === 'string' &&
      typeof dev.id === 'string' &&
      /^[a-z0-9][a-z0-9_-]*$/.test(dev.id)
    ) {
      const dir = path.join(this.dataDir, 'secrets');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, `${dev.id}.password`);
      writeFileSync(file, dev.password, { mode: 0o600 });
      chmodSync(file, 0o600);
      dev.password = { file };
    }
    return dev;
  }

  /**
   * Check a definition as the YAML would be checked. A typed-in password is held in
   * memory only: a test or a refused definition must leave no secret file behind.
   */
  private check(raw: Record<string, unknown>): DeviceConfig {
    const { password, ...rest } = raw;
    const typed = typeof password === 'string';
    const config = checkDevice(typed ? rest : raw, this.plugins, {
      buses: this.buses,
      existingIds: new Set(this.registry.all().map((e) => e.config.id)),
      baseDir: this.configFile ? path.dirname(this.configFile) : process.cwd(),
    });
    return typed ? { ...config, password } : config;
  }

  async testDevice(raw: Record<string, unknown>): Promise<TestOutcome> {
    const config = this.check(raw);
    const plugin = this.plugins.find((p) => p.driver === config.driver)!;
    const log = this.log.child({ device: config.id, commissioning: true });
    const driver = plugin.create(config, {
      log,
      buses: this.buses,
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

  async saveDevice(raw: Record<string, unknown>): Promise<{ id: string; savedTo?: string }> {
    const config = this.check(raw);
    const stored = this.externalizeSecrets(raw);
    const entry = this.registry.add(config);
    entry.poller.start();
    this.log.info({ device: config.id, driver: config.driver }, `device ${config.id} added by commissioning`);
    if (!this.configFile || !existsSync(this.configFile)) return { id: config.id };
    // Edit the YAML as a document so the installer's comments and layout survive.
    const doc = parseDocument(readFileSync(this.configFile, 'utf8'));
    if (!doc.has('devices')) doc.set('devices', doc.createNode([]));
    (doc.get('devices') as { add(v: unknown): void }).add(doc.createNode(stored));
    writeFileSync(this.configFile, doc.toString());
    return { id: config.id, savedTo: this.configFile };
  }
}
