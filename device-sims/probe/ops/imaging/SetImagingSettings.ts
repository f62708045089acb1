import type { Operation } from '../types.ts';
import { faults } from '../../soap/envelope.ts';
import { at, text } from '../../soap/xml.ts';
import { level, requireVideoSource } from './settings.ts';

const IR_MODES = ['ON', 'OFF', 'AUTO'] as const;

export const SetImagingSettings: Operation = {
  access: 'user',
  handle: ({ cam, req }) => {
    requireVideoSource(req.body);
    const settings = at(req.body, 'ImagingSettings');
    if (!settings) throw faults.invalidArg('ImagingSettings is missing');
    const ir = text(at(settings, 'IrCutFilter'));
    if (ir !== undefined && !(IR_MODES as readonly string[]).includes(ir)) {
      throw faults.invalidArg(`IrCutFilter must be ON, OFF or AUTO, got "${ir}"`);
    }
    // validate everything before changing anything
    const next = {
      brightness: level(settings, 'Brightness'),
      colorSaturation: level(settings, 'ColorSaturation'),
      contrast: level(settings, 'Contrast'),
      sharpness: level(settings, 'Sharpness'),
    };
    for (const [k, v] of Object.entries(next)) {
      if (v !== undefined) cam.state.imaging[k as keyof typeof next] = v;
    }
    if (ir !== undefined) cam.state.setIrCut(ir as (typeof IR_MODES)[number]);
    return '<timg:SetImagingSettingsResponse/>';
  },
};
