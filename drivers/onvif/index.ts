import type { Driver, DriverContext } from '../contract/driver.ts';
import { resolveOnvifOptions, type OnvifDeviceOptionsInput } from './options.ts';
import { OnvifProbeDriver } from './probe-driver.ts';
import { OnvifRelayBarrierDriver } from './relay-driver.ts';

export { OnvifDeviceOptionsSchema, RelayOptionsSchema, resolveOnvifOptions } from './options.ts';
export type { OnvifDeviceOptions, OnvifDeviceOptionsInput, RelayOptions } from './options.ts';
export { OnvifProbeDriver } from './probe-driver.ts';
export { OnvifRelayBarrierDriver } from './relay-driver.ts';
export { discover, expandCidr, type DiscoveredDevice, type DiscoveryOptions } from './discovery.ts';
export type { Snapshot } from './snapshot.ts';

/**
 * Build an ONVIF driver from village config: kind 'probe' for a camera, 'barrier' for a
 * barrier wired to a camera's relay output (needs `relay`). Secrets arrive resolved.
 */
export function createOnvifDriver(
  id: string,
  kind: 'probe' | 'barrier',
  options: OnvifDeviceOptionsInput,
  ctx: DriverContext,
): Driver {
  const opts = resolveOnvifOptions(options);
  return kind === 'probe' ? new OnvifProbeDriver(id, opts, ctx) : new OnvifRelayBarrierDriver(id, opts, ctx);
}
