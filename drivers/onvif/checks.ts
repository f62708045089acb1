import { DeviceError } from '../contract/errors.ts';
import type { HealthCheck, HealthReason, HealthStatus } from '../contract/health.ts';
import { isNotSupported } from './soap/client.ts';

/** The checks of one probe poll, each run on its own. */
export type CheckName = 'clock' | 'device' | 'media' | 'snapshot' | 'stream' | 'imaging' | 'ir' | 'events';

/** A check's outcome, plus whether it says the camera is unreachable rather than misbehaving. */
export interface CheckResult extends HealthCheck {
  offline?: boolean;
}

export type CheckResults = Partial<Record<CheckName, CheckResult>>;

/**
 * When several checks fail at once, health names the problem a crew should fix first:
 * unreachable (nothing else can be judged), then credentials (every authenticated check
 * fails with them), then the lost stream (the camera's main job), a dark night picture
 * (evidence unusable), a wrong clock (evidence mis-dated, the rest works), and last one
 * odd answer (the vaguest, often a firmware quirk). Reasons not listed rank last.
 */
export const PROBE_REASON_SEVERITY: readonly HealthReason[] = [
  'timeout',
  'connection-refused',
  'auth-failed',
  'stream-unreachable',
  'ir-fault',
  'clock-skew',
  'bad-response',
];

const rank = (r: HealthReason | undefined) => {
  const i = r === undefined ? -1 : PROBE_REASON_SEVERITY.indexOf(r);
  return i < 0 ? PROBE_REASON_SEVERITY.length : i;
};

export const OK: CheckResult = { status: 'ok' };

/** What a failed call says about its feature: lacking (unsupported) or broken (failed). */
export function outcomeOf(err: unknown): CheckResult {
  const detail = err instanceof Error ? err.message : String(err);
  if (isNotSupported(err)) return { status: 'unsupported', detail };
  if (err instanceof DeviceError) {
    return { status: 'failed', reason: err.reason, detail, offline: err.status === 'offline' };
  }
  return { status: 'failed', reason: 'bad-response', detail };
}

export interface Verdict {
  status: HealthStatus;
  reason?: HealthReason;
  detail?: string;
}

/** Checks against the configured device service: when they cannot reach it, the camera is offline. */
const REACHABILITY: readonly CheckName[] = ['clock', 'device'];

/**
 * One health from every check: the most serious failure names it; offline only when the
 * device service itself is unreachable or refuses the credentials (a snapshot URL that
 * times out while SOAP answers is a degraded camera). The detail lists every failure,
 * worst first, then what the camera lacks.
 */
export function verdict(results: CheckResults): Verdict {
  const entries = Object.entries(results) as [CheckName, CheckResult][];
  const failed = entries
    .filter(([, r]) => r.status === 'failed')
    .sort(([, a], [, b]) => rank(a.reason) - rank(b.reason));
  const lacking = entries.filter(([, r]) => r.status === 'unsupported').map(([n]) => n);
  const words = failed.map(([n, r]) => `${n}: ${r.detail ?? r.reason}`);
  if (lacking.length > 0) words.push(`not supported by the camera: ${lacking.join(', ')}`);
  const detail = words.length > 0 ? words.join('; ') : undefined;
  const worst = failed[0]?.[1];
  if (!worst) return { status: 'online', ...(detail ? { detail } : {}) };
  const unreachable = failed.some(([n, r]) => r.offline && REACHABILITY.includes(n));
  return {
    status: unreachable ? 'offline' : 'degraded',
    reason: worst.reason ?? 'bad-response',
    ...(detail ? { detail } : {}),
  };
}

/** The checks as the contract shows them (without the internal offline flag). */
export function publicChecks(results: CheckResults): Record<string, HealthCheck> {
  const out: Record<string, HealthCheck> = {};
  for (const [name, r] of Object.entries(results) as [CheckName, CheckResult][]) {
    out[name] = {
      status: r.status,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
    };
  }
  return out;
}
