import { Type } from '@sinclair/typebox';
import type { DriverPlugin } from '../contract/plugin.ts';
import { createOnvifDriver } from './index.ts';
import { OnvifDeviceOptionsSchema, type OnvifDeviceOptionsInput } from './options.ts';

const options = Type.Omit(OnvifDeviceOptionsSchema, ['pollMs']);

function create(kind: 'probe' | 'barrier'): DriverPlugin<typeof options>['create'] {
  return (device, env) => {
    const { id: _id, kind: _kind, driver: _driver, name: _name, site: _site, lane: _lane, ...rest } = device;
    const input: OnvifDeviceOptionsInput = rest;
    return createOnvifDriver(device.id, kind, input, env.context(device));
  };
}

/** ONVIF cameras ("probes"). */
export function onvifPlugin(): DriverPlugin<typeof options> {
  return { driver: 'onvif', kinds: ['probe'], defaultPollMs: 5000, options, create: create('probe') };
}

/** A barrier wired to a camera's relay output, commanded through the camera. */
export function onvifRelayPlugin(): DriverPlugin<typeof options> {
  return {
    driver: 'onvif-relay',
    kinds: ['barrier'],
    defaultPollMs: 1000,
    options,
    check: (device) => (device.relay ? undefined : 'relay: an onvif-relay barrier needs relay: { token: … }'),
    create: create('barrier'),
  };
}
