// Minimal declarations for the parts of node-onvif (CommonJS) that Gatehouse uses.
declare module 'node-onvif' {
  import type { EventEmitter } from 'node:events';

  export interface OnvifProfile {
    token: string;
    name: string;
    snapshot: string;
    stream: { udp: string; http: string; rtsp: string };
    video: { source: { token: string; name: string } | null };
  }

  export interface OnvifResult<T = Record<string, unknown>> {
    soap: string;
    data: T;
  }

  export interface OnvifDeviceInformation {
    Manufacturer?: string;
    Model?: string;
    FirmwareVersion?: string;
    SerialNumber?: string;
    HardwareId?: string;
  }

  export interface OnvifServiceDevice {
    getSystemDateAndTime(): Promise<OnvifResult>;
    getDeviceInformation(): Promise<OnvifResult<{ GetDeviceInformationResponse: OnvifDeviceInformation }>>;
    getTimeDiff(): number;
  }

  export class OnvifDevice extends EventEmitter {
    constructor(params: { xaddr?: string; address?: string; user?: string; pass?: string });
    time_diff: number;
    services: { device: OnvifServiceDevice; media: unknown; events: unknown };
    init(): Promise<OnvifDeviceInformation>;
    getInformation(): OnvifDeviceInformation | null;
    getCurrentProfile(): OnvifProfile | null;
    getProfileList(): OnvifProfile[];
    fetchSnapshot(): Promise<{ headers: Record<string, string>; body: Buffer }>;
  }

  const onvif: { OnvifDevice: typeof OnvifDevice };
  export default onvif;
}
