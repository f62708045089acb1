import type { Operation } from '../types.ts';
import { PROFILES, videoEncoderConfigXml } from './profiles.ts';

export const GetVideoEncoderConfigurations: Operation = {
  access: 'user',
  handle: () =>
    `<trt:GetVideoEncoderConfigurationsResponse>${PROFILES.map((p) => videoEncoderConfigXml(p).replace(/tt:VideoEncoderConfiguration\b/g, 'trt:Configurations')).join('')}</trt:GetVideoEncoderConfigurationsResponse>`,
};
