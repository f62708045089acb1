import { faults } from '../../soap/envelope.ts';
import { isoSeconds, parseTermination, text } from '../../soap/xml.ts';
import type { CameraState } from '../../state.ts';

/** Longest lifetime a client may ask for in one go. */
const MAX_TERMINATION_MS = 24 * 3_600_000;

/**
 * A requested termination (duration, or absolute time on the camera's clock) as a real
 * time, or undefined when not given.
 */
export function requestedTermination(node: unknown, state: CameraState): number | undefined {
  const raw = text(node);
  if (raw === undefined || raw === '') return undefined;
  const cameraMs = parseTermination(raw, state.nowMs());
  if (cameraMs === undefined) throw faults.invalidArg(`Unreadable termination time "${raw}"`);
  const realMs = cameraMs - state.skewS * 1000;
  if (realMs <= Date.now()) throw faults.invalidArg(`Termination time "${raw}" is in the past`);
  return Math.min(realMs, Date.now() + MAX_TERMINATION_MS);
}

/** wsnt:CurrentTime + wsnt:TerminationTime, on the camera's clock. */
export function timesXml(prefix: string, state: CameraState, terminationMs: number): string {
  const skew = state.skewS * 1000;
  return `<${prefix}:CurrentTime>${isoSeconds(state.nowMs())}</${prefix}:CurrentTime><${prefix}:TerminationTime>${isoSeconds(terminationMs + skew)}</${prefix}:TerminationTime>`;
}
