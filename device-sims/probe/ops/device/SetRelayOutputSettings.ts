import type { Operation } from '../types.ts';
import { at } from '../../soap/xml.ts';
import { parseRelayProperties, requireRelay } from './relay.ts';

export const SetRelayOutputSettings: Operation = {
  access: 'user',
  handle: ({ cam, req }) => {
    const relay = requireRelay(req.body, cam.state.relay);
    Object.assign(relay, parseRelayProperties(at(req.body, 'Properties')));
    return '<tds:SetRelayOutputSettingsResponse/>';
  },
};
