import type { Operation } from '../types.ts';
import { esc } from '../../soap/xml.ts';

export const GetDeviceInformation: Operation = {
  access: 'user',
  handle: ({ cam }) => {
    const c = cam.state.config;
    return `<tds:GetDeviceInformationResponse><tds:Manufacturer>${esc(c.manufacturer)}</tds:Manufacturer><tds:Model>${esc(c.model)}</tds:Model><tds:FirmwareVersion>${esc(c.firmware)}</tds:FirmwareVersion><tds:SerialNumber>${esc(c.serial)}</tds:SerialNumber><tds:HardwareId>${esc(c.hardwareId)}</tds:HardwareId></tds:GetDeviceInformationResponse>`;
  },
};
