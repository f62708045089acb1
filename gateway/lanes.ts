import type { BarrierFields, DeviceKind } from '../drivers/contract/canonical.ts';
import type { DeviceRef } from './core/bus.ts';
import type { DeviceEntry, DeviceRegistry } from './core/registry.ts';

/**
 * A lane is a lane name within a site: the devices in it see the same vehicles (the
 * barrier's controller, the camera watching it, a second barrier on the same road).
 * Devices without a lane share it with no one.
 */
export function laneDevices(registry: DeviceRegistry, of: DeviceRef, kind: DeviceKind): DeviceEntry[] {
  if (!of.lane) return [];
  return registry
    .all()
    .filter(
      (e) => e.ref.id !== of.id && e.ref.kind === kind && e.ref.lane === of.lane && e.ref.site === of.site,
    );
}

/**
 * A barrier without its own loop (one wired to a camera's relay) is guarded by the
 * sensors of its lane: the other barriers' controllers in the lane are read now, and
 * any vehicle they sense counts as on this barrier's loop. A lane sensor that cannot be
 * read throws, so the caller fails the close: never close blind.
 */
export async function withLaneSensors(
  registry: DeviceRegistry,
  barrier: DeviceEntry,
  own: BarrierFields,
): Promise<BarrierFields> {
  if (own.loop_occupied !== undefined) return own;
  const merged = { ...own };
  for (const peer of laneDevices(registry, barrier.ref, 'barrier')) {
    const sensed = (await peer.poller.readNow(true)).fields as BarrierFields;
    if (sensed.loop_occupied) merged.loop_occupied = true;
    if (sensed.photo_eye_blocked) merged.photo_eye_blocked = true;
  }
  return merged;
}
