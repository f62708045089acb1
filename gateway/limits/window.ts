/**
 * Counts events per key in fixed windows (an address's failed logins, a user's
 * commands). `peek` tells without counting, so a caller can refuse a blocked key
 * before doing the work (checking a password) that the limit protects.
 */
export class WindowCounter {
  private readonly windows = new Map<string, { count: number; start: number }>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    /** Keys kept at most; the oldest go first (an attacker cycling addresses cannot grow memory). */
    private readonly maxKeys = 10_000,
  ) {}

  /** Count one event; returns how many the key had in its window, this one included. */
  hit(key: string, now = Date.now()): number {
    const w = this.current(key, now);
    if (w) {
      w.count++;
      return w.count;
    }
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(key, { count: 1, start: now });
    return 1;
  }

  /** Milliseconds until the key may act again; 0 when it is under its limit. */
  blockedFor(key: string, now = Date.now()): number {
    const w = this.current(key, now);
    return w && w.count >= this.max ? w.start + this.windowMs - now : 0;
  }

  count(key: string, now = Date.now()): number {
    return this.current(key, now)?.count ?? 0;
  }

  private current(key: string, now: number): { count: number; start: number } | undefined {
    const w = this.windows.get(key);
    if (w && now - w.start >= this.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }
}

/** Whole seconds for Retry-After: never 0 while still blocked. */
export function retryAfterS(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
