import type { Operation } from '../types.ts';
import { mediaUriXml, requestedProfile } from './profiles.ts';

export const GetSnapshotUri: Operation = {
  access: 'user',
  handle: ({ cam, req }) =>
    `<trt:GetSnapshotUriResponse>${mediaUriXml(cam.urls.snapshot(requestedProfile(req.body).token))}</trt:GetSnapshotUriResponse>`,
};
