import type { HttpAuthenticator } from './digest.ts';
import type { CameraView } from './ops/types.ts';
import type { SceneLook } from './scene.ts';
import type { UsernameTokenVerifier } from './wssec.ts';

/** What the camera's listeners (HTTP, RTSP, WS-Discovery) see of the camera they serve. */
export interface CameraPeer extends CameraView {
  readonly verifier: UsernameTokenVerifier;
  readonly snapshotAuth: HttpAuthenticator;
  readonly rtspAuth: HttpAuthenticator;
  sceneLook(): SceneLook;
}
