import type { Logger } from 'pino';
import { formatMessage } from '../errors.ts';
import { retryAfterS, WindowCounter } from '../limits/window.ts';
import { CONNACK, ConnectRefused } from './auth.ts';
import type { BrokerLimits } from './config.ts';

const BACKOFF_START_MS = 100;
const BACKOFF_MAX_MS = 3000;

/**
 * Failed CONNECTs per source address: each refusal is answered later than the one
 * before (100 ms, 200 ms, … up to 3 s), and past `failedConnects` within the window the
 * address is refused before its password is even checked, so guessing a password costs
 * time instead of CPU.
 */
export class LoginGuard {
  private readonly failures: WindowCounter;
  readonly counts = { connect_failures: 0, connects_rate_limited: 0 };

  constructor(
    limits: BrokerLimits,
    private readonly log: Logger,
  ) {
    this.failures = new WindowCounter(limits.failedConnects, limits.windowS * 1000);
  }

  /** Throws ConnectRefused (server unavailable) while the address is blocked. */
  check(peer: string | undefined, clientId: string): void {
    const ms = this.failures.blockedFor(peer ?? 'unknown');
    if (ms <= 0) return;
    this.counts.connects_rate_limited++;
    const message = formatMessage('GH_RATE_LIMITED', {
      what: `failed MQTT logins from ${peer ?? 'an unknown address'}`,
      retryAfterS: retryAfterS(ms),
    });
    this.log.warn({ code: 'GH_RATE_LIMITED', clientId, peer }, `mqtt login refused: ${message}`);
    throw new ConnectRefused(CONNACK.SERVER_UNAVAILABLE, message);
  }

  /** Count a failed login and hold its refusal back for the address's current back-off. */
  async failed(peer: string | undefined): Promise<void> {
    this.counts.connect_failures++;
    const n = this.failures.hit(peer ?? 'unknown');
    const delay = Math.min(BACKOFF_START_MS * 2 ** (n - 1), BACKOFF_MAX_MS);
    await new Promise((r) => setTimeout(r, delay));
  }
}
