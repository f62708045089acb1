import type { SoapRequest } from '../soap/parse.ts';
import type { CameraState } from '../state.ts';
import type { SubscriptionManager } from '../events.ts';

/** What an operation handler may see of its camera. */
export interface CameraView {
  state: CameraState;
  subscriptions: SubscriptionManager;
  /** Power-cycle: goes offline briefly, drops subscriptions, uptime restarts. */
  reboot(): void;
  urls: {
    device: string;
    media: string;
    imaging: string;
    events: string;
    subscription: (id: string) => string;
    rtsp: (profileToken: string) => string;
    snapshot: (profileToken: string) => string;
  };
}

export interface OpContext {
  cam: CameraView;
  req: SoapRequest;
  /** Set for requests to a pull-point manager path. */
  subscriptionId?: string;
  /** Fires when the client hangs up (long polls stop waiting). */
  aborted: AbortSignal;
}

export interface Operation {
  /** ONVIF access class: pre-auth operations need no credentials (GetSystemDateAndTime...). */
  access: 'pre-auth' | 'user';
  /** Returns the body fragment of the response. */
  handle(ctx: OpContext): string | Promise<string>;
}
