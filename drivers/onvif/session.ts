import onvif from 'node-onvif';
import { DeviceError } from '../contract/errors.ts';
import type { OnvifDeviceOptions } from './options.ts';
import { rewriteHost, SoapClient } from './soap/client.ts';
import { attr, pick, text } from './xml.ts';

export interface OnvifEndpoints {
  media?: string;
  events?: string;
  imaging?: string;
  snapshotUrl?: string;
  streamUrl?: string;
  videoSourceToken?: string;
  model?: string;
}

/**
 * What both ONVIF drivers share: a signed SOAP client with clock compensation, and the
 * device's service addresses. GetCapabilities goes through our client (it classifies
 * auth and garbage precisely); media profiles and URIs through node-onvif.
 */
export class OnvifSession {
  readonly client: SoapClient;
  endpoints: OnvifEndpoints | undefined;

  constructor(readonly opts: OnvifDeviceOptions) {
    this.client = new SoapClient({
      url: opts.url,
      username: opts.username,
      password: opts.password,
      timeoutMs: opts.timeoutMs,
    });
  }

  /** Learn the service addresses once; later calls reuse them. */
  async discover({ media = true } = {}): Promise<OnvifEndpoints> {
    if (this.endpoints) return this.endpoints;
    await this.client.syncClock();
    const body = await this.client.call(
      '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>',
    );
    const caps = pick(body, 'GetCapabilitiesResponse', 'Capabilities');
    const xaddr = (svc: string) => {
      const a = text(pick(caps, svc, 'XAddr'));
      return a ? rewriteHost(a.trim(), this.opts.url) : undefined;
    };
    const ep: OnvifEndpoints = { media: xaddr('Media'), events: xaddr('Events'), imaging: xaddr('Imaging') };
    if (media && ep.media) {
      Object.assign(ep, await this.mediaUris());
      // Imaging wants the VideoSource token (not the configuration token node-onvif keeps).
      const vs = await this.client.call('<trt:GetVideoSources/>', { url: ep.media });
      const token = attr(pick(vs, 'GetVideoSourcesResponse', 'VideoSources'), 'token');
      if (token) ep.videoSourceToken = token;
    }
    if (this.opts.snapshotUrl) ep.snapshotUrl = this.opts.snapshotUrl;
    if (this.opts.streamUrl) ep.streamUrl = this.opts.streamUrl;
    this.endpoints = ep;
    return ep;
  }

  private async mediaUris(): Promise<OnvifEndpoints> {
    const dev = new onvif.OnvifDevice({
      xaddr: this.opts.url,
      user: this.opts.username,
      pass: this.opts.password,
    });
    try {
      const info = await dev.init();
      const p = dev.getCurrentProfile();
      const out: OnvifEndpoints = {};
      if (info?.Model) out.model = info.Model;
      if (p?.snapshot) out.snapshotUrl = rewriteHost(String(p.snapshot), this.opts.url);
      if (p?.stream.rtsp) out.streamUrl = rewriteHost(String(p.stream.rtsp), this.opts.url, true);
      return out;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      // Cameras that answer GetCapabilities without credentials first refuse here:
      // a wrong password must read as such, not as garbage.
      if (/not authori[sz]ed|unauthori[sz]ed|\b401\b|authentication failed/i.test(msg)) {
        throw new DeviceError(
          'auth-failed',
          `${new URL(this.opts.url).host}: credentials refused: ${msg}`,
          'offline',
          {
            cause: err,
          },
        );
      }
      throw new DeviceError(
        'bad-response',
        `${new URL(this.opts.url).host}: media profiles unreadable: ${msg}`,
        'degraded',
        {
          cause: err,
        },
      );
    }
  }

  /** Forget the addresses (after a reboot or a fault they may have changed). */
  reset(): void {
    this.endpoints = undefined;
  }
}
