import { rewriteHost, type SoapClient } from './soap/client.ts';
import { all, attr, pick, text } from './xml.ts';

/** What a camera says it has, before any of it is used. */
export interface DeviceCapabilities {
  media?: string;
  events?: string;
  imaging?: string;
  /** Pull-point events (WSPullPointSupport); undefined when the camera does not say. */
  pullPoint?: boolean;
  /** Media's SnapshotUri capability; undefined when the camera does not say. */
  snapshotUri?: boolean;
  /** Relay outputs advertised; undefined when the camera does not say. */
  relayOutputs?: number;
}

const SERVICE_NS = {
  media: 'http://www.onvif.org/ver10/media/wsdl',
  events: 'http://www.onvif.org/ver10/events/wsdl',
  imaging: 'http://www.onvif.org/ver20/imaging/wsdl',
  deviceIO: 'http://www.onvif.org/ver10/deviceIO/wsdl',
} as const;

function bool(v: string | undefined): boolean | undefined {
  const t = v?.trim().toLowerCase();
  return t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : undefined;
}

function count(v: string | undefined): number | undefined {
  const n = Number(v?.trim());
  return v !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** GetCapabilities (every ONVIF camera answers it; its failure is the device's failure). */
async function fromGetCapabilities(client: SoapClient): Promise<DeviceCapabilities> {
  const body = await client.call(
    '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>',
  );
  const caps = pick(body, 'GetCapabilitiesResponse', 'Capabilities');
  const base = client.opts.url;
  const xaddr = (...path: string[]) => {
    const a = text(pick(caps, ...path, 'XAddr'));
    return a ? rewriteHost(a.trim(), base) : undefined;
  };
  const out: DeviceCapabilities = {};
  const set = <K extends keyof DeviceCapabilities>(k: K, v: DeviceCapabilities[K]) => {
    if (v !== undefined) out[k] = v;
  };
  set('media', xaddr('Media'));
  set('events', xaddr('Events'));
  set('imaging', xaddr('Imaging'));
  set('pullPoint', bool(text(pick(caps, 'Events', 'WSPullPointSupport'))));
  set(
    'relayOutputs',
    count(text(pick(caps, 'Device', 'IO', 'RelayOutputs'))) ??
      count(text(pick(caps, 'Extension', 'DeviceIO', 'RelayOutputs'))),
  );
  return out;
}

/**
 * GetServices with capabilities: newer firmware lists services GetCapabilities leaves
 * out, and says more of each. Optional (Axis 5.x faults it): a failure only means less
 * is known.
 */
async function fromGetServices(client: SoapClient): Promise<DeviceCapabilities> {
  const out: DeviceCapabilities = {};
  let body;
  try {
    body = await client.call(
      '<tds:GetServices><tds:IncludeCapability>true</tds:IncludeCapability></tds:GetServices>',
    );
  } catch {
    return out;
  }
  for (const svc of all(pick(body, 'GetServicesResponse'), 'Service')) {
    const ns = text(pick(svc, 'Namespace'))?.trim();
    const addr = text(pick(svc, 'XAddr'))?.trim();
    const caps = pick(svc, 'Capabilities', 'Capabilities');
    const url = addr ? rewriteHost(addr, client.opts.url) : undefined;
    if (ns === SERVICE_NS.media) {
      out.media ??= url;
      out.snapshotUri ??= bool(attr(caps, 'SnapshotUri'));
    } else if (ns === SERVICE_NS.events) {
      out.events ??= url;
      out.pullPoint ??= bool(attr(caps, 'WSPullPointSupport'));
    } else if (ns === SERVICE_NS.imaging) {
      out.imaging ??= url;
    } else if (ns === SERVICE_NS.deviceIO) {
      out.relayOutputs ??= count(attr(caps, 'RelayOutputs'));
    }
  }
  return out;
}

/** The events service's own word on pull points, where it answers GetServiceCapabilities. */
async function pullPointFromService(client: SoapClient, url: string): Promise<boolean | undefined> {
  try {
    const body = await client.call('<tev:GetServiceCapabilities/>', { url });
    return bool(attr(pick(body, 'GetServiceCapabilitiesResponse', 'Capabilities'), 'WSPullPointSupport'));
  } catch {
    return undefined;
  }
}

/**
 * Which services and features a camera advertises. A service's own capabilities win over
 * GetServices', which win over GetCapabilities' (the oldest, least precise).
 */
export async function learnCapabilities(client: SoapClient): Promise<DeviceCapabilities> {
  const legacy = await fromGetCapabilities(client);
  const services = await fromGetServices(client);
  const merged: DeviceCapabilities = { ...legacy };
  for (const [k, v] of Object.entries(services) as [keyof DeviceCapabilities, never][]) {
    if (v === undefined) continue;
    // Addresses: GetCapabilities' are the ones long known to work; fill only the gaps.
    if ((k === 'media' || k === 'events' || k === 'imaging') && merged[k] !== undefined) continue;
    merged[k] = v;
  }
  if (merged.events) {
    const own = await pullPointFromService(client, merged.events);
    if (own !== undefined) merged.pullPoint = own;
  }
  return merged;
}
