import type { Operation } from '../types.ts';
import { relayOutputXml } from './relay.ts';

export const GetRelayOutputs: Operation = {
  access: 'user',
  handle: ({ cam }) =>
    `<tds:GetRelayOutputsResponse>${relayOutputXml(cam.state.relay, 'tds:RelayOutputs')}</tds:GetRelayOutputsResponse>`,
};
