import { mkdirSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Bus, DeviceRef } from './core/bus.ts';
import type { DeviceEvent } from '../drivers/contract/canonical.ts';
import type { DeviceRegistry } from './core/registry.ts';
import { laneDevices } from './lanes.ts';

/** The `evidence` section of the village config, defaults filled by its schema. */
export interface EvidenceConfig {
  enabled: boolean;
  maxFiles: number;
  maxBytes: number;
}

const SNAPSHOT_TIMEOUT_MS = 3000;

interface SnapshotResult {
  jpeg: Buffer;
}

/**
 * Passage evidence: when a barrier reports a passage, the probe watching the same
 * lane takes a snapshot; it is kept on disk (bounded, oldest removed first) and the
 * passage event carries its file name. A probe that cannot answer in time costs the
 * event nothing but the reference.
 */
export class EvidenceKeeper {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly bus: Bus,
    private readonly dir: string,
    private readonly cfg: EvidenceConfig,
    private readonly log: Logger,
  ) {
    if (this.cfg.enabled) {
      mkdirSync(dir, { recursive: true });
      registry.eventHook = (ref, event) => this.onEvent(ref, event);
    }
  }

  private publish(ref: DeviceRef, event: DeviceEvent): void {
    this.bus.publish({ type: 'event', device: ref, event, time: event.time ?? Date.now() });
  }

  private onEvent(ref: DeviceRef, event: DeviceEvent): void {
    const probe =
      event.type === 'passage-in' || event.type === 'passage-out'
        ? laneDevices(this.registry, ref, 'probe')[0]
        : undefined;
    if (!probe) return this.publish(ref, event);
    const job = this.capture(
      ref,
      probe.ref.id,
      probe.driver.execute({ action: 'snapshot' }) as Promise<SnapshotResult>,
    )
      .then((file) =>
        this.publish(ref, { ...event, data: { ...event.data, snapshot: file, probe: probe.ref.id } }),
      )
      .catch((err: unknown) => {
        this.log.warn(
          { device: ref.id, probe: probe.ref.id, err: (err as Error).message },
          'passage snapshot failed',
        );
        this.publish(ref, { ...event, data: { ...event.data, snapshot_error: (err as Error).message } });
      });
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  private async capture(ref: DeviceRef, probeId: string, shot: Promise<SnapshotResult>): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no snapshot within ${SNAPSHOT_TIMEOUT_MS} ms`)),
        SNAPSHOT_TIMEOUT_MS,
      );
    });
    try {
      const { jpeg } = await Promise.race([shot, timeout]);
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}_${ref.id}_${probeId}.jpg`;
      writeFileSync(path.join(this.dir, name), jpeg);
      this.prune();
      return name;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Keep within maxFiles and maxBytes, removing the oldest first (names sort by time). */
  private prune(): void {
    const files = readdirSync(this.dir)
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .map((f) => ({ f, size: statSync(path.join(this.dir, f)).size }));
    let total = files.reduce((n, x) => n + x.size, 0);
    while (files.length > this.cfg.maxFiles || (total > this.cfg.maxBytes && files.length > 1)) {
      const old = files.shift()!;
      unlinkSync(path.join(this.dir, old.f));
      total -= old.size;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
