import { OK, outcomeOf, type CheckResult } from './checks.ts';
import { rewriteHost, type SoapClient } from './soap/client.ts';
import { all, attr, esc, pick, text } from './xml.ts';

/** What the media service tells of the first profile: where its stream and snapshot are. */
export interface MediaInfo {
  profileToken?: string;
  videoSourceToken?: string;
  streamUrl?: string;
  snapshotUrl?: string;
  media: CheckResult;
  stream?: CheckResult;
  snapshot?: CheckResult;
}

const STREAM_SETUP =
  '<trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>';

const uriOf = (body: unknown, op: string) => text(pick(body, `${op}Response`, 'MediaUri', 'Uri'))?.trim();

/**
 * GetProfiles, then the stream and snapshot URIs of the first profile, each on its own:
 * a camera without snapshots still streams. `snapshotUri: false` (advertised as absent)
 * skips the call.
 */
export async function learnMedia(
  client: SoapClient,
  url: string,
  o: { snapshotUri?: boolean | undefined; wantVideoSource: boolean },
): Promise<MediaInfo> {
  let profile: unknown;
  try {
    const body = await client.call('<trt:GetProfiles/>', { url });
    profile = all(pick(body, 'GetProfilesResponse'), 'Profiles')[0];
  } catch (err) {
    return { media: outcomeOf(err) };
  }
  const token = attr(profile, 'token');
  if (!token) return { media: { status: 'failed', reason: 'bad-response', detail: 'no media profile' } };
  const info: MediaInfo = { profileToken: token, media: OK };
  const source = text(pick(profile, 'VideoSourceConfiguration', 'SourceToken'))?.trim();
  if (source) info.videoSourceToken = source;
  const profileXml = `<trt:ProfileToken>${esc(token)}</trt:ProfileToken>`;

  try {
    const body = await client.call(`<trt:GetStreamUri>${STREAM_SETUP}${profileXml}</trt:GetStreamUri>`, {
      url,
    });
    const uri = uriOf(body, 'GetStreamUri');
    if (uri) {
      info.streamUrl = rewriteHost(uri, client.opts.url, true);
      info.stream = OK;
    } else info.stream = { status: 'failed', reason: 'bad-response', detail: 'GetStreamUri without a Uri' };
  } catch (err) {
    info.stream = outcomeOf(err);
  }

  if (o.snapshotUri === false) {
    info.snapshot = { status: 'unsupported', detail: 'the media service advertises no snapshot URI' };
  } else {
    try {
      const body = await client.call(`<trt:GetSnapshotUri>${profileXml}</trt:GetSnapshotUri>`, { url });
      const uri = uriOf(body, 'GetSnapshotUri');
      if (uri) {
        info.snapshotUrl = rewriteHost(uri, client.opts.url);
        info.snapshot = OK;
      } else info.snapshot = { status: 'unsupported', detail: 'GetSnapshotUri answered no Uri' };
    } catch (err) {
      info.snapshot = outcomeOf(err);
    }
  }

  if (!info.videoSourceToken && o.wantVideoSource) {
    // Imaging wants the VideoSource token; profiles without a source configuration leave
    // GetVideoSources to name it.
    try {
      const vs = await client.call('<trt:GetVideoSources/>', { url });
      const t = attr(pick(vs, 'GetVideoSourcesResponse', 'VideoSources'), 'token');
      if (t) info.videoSourceToken = t;
    } catch {
      // imaging then reports what it lacks
    }
  }
  return info;
}
