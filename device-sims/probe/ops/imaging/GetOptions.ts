import type { Operation } from '../types.ts';
import { requireVideoSource } from './settings.ts';

const range = (tag: string) => `<tt:${tag}><tt:Min>0</tt:Min><tt:Max>100</tt:Max></tt:${tag}>`;

export const GetOptions: Operation = {
  access: 'user',
  handle: ({ req }) => {
    requireVideoSource(req.body);
    return `<timg:GetOptionsResponse><timg:ImagingOptions>${range('Brightness')}${range('ColorSaturation')}${range('Contrast')}<tt:IrCutFilterModes>ON</tt:IrCutFilterModes><tt:IrCutFilterModes>OFF</tt:IrCutFilterModes><tt:IrCutFilterModes>AUTO</tt:IrCutFilterModes>${range('Sharpness')}</timg:ImagingOptions></timg:GetOptionsResponse>`;
  },
};
