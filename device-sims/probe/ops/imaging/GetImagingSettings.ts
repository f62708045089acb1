import type { Operation } from '../types.ts';
import { requireVideoSource } from './settings.ts';

export const GetImagingSettings: Operation = {
  access: 'user',
  handle: ({ cam, req }) => {
    requireVideoSource(req.body);
    const s = cam.state;
    return `<timg:GetImagingSettingsResponse><timg:ImagingSettings><tt:Brightness>${s.imaging.brightness}</tt:Brightness><tt:ColorSaturation>${s.imaging.colorSaturation}</tt:ColorSaturation><tt:Contrast>${s.imaging.contrast}</tt:Contrast><tt:IrCutFilter>${s.irCut}</tt:IrCutFilter><tt:Sharpness>${s.imaging.sharpness}</tt:Sharpness><tt:Exposure><tt:Mode>AUTO</tt:Mode></tt:Exposure><tt:WhiteBalance><tt:Mode>AUTO</tt:Mode></tt:WhiteBalance></timg:ImagingSettings></timg:GetImagingSettingsResponse>`;
  },
};
