import type { Operation } from '../types.ts';
import { PROFILES, profileXml } from './profiles.ts';

export const GetProfiles: Operation = {
  access: 'user',
  handle: () =>
    `<trt:GetProfilesResponse>${PROFILES.map((p) => profileXml(p, 'trt:Profiles')).join('')}</trt:GetProfilesResponse>`,
};
