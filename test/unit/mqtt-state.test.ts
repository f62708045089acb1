import { expect, it } from 'vitest';
import type { HealthMessage, TelemetryMessage } from '../../gateway/core/bus.ts';
import { mergeState, sameState } from '../../gateway/sinks/mqtt/payloads.ts';
import { StateStore } from '../../gateway/core/state.ts';

// `<device>/state` is retained and published only when it changes: what counts as a change.
const device = { id: 'gate-1', kind: 'barrier' as const, site: 'north', lane: 'in' };
const tele = (fields: TelemetryMessage['fields'], time = 1): TelemetryMessage => ({
  type: 'telemetry',
  device,
  fields,
  time,
});
const health = (status: 'online' | 'degraded' | 'offline', reason?: string, time = 1): HealthMessage => ({
  type: 'health',
  device,
  health: { status, ...(reason ? { reason } : {}), since: '' } as HealthMessage['health'],
  errors: 0,
  time,
});

it('merges readings and health into one view, and tells a change from a repeat', () => {
  let s = mergeState(undefined, health('online'));
  expect(s).toMatchObject({ device: 'gate-1', site: 'north', lane: 'in', status: 'online' });
  expect(s.reason).toBeUndefined();
  s = mergeState(s, tele({ arm_state: 'closed', cycles: 4 }));
  expect(s.fields).toEqual({ arm_state: 'closed', cycles: 4 });

  // The same readings again, later: no change (the time is not part of it).
  expect(sameState(s, mergeState(s, tele({ arm_state: 'closed', cycles: 4 }, 99)))).toBe(true);
  // A value changed, a field added, health changed: each a change.
  expect(sameState(s, mergeState(s, tele({ cycles: 5 })))).toBe(false);
  expect(sameState(s, mergeState(s, tele({ loop_occupied: false })))).toBe(false);
  const degraded = mergeState(s, health('degraded', 'crc-error'));
  expect(sameState(s, degraded)).toBe(false);
  expect(degraded).toMatchObject({ status: 'degraded', reason: 'crc-error', fields: { cycles: 4 } });
  // Back online: the reason goes, the readings stay.
  const back = mergeState(degraded, health('online'));
  expect(back.reason).toBeUndefined();
  expect(sameState(s, back)).toBe(true);
  expect(sameState(undefined, s)).toBe(false);
});

it('a field the device has no valid reading of any more leaves the state, and that is a change', () => {
  const s = mergeState(
    mergeState(undefined, health('online')),
    tele({ arm_state: 'open', arm_angle_deg: 90 }),
  );
  const lost = mergeState(s, { ...tele({ arm_state: 'unknown' }), unknown: ['arm_angle_deg'] });
  expect(lost.fields).toEqual({ arm_state: 'unknown' });
  expect(sameState(s, lost)).toBe(false);
  // The state store the API and the interlocks read merges the same way.
  const store = new StateStore();
  store.register(device);
  store.handle(tele({ arm_state: 'open', arm_angle_deg: 90 }));
  store.handle({ ...tele({ arm_state: 'unknown' }), unknown: ['arm_angle_deg'] });
  expect(store.get('gate-1')!.fields).toEqual({ arm_state: 'unknown' });
});
