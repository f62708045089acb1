import type { Operation } from '../types.ts';
import { esc } from '../../soap/xml.ts';

export const GetHostname: Operation = {
  access: 'pre-auth',
  handle: ({ cam }) =>
    `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>${esc(cam.state.config.name.replace(/[^A-Za-z0-9-]/g, '-'))}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`,
};
