import type { Operation } from '../types.ts';
import { SENSOR, VIDEO_SOURCE_TOKEN } from './profiles.ts';

export const GetVideoSources: Operation = {
  access: 'user',
  handle: ({ cam }) => {
    const s = cam.state;
    const ir = s.irCut;
    return `<trt:GetVideoSourcesResponse><trt:VideoSources token="${VIDEO_SOURCE_TOKEN}"><tt:Framerate>${SENSOR.fps}</tt:Framerate><tt:Resolution><tt:Width>${SENSOR.width}</tt:Width><tt:Height>${SENSOR.height}</tt:Height></tt:Resolution><tt:Imaging><tt:Brightness>${s.imaging.brightness}</tt:Brightness><tt:ColorSaturation>${s.imaging.colorSaturation}</tt:ColorSaturation><tt:Contrast>${s.imaging.contrast}</tt:Contrast><tt:IrCutFilter>${ir}</tt:IrCutFilter><tt:Sharpness>${s.imaging.sharpness}</tt:Sharpness></tt:Imaging></trt:VideoSources></trt:GetVideoSourcesResponse>`;
  },
};
