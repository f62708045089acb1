import type { Operation } from '../types.ts';
import { esc } from '../../soap/xml.ts';
import type { CameraConfig } from '../../state.ts';

/**
 * Scope URIs, shared with WS-Discovery ProbeMatches. Spaces become "_" as the spec asks;
 * "/" keeps separating levels (location/country/town).
 */
export function scopeList(c: CameraConfig): { def: 'Fixed' | 'Configurable'; item: string }[] {
  const enc = (s: string) =>
    s
      .replace(/\s+/g, '_')
      .split('/')
      .map((seg) => encodeURIComponent(seg))
      .join('/');
  return [
    { def: 'Fixed', item: 'onvif://www.onvif.org/type/video_encoder' },
    { def: 'Fixed', item: 'onvif://www.onvif.org/type/NetworkVideoTransmitter' },
    { def: 'Fixed', item: 'onvif://www.onvif.org/Profile/Streaming' },
    { def: 'Fixed', item: 'onvif://www.onvif.org/Profile/T' },
    { def: 'Fixed', item: `onvif://www.onvif.org/hardware/${enc(c.model)}` },
    { def: 'Configurable', item: `onvif://www.onvif.org/name/${enc(c.name)}` },
    { def: 'Configurable', item: `onvif://www.onvif.org/location/${enc(c.location)}` },
  ];
}

export const GetScopes: Operation = {
  access: 'user',
  handle: ({ cam }) =>
    `<tds:GetScopesResponse>${scopeList(cam.state.config)
      .map(
        (s) =>
          `<tds:Scopes><tt:ScopeDef>${s.def}</tt:ScopeDef><tt:ScopeItem>${esc(s.item)}</tt:ScopeItem></tds:Scopes>`,
      )
      .join('')}</tds:GetScopesResponse>`,
};
