import type { Operation } from '../types.ts';
import { at, text } from '../../soap/xml.ts';
import { faults } from '../../soap/envelope.ts';
import { requireRelay } from './relay.ts';

export const SetRelayOutputState: Operation = {
  access: 'user',
  handle: ({ cam, req }) => {
    requireRelay(req.body, cam.state.relay);
    const state = text(at(req.body, 'LogicalState'));
    if (state !== 'active' && state !== 'inactive') {
      throw faults.invalidArg(`LogicalState must be active or inactive, got "${state ?? ''}"`);
    }
    cam.state.setRelayState(state);
    return '<tds:SetRelayOutputStateResponse/>';
  },
};
