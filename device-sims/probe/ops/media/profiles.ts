import { faults } from '../../soap/envelope.ts';
import { at, esc, text } from '../../soap/xml.ts';

export interface StreamProfile {
  token: string;
  name: string;
  encoderToken: string;
  width: number;
  height: number;
  fps: number;
  kbps: number;
  quality: number;
  gov: number;
  /** Path on the RTSP server, like Hikvision's channel numbering. */
  rtspPath: string;
}

export const SENSOR = { width: 1920, height: 1080, fps: 25 } as const;
export const VIDEO_SOURCE_TOKEN = 'VideoSource_1';
export const VIDEO_SOURCE_CONFIG_TOKEN = 'VideoSourceConfig_1';

export const PROFILES: readonly StreamProfile[] = [
  {
    token: 'Profile_1',
    name: 'mainStream',
    encoderToken: 'VideoEncoderConfig_1',
    width: 1920,
    height: 1080,
    fps: 25,
    kbps: 4096,
    quality: 5,
    gov: 50,
    rtspPath: '/Streaming/Channels/101',
  },
  {
    token: 'Profile_2',
    name: 'subStream',
    encoderToken: 'VideoEncoderConfig_2',
    width: 640,
    height: 360,
    fps: 15,
    kbps: 512,
    quality: 3,
    gov: 30,
    rtspPath: '/Streaming/Channels/102',
  },
];

export function profileByToken(token: string | undefined): StreamProfile {
  const p = PROFILES.find((x) => x.token === token);
  if (!p) throw faults.noProfile(token ?? '');
  return p;
}

/** The profile named by a request's ProfileToken element. */
export function requestedProfile(body: unknown): StreamProfile {
  return profileByToken(text(at(body, 'ProfileToken')));
}

export function videoSourceConfigXml(): string {
  return `<tt:VideoSourceConfiguration token="${VIDEO_SOURCE_CONFIG_TOKEN}"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>${VIDEO_SOURCE_TOKEN}</tt:SourceToken><tt:Bounds x="0" y="0" width="${SENSOR.width}" height="${SENSOR.height}"/></tt:VideoSourceConfiguration>`;
}

export function videoEncoderConfigXml(p: StreamProfile): string {
  return `<tt:VideoEncoderConfiguration token="${p.encoderToken}"><tt:Name>${esc(p.encoderToken)}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution><tt:Quality>${p.quality}</tt:Quality><tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${p.kbps}</tt:BitrateLimit></tt:RateControl><tt:H264><tt:GovLength>${p.gov}</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264><tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>`;
}

export function profileXml(p: StreamProfile, tag: string): string {
  return `<${tag} token="${p.token}" fixed="true"><tt:Name>${esc(p.name)}</tt:Name>${videoSourceConfigXml()}${videoEncoderConfigXml(p)}</${tag}>`;
}

/** The tt:MediaUri block GetStreamUri and GetSnapshotUri share. */
export function mediaUriXml(uri: string): string {
  return `<trt:MediaUri><tt:Uri>${esc(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout></trt:MediaUri>`;
}
