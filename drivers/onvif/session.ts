import type http from 'node:http';
import { learnCapabilities, type DeviceCapabilities } from './capabilities.ts';
import type { CheckResult } from './checks.ts';
import { learnMedia } from './media.ts';
import type { OnvifDeviceOptions } from './options.ts';
import { AuthMemory } from './digest.ts';
import { cameraAgent, REPROBE_MS } from './pacing.ts';
import { SoapClient } from './soap/client.ts';

export interface OnvifEndpoints {
  media?: string;
  events?: string;
  imaging?: string;
  snapshotUrl?: string;
  streamUrl?: string;
  videoSourceToken?: string;
  profileToken?: string;
  capabilities: DeviceCapabilities;
  /** What discovery found of media, stream and snapshot. */
  found: { media?: CheckResult; stream?: CheckResult; snapshot?: CheckResult };
  /** Counts rediscoveries: what was learned per feature is forgotten when it changes. */
  generation: number;
}

/**
 * What both ONVIF drivers share: a signed SOAP client with clock compensation over a
 * bounded keep-alive connection pool, and the device's service addresses and
 * capabilities, learned once and re-learned after the camera was unreachable or every
 * REPROBE_MS. Every device answer goes through the bounded parser in xml.ts.
 */
export class OnvifSession {
  readonly client: SoapClient;
  /** Health checks, snapshots and commands: at most two sockets to the camera. */
  readonly agent: http.Agent = cameraAgent(2);
  /** HTTP challenges the camera sent (snapshot URL, Digest-guarded SOAP), answered up front next time. */
  readonly auth = new AuthMemory();
  endpoints: OnvifEndpoints | undefined;
  private learnedAt = 0;
  private generation = 0;
  private learning: Promise<OnvifEndpoints> | undefined;

  constructor(readonly opts: OnvifDeviceOptions) {
    this.client = new SoapClient({
      url: opts.url,
      username: opts.username,
      password: opts.password,
      timeoutMs: opts.timeoutMs,
      agent: this.agent,
      auth: this.auth,
    });
  }

  /** The addresses, learned when unknown, stale, or incomplete after a failed media step. */
  discover({ media = true } = {}): Promise<OnvifEndpoints> {
    const fresh = Date.now() - this.learnedAt < REPROBE_MS;
    if (this.endpoints && fresh) return Promise.resolve(this.endpoints);
    // A poll and a command arriving together share one discovery.
    this.learning ??= this.learn(media).finally(() => (this.learning = undefined));
    return this.learning;
  }

  private async learn(media: boolean): Promise<OnvifEndpoints> {
    // Retrying a failed media step is not a new look at the camera; a reset or age is.
    const anew = !this.endpoints || this.learnedAt > 0;
    await this.client.syncClock();
    const capabilities = await learnCapabilities(this.client);
    const ep: OnvifEndpoints = {
      capabilities,
      found: {},
      generation: anew ? ++this.generation : this.generation,
      ...(capabilities.media ? { media: capabilities.media } : {}),
      ...(capabilities.events ? { events: capabilities.events } : {}),
      ...(capabilities.imaging ? { imaging: capabilities.imaging } : {}),
    };
    if (media && ep.media) {
      const m = await learnMedia(this.client, ep.media, {
        snapshotUri: capabilities.snapshotUri,
        wantVideoSource: ep.imaging !== undefined,
      });
      const { media: mediaOutcome, stream, snapshot, ...where } = m;
      Object.assign(ep, where);
      ep.found = { media: mediaOutcome, ...(stream ? { stream } : {}), ...(snapshot ? { snapshot } : {}) };
    } else if (media) {
      ep.found.media = { status: 'unsupported', detail: 'the camera advertises no media service' };
    }
    if (this.opts.snapshotUrl) ep.snapshotUrl = this.opts.snapshotUrl;
    if (this.opts.streamUrl) ep.streamUrl = this.opts.streamUrl;
    this.endpoints = ep;
    // A media step that failed (rather than being absent) is tried again next time.
    const failed = Object.values(ep.found).some((r) => r.status === 'failed');
    this.learnedAt = failed ? 0 : Date.now();
    return ep;
  }

  /** Forget the addresses (after a reboot or a fault they may have changed). */
  reset(): void {
    this.endpoints = undefined;
    this.learnedAt = 0;
  }

  close(): void {
    this.agent.destroy();
  }
}
