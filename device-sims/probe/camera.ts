import type { Server } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { CameraState, type CameraConfig } from './state.ts';
import { SubscriptionManager, SUBSCRIPTION_PATH_PREFIX } from './events.ts';
import { UsernameTokenVerifier } from './wssec.ts';
import { HttpAuthenticator } from './digest.ts';
import { createCameraHttp, SNAPSHOT_PATH } from './http.ts';
import { createRtspServer } from './rtsp.ts';
import { DiscoveryResponder } from './discovery.ts';
import { Listener } from './listener.ts';
import { SERVICE_PATHS } from './soap/router.ts';
import { profileByToken } from './ops/media/profiles.ts';
import type { CameraView } from './ops/types.ts';
import type { CameraPeer } from './peer.ts';
import type { SceneLook } from './scene.ts';

/** How long a reboot keeps the camera off the network unless told otherwise. */
export const DEFAULT_REBOOT_DOWN_MS = 1500;

/** One simulated ONVIF camera: its state, web server, RTSP server and discovery responder. */
export class Camera implements CameraPeer {
  readonly state: CameraState;
  readonly subscriptions: SubscriptionManager;
  readonly verifier: UsernameTokenVerifier;
  readonly snapshotAuth: HttpAuthenticator;
  readonly rtspAuth: HttpAuthenticator;
  readonly discovery: DiscoveryResponder;
  private readonly http: Listener;
  private readonly rtsp: Listener;
  private readonly httpServer: Server;
  private readonly rtspServer: NetServer;
  private transition: Promise<void> = Promise.resolve();

  constructor(config: CameraConfig) {
    this.state = new CameraState(config);
    this.subscriptions = new SubscriptionManager(this.state);
    this.verifier = new UsernameTokenVerifier({ windowS: config.authWindowS });
    const realm = `${config.model} ${config.serial}`.replace(/[",=]/g, ' ');
    this.snapshotAuth = new HttpAuthenticator(realm, config.snapshotAuth);
    this.rtspAuth = new HttpAuthenticator(realm, 'digest', false);
    this.discovery = new DiscoveryResponder(this);
    this.httpServer = createCameraHttp(this);
    this.rtspServer = createRtspServer(this);
    this.http = new Listener(this.httpServer, config.host);
    this.rtsp = new Listener(this.rtspServer, config.rtspHost);
    this.state.on('online', () => this.syncListeners());
  }

  async start(): Promise<void> {
    const c = this.state.config;
    await this.http.start(c.httpPort);
    await this.rtsp.start(c.rtspPort);
    if (c.discovery) await this.discovery.start(c.discoveryPort, c.discoveryIface);
  }

  get urls(): CameraView['urls'] {
    const c = this.state.config;
    const base = `http://${hostForUrl(c.host)}:${this.http.port}`;
    return {
      device: base + SERVICE_PATHS.device,
      media: base + SERVICE_PATHS.media,
      imaging: base + SERVICE_PATHS.imaging,
      events: base + SERVICE_PATHS.events,
      subscription: (id) => base + SUBSCRIPTION_PATH_PREFIX + id,
      rtsp: (token) => `rtsp://${hostForUrl(c.rtspHost)}:${this.rtsp.port}${profileByToken(token).rtspPath}`,
      snapshot: (token) => `${base}${SNAPSHOT_PATH}?profile=${encodeURIComponent(token)}`,
    };
  }

  get connectionsAccepted(): { http: number; rtsp: number } {
    return { http: this.http.accepted, rtsp: this.rtsp.accepted };
  }

  get ports(): { http: number; rtsp: number; discovery: number } {
    return { http: this.http.port, rtsp: this.rtsp.port, discovery: this.discovery.port };
  }

  sceneLook(): SceneLook {
    const s = this.state;
    return {
      day: !s.isNight(),
      nightMode: s.filterRemoved(),
      irLit: !s.faults['ir-failure'],
      tamper: s.tamper,
      motion: s.motion,
    };
  }

  reboot(downMs = DEFAULT_REBOOT_DOWN_MS): void {
    this.verifier.reset();
    this.state.reboot(downMs, () => undefined);
  }

  /** rtsp-down only closes the RTSP port; offline and reboot close everything. */
  syncListeners(): Promise<void> {
    this.transition = this.transition.then(async () => {
      const online = this.state.online;
      await (online ? this.http.resume() : this.http.pause());
      await (online && !this.state.faults['rtsp-down'] ? this.rtsp.resume() : this.rtsp.pause());
    });
    return this.transition;
  }

  async close(): Promise<void> {
    this.state.close();
    this.subscriptions.close();
    this.discovery.close();
    await Promise.all([this.http.close(), this.rtsp.close()]);
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
