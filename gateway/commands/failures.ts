import { Type, type Static, type TLiteral, type TUnsafe } from '@sinclair/typebox';

import { DeviceError, DriverError } from '../../drivers/contract/errors.ts';
import { HEALTH_REASONS, type HealthReason } from '../../drivers/contract/health.ts';

/**
 * Every reason a gate or device command can fail, in one table: the TypeScript type, the
 * API schema (so the OpenAPI document enumerates them) and the README list all come from
 * it. `title` is how people write a reason, `description` what happened and what to do.
 */
const reason = <const T extends string>(value: T, meaning: string) =>
  Type.Literal(value, { title: value, description: meaning });

/**
 * A reason that carries a value. The pattern must admit every value the code can put
 * there: the API serializer refuses a record whose failure matches no alternative.
 */
const family = <T extends string>(shownAs: string, pattern: string, meaning: string) =>
  Type.Unsafe<T>(Type.String({ pattern, title: shownAs, description: meaning }));

/** Fault codes are the controller's integers (a sign included, as health reasons allow). */
const FAULT_CODE = '-?[0-9]+';

export const COMMAND_FAILURES = [
  reason(
    'interlock:loop-occupied',
    'A vehicle is on the loop of this barrier or of its lane, so the gateway refused the command ' +
      'before writing anything. Send a new command once the lane is clear.',
  ),
  reason(
    'interlock:photo-eye-blocked',
    'The photo-eye is blocked, so the gateway refused the command before writing anything. ' +
      'Clear the beam (a vehicle, a person, dirt on the lens) and send a new command.',
  ),
  family<`interlock:barrier-fault:${number}`>(
    'interlock:barrier-fault:<code>',
    `^interlock:barrier-fault:${FAULT_CODE}$`,
    'The controller is in fault (the number is its fault code), so the gateway refused the command ' +
      'before writing anything; only reset-fault is allowed. Fix the cause on site, then send reset-fault.',
  ),
  reason(
    'reversed:loop-occupied',
    'The close was written, then a vehicle reached the loop before the arm was down: the gateway, watching ' +
      "the arm, sent the profile's reversal (open, or stop then open) at once. The audit holds the arm angle " +
      'when the vehicle was seen and after the reversal. Close again once the lane is clear.',
  ),
  reason(
    'reversed:photo-eye-blocked',
    'The close was written, then the photo-eye was blocked before the arm was down: the gateway, watching ' +
      "the arm, sent the profile's reversal (open, or stop then open) at once. The audit holds the arm angle " +
      'when the beam was broken and after the reversal. Close again once the lane is clear.',
  ),
  reason(
    'interlock-tripped:loop-occupied',
    "The close was written, then a vehicle reached the loop before the arm was down, and the controller's own " +
      'safety devices had already stopped the arm or were bringing it up, so the gateway sent nothing more. ' +
      'Close again once the lane is clear.',
  ),
  reason(
    'interlock-tripped:photo-eye-blocked',
    "The close was written, then the photo-eye was blocked before the arm was down, and the controller's own " +
      'safety devices had already stopped the arm or were bringing it up, so the gateway sent nothing more. ' +
      'Close again once the lane is clear.',
  ),
  family<`barrier-fault:${number}`>(
    'barrier-fault:<code>',
    `^barrier-fault:${FAULT_CODE}$`,
    'The controller went into fault while carrying out the command (the number is its fault code). ' +
      'Check the barrier on site, then send reset-fault.',
  ),
  reason(
    'timeout',
    "The command was written, but the barrier's sensed state did not confirm it within " +
      '`commands.confirmTimeoutMs`. ' +
      'The history shows the arm state last read; check the arm before sending another command.',
  ),
  reason(
    'rejected-by-controller',
    'The controller answered and refused the command, for example a reset-fault while the fault persists. ' +
      'Remove the cause, then send a new command.',
  ),
  reason(
    'unsupported',
    'This device or its driver cannot carry out this action. Use an action the device supports.',
  ),
  family<`device-error:${HealthReason}`>(
    'device-error:<health reason>',
    `^device-error:(${[...HEALTH_REASONS, `barrier-fault:${FAULT_CODE}`].join('|')})$`,
    'The device failed while the command was written or confirmed (no answer, a CRC error…); ' +
      "the health reason says which. Restore the device's health, then send a new command.",
  ),
  reason(
    'driver-error',
    "The driver failed in an unexpected way; the history holds its message. Report it with the gateway's log.",
  ),
  reason(
    'gateway-restarted',
    'The gateway stopped before the command finished, so its outcome is unknown. ' +
      "Read the barrier's state before sending a new command.",
  ),
] as const satisfies readonly (TLiteral<string> | TUnsafe<string>)[];

export const CommandFailureSchema = Type.Union([...COMMAND_FAILURES], {
  description: 'why the command failed; each alternative says what happened and what to do',
});
export type CommandFailure = Static<typeof CommandFailureSchema>;

/** The failure reason for what a driver threw: its error kind decides, never its message. */
export function failureOf(err: unknown): CommandFailure {
  if (err instanceof DeviceError) return `device-error:${err.reason}`;
  if (err instanceof DriverError && err.kind === 'rejected') return 'rejected-by-controller';
  if (err instanceof DriverError && err.kind === 'unsupported') return 'unsupported';
  return 'driver-error';
}
