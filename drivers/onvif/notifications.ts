import type { OnvifEventMessage } from './events.ts';

const TRUE_WORDS = /^(true|1|active|on|night|yes|dark)$/i;

/** Which canonical event a notification is, and its boolean state. */
export function classifyEvent(
  m: OnvifEventMessage,
): { type: 'motion' | 'tamper' | 'day-night' | 'relay'; on: boolean } | null {
  const values = Object.entries(m.data);
  const pickBool = (...names: string[]) => {
    const hit = values.find(([k]) => names.some((n) => k.toLowerCase() === n.toLowerCase())) ?? values[0];
    return hit ? TRUE_WORDS.test(hit[1]) : false;
  };
  const t = m.topic;
  if (/relay/i.test(t)) return { type: 'relay', on: pickBool('LogicalState', 'State') };
  if (/tamper|GlobalSceneChange/i.test(t))
    return { type: 'tamper', on: pickBool('IsTamper', 'State', 'Active') };
  if (/day.?night|ircut|night/i.test(t)) {
    // Some firmware reports "day" (true by day), others "IsNight"/"State" (true by night).
    const day = values.find(([k]) => /^(day|isday)$/i.test(k));
    return {
      type: 'day-night',
      on: day ? !TRUE_WORDS.test(day[1]) : pickBool('IsNight', 'Night', 'State', 'Mode'),
    };
  }
  if (/motion/i.test(t)) return { type: 'motion', on: pickBool('IsMotion', 'State', 'Motion', 'Active') };
  return null;
}
