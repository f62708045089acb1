import type { IrMode } from '../contract/canonical.ts';
import type { SoapClient } from './soap/client.ts';
import { esc, pick, text } from './xml.ts';

/**
 * ONVIF IrCutFilter ON means the IR-cut filter is in front of the sensor: day mode, IR
 * illumination off. Our ir_mode speaks of the IR night mode, hence the inversion.
 */
const IR_TO_CUT: Record<IrMode, string> = { on: 'OFF', off: 'ON', auto: 'AUTO' };

export function irModeFromCutFilter(v: string | undefined): IrMode | undefined {
  const u = v?.trim().toUpperCase();
  return u === 'OFF' ? 'on' : u === 'ON' ? 'off' : u === 'AUTO' ? 'auto' : undefined;
}

export interface ImagingTarget {
  url: string;
  videoSourceToken: string;
}

export async function getIrMode(client: SoapClient, t: ImagingTarget): Promise<IrMode | undefined> {
  const body = await client.call(
    `<timg:GetImagingSettings><timg:VideoSourceToken>${esc(t.videoSourceToken)}</timg:VideoSourceToken></timg:GetImagingSettings>`,
    { url: t.url },
  );
  return irModeFromCutFilter(
    text(pick(body, 'GetImagingSettingsResponse', 'ImagingSettings', 'IrCutFilter')),
  );
}

export async function setIrMode(client: SoapClient, t: ImagingTarget, mode: IrMode): Promise<void> {
  await client.call(
    `<timg:SetImagingSettings><timg:VideoSourceToken>${esc(t.videoSourceToken)}</timg:VideoSourceToken>` +
      `<timg:ImagingSettings><tt:IrCutFilter>${IR_TO_CUT[mode]}</tt:IrCutFilter></timg:ImagingSettings>` +
      `<timg:ForcePersistence>true</timg:ForcePersistence></timg:SetImagingSettings>`,
    { url: t.url },
  );
}
