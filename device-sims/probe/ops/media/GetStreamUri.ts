import type { Operation } from '../types.ts';
import { mediaUriXml, requestedProfile } from './profiles.ts';

/** Every transport (UDP, HTTP, RTSP) is served by the one RTSP URL, as most cameras do. */
export const GetStreamUri: Operation = {
  access: 'user',
  handle: ({ cam, req }) =>
    `<trt:GetStreamUriResponse>${mediaUriXml(cam.urls.rtsp(requestedProfile(req.body).token))}</trt:GetStreamUriResponse>`,
};
