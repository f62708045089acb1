import { faults } from '../../soap/envelope.ts';
import { at, text } from '../../soap/xml.ts';
import { VIDEO_SOURCE_TOKEN } from '../media/profiles.ts';

export function requireVideoSource(body: unknown): void {
  const token = text(at(body, 'VideoSourceToken'));
  if (token !== VIDEO_SOURCE_TOKEN) {
    throw faults.invalidArg(
      `Unknown VideoSourceToken "${token ?? ''}" (this device has "${VIDEO_SOURCE_TOKEN}")`,
    );
  }
}

/** A 0..100 setting, or undefined when the request leaves it out. */
export function level(node: unknown, name: string): number | undefined {
  const raw = text(at(node, name));
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0 || v > 100)
    throw faults.invalidArg(`${name} must be 0..100, got "${raw}"`);
  return v;
}
