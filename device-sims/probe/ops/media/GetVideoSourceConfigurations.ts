import type { Operation } from '../types.ts';
import { videoSourceConfigXml } from './profiles.ts';

export const GetVideoSourceConfigurations: Operation = {
  access: 'user',
  handle: () =>
    `<trt:GetVideoSourceConfigurationsResponse>${videoSourceConfigXml().replace(/tt:VideoSourceConfiguration\b/g, 'trt:Configurations')}</trt:GetVideoSourceConfigurationsResponse>`,
};
