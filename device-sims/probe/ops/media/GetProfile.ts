import type { Operation } from '../types.ts';
import { profileXml, requestedProfile } from './profiles.ts';

export const GetProfile: Operation = {
  access: 'user',
  handle: ({ req }) =>
    `<trt:GetProfileResponse>${profileXml(requestedProfile(req.body), 'trt:Profile')}</trt:GetProfileResponse>`,
};
