import type { Operation } from '../types.ts';
import { esc, text, at } from '../../soap/xml.ts';
import { NS } from '../../soap/envelope.ts';

const VERSION = '<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version>';

export const GetServices: Operation = {
  access: 'pre-auth',
  handle: ({ cam, req }) => {
    const withCaps = text(at(req.body, 'IncludeCapability')) === 'true';
    const u = cam.urls;
    const services: [string, string, string][] = [
      [
        NS.tds,
        u.device,
        '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false" NTP="0"/><tds:Security UsernameToken="true" HttpDigest="false" TLS1.2="false"/><tds:System DiscoveryResolve="false" DiscoveryBye="false" RemoteDiscovery="false" SystemBackup="false" SystemLogging="false" FirmwareUpgrade="false"/></tds:Capabilities>',
      ],
      [
        NS.trt,
        u.media,
        '<trt:Capabilities SnapshotUri="true" Rotation="false"><trt:ProfileCapabilities MaximumNumberOfProfiles="2"/><trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"/></trt:Capabilities>',
      ],
      [NS.timg, u.imaging, '<timg:Capabilities ImageStabilization="false"/>'],
      [
        NS.tev,
        u.events,
        '<tev:Capabilities WSSubscriptionPolicySupport="true" WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="0" MaxPullPoints="20"/>',
      ],
    ];
    const body = services
      .map(
        ([ns, xaddr, caps]) =>
          `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${esc(xaddr)}</tds:XAddr>${withCaps ? `<tds:Capabilities>${caps}</tds:Capabilities>` : ''}${VERSION}</tds:Service>`,
      )
      .join('');
    return `<tds:GetServicesResponse>${body}</tds:GetServicesResponse>`;
  },
};
