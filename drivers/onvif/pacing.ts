import http from 'node:http';

/**
 * Every loop against a camera (pulls, renewals, re-subscriptions, rediscovery) paces
 * itself with these: a camera that answers at once, or fails at once, must not turn a
 * loop into a spin.
 */

/** How long what a camera said it lacks is believed before asking again (or until it reconnects). */
export const REPROBE_MS = 10 * 60_000;

/** Exponential back-off with jitter: floor, ×2 per failure, ceiling. */
export class Backoff {
  private failures = 0;

  constructor(
    readonly floorMs: number,
    readonly ceilingMs: number,
  ) {}

  /** The wait before the next try after one more failure. */
  next(): number {
    const base = Math.min(this.ceilingMs, this.floorMs * 2 ** this.failures);
    this.failures++;
    // Half fixed, half random: devices restarting together do not retry in step.
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  get consecutive(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}

/** A sleep that ends early when `signal` aborts (stop, or "try now"). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/**
 * Connections to one camera: kept alive (a poll every second costs no handshakes) and
 * bounded (a slow camera queues requests rather than collecting sockets). Idle sockets
 * close after 4 s, under the 5 s keep-alive of common camera web servers; a reused socket
 * the camera closed anyway is retried once (see digest.ts).
 */
export function cameraAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 4000 });
}
