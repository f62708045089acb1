import type { HealthReason, HealthStatus } from './health.ts';

/**
 * What kind of failure a driver reports. The gateway, not the driver, decides what
 * each means to its users (an HTTP status, a command failure reason, a config error).
 * - `device`: the device failed or answered wrongly; carries a health reason.
 * - `unsupported`: the device or driver cannot do what was asked.
 * - `rejected`: the device answered, and refused the command.
 * - `invalid-argument`: the caller asked for something malformed (a bad CIDR).
 * - `invalid-config`: device or bus options that cannot work.
 * - `profile-invalid` / `profile-not-found`: a device profile file.
 */
export type DriverErrorKind =
  | 'device'
  | 'unsupported'
  | 'rejected'
  | 'invalid-argument'
  | 'invalid-config'
  | 'profile-invalid'
  | 'profile-not-found';

export class DriverError extends Error {
  constructor(
    readonly kind: DriverErrorKind,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options);
    this.name = 'DriverError';
    this.details = options?.details;
  }
  readonly details: Record<string, unknown> | undefined;
}

/**
 * A device misbehaved. The scheduler turns it into health; `status` says whether the
 * device is unreachable (offline) or answering wrongly (degraded).
 */
export class DeviceError extends DriverError {
  constructor(
    readonly reason: HealthReason,
    message: string,
    readonly status: Exclude<HealthStatus, 'online'> = 'offline',
    options?: { cause?: unknown },
  ) {
    super('device', message, options);
    this.name = 'DeviceError';
  }
}

const unanswered = new WeakSet<DeviceError>();

/**
 * Mark a failure as coming after the request reached the device (no answer, a garbled
 * one, the link dropping while waiting): a write may then have been carried out.
 */
export function markWentOut<E extends DeviceError>(err: E): E {
  unanswered.add(err);
  return err;
}

/**
 * Whether this failure came after the request went out (see markWentOut). A refusal the
 * device answered, or a link that never opened, did not: nothing was done.
 */
export function wentOut(err: unknown): boolean {
  return err instanceof DeviceError && unanswered.has(err);
}

export function isDriverError(err: unknown): err is DriverError {
  return err instanceof DriverError;
}
