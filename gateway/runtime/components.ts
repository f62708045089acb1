import type { Logger } from 'pino';

/** One part of a running gateway, as the composition root starts and stops it. */
export interface Component {
  readonly name: string;
  stop(): Promise<void> | void;
}

/**
 * What has been started, in order. `stop` ends them in reverse, so each part goes
 * down while what it depends on is still there; a part that fails to stop is logged
 * and the rest still stop.
 */
export class ComponentStack {
  private readonly started: Component[] = [];

  constructor(private readonly log: Logger) {}

  /** Start one part; once `start` resolved, it is stopped with the rest. */
  async add<T>(
    name: string,
    start: () => Promise<T> | T,
    stop: (value: T) => Promise<void> | void,
  ): Promise<T> {
    const value = await start();
    this.started.push({ name, stop: () => stop(value) });
    return value;
  }

  async stopAll(): Promise<void> {
    for (const c of this.started.splice(0).reverse()) {
      try {
        await c.stop();
      } catch (err) {
        this.log.warn({ err, component: c.name }, `${c.name}: stop failed`);
      }
    }
  }
}

/** A listen that fails on a taken port says which port and what to do. */
export function isAddressInUse(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
}
