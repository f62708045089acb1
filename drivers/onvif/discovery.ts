import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { DeviceError, DriverError } from '../contract/errors.ts';
import { SoapClient } from './soap/client.ts';
import { all, parseXml, pick, text } from './xml.ts';

export const WS_DISCOVERY_GROUP = '239.255.255.250';

export interface DiscoveryOptions {
  /** Send one multicast Probe; needs `multicastInterface` (the address of the NIC to use). */
  multicast?: boolean;
  multicastInterface?: string;
  /** Unicast scan targets: a CIDR (at most /16) and/or a host list. */
  cidr?: string;
  hosts?: string[];
  /** WS-Discovery port (3702 on real cameras). */
  port?: number;
  /** Also try http://host[:port]/onvif/device_service for hosts that ignore WS-Discovery. */
  httpPorts?: number[];
  /** Local address for the UDP socket (default: the multicast interface, else all). */
  bindAddress?: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
  concurrency?: number;
  onProgress?(p: { done: number; total: number; found: number }): void;
}

export interface DiscoveredDevice {
  address: string;
  xaddrs: string[];
  endpoint?: string;
  scopes: string[];
  name?: string;
  hardware?: string;
  manufacturer?: string;
  model?: string;
  firmware?: string;
  serial?: string;
  auth: 'ok' | 'failed' | 'not-tried';
  error?: string;
}

export function buildProbe(messageId = `urn:uuid:${randomUUID()}`): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    `<s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>` +
    `<a:MessageID>${messageId}</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>` +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

export interface ProbeMatch {
  endpoint?: string;
  xaddrs: string[];
  scopes: string[];
}

/** ProbeMatches from one UDP datagram (empty on anything else; garbage is ignored). */
export function parseProbeMatches(xml: string | Buffer): ProbeMatch[] {
  let doc;
  try {
    doc = parseXml(xml, 64 * 1024);
  } catch {
    return [];
  }
  return all(pick(doc, 'Envelope', 'Body', 'ProbeMatches'), 'ProbeMatch').map((m) => {
    const split = (v: unknown) => (text(v) ?? '').split(/\s+/).filter(Boolean);
    const match: ProbeMatch = { xaddrs: split(pick(m, 'XAddrs')), scopes: split(pick(m, 'Scopes')) };
    const ep = text(pick(m, 'EndpointReference', 'Address'));
    if (ep) match.endpoint = ep.trim();
    return match;
  });
}

function scopeValue(scopes: string[], kind: string): string | undefined {
  const s = scopes.find((x) => x.startsWith(`onvif://www.onvif.org/${kind}/`));
  return s ? decodeURIComponent(s.slice(`onvif://www.onvif.org/${kind}/`.length)) : undefined;
}

/** The host addresses of an IPv4 CIDR (network and broadcast excluded for prefixes under /31). */
export function expandCidr(cidr: string): string[] {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  const octets = m?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(m?.[5]);
  if (!m || octets.some((o) => o > 255) || prefix > 32)
    throw new DriverError('invalid-argument', `bad CIDR "${cidr}"`);
  if (prefix < 16)
    throw new DriverError('invalid-argument', `CIDR "${cidr}" is wider than /16; scan smaller ranges`);
  const base =
    (octets.reduce((a, o) => a * 256 + o, 0) >>> 0) & (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0);
  const size = 2 ** (32 - prefix);
  const out: string[] = [];
  for (let i = size > 2 ? 1 : 0; i < (size > 2 ? size - 1 : size); i++) {
    const n = (base + i) >>> 0;
    out.push([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'));
  }
  return out;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Identify a device (GetDeviceInformation, signed) and tell whether the credentials work. */
async function identify(d: DiscoveredDevice, o: DiscoveryOptions): Promise<void> {
  const xaddr = d.xaddrs.find((x) => x.startsWith('http://'));
  if (!xaddr || !o.username) return;
  const client = new SoapClient({
    url: xaddr,
    username: o.username,
    password: o.password ?? '',
    timeoutMs: o.timeoutMs ?? 2000,
  });
  try {
    await client.syncClock();
    const info = pick(await client.call('<tds:GetDeviceInformation/>'), 'GetDeviceInformationResponse');
    d.auth = 'ok';
    const field = (k: string) => text(pick(info, k))?.trim() || undefined;
    const set = (k: 'manufacturer' | 'model' | 'firmware' | 'serial', el: string) => {
      const v = field(el);
      if (v) d[k] = v;
    };
    set('manufacturer', 'Manufacturer');
    set('model', 'Model');
    set('firmware', 'FirmwareVersion');
    set('serial', 'SerialNumber');
  } catch (err) {
    if (err instanceof DeviceError && err.reason === 'auth-failed') d.auth = 'failed';
    d.error = err instanceof Error ? err.message : String(err);
  }
}

/**
 * Find ONVIF devices for an installer: a multicast Probe on one named interface and/or
 * a unicast Probe to each host (plus optional HTTP tries), with bounded concurrency and
 * timeouts, then GetDeviceInformation with the given credentials. Devices that refuse
 * the credentials are still listed, with auth 'failed'.
 */
export async function discover(o: DiscoveryOptions): Promise<DiscoveredDevice[]> {
  if (o.multicast && !o.multicastInterface) {
    throw new DriverError(
      'invalid-argument',
      'multicast discovery needs multicastInterface (the local address of the NIC)',
    );
  }
  const port = o.port ?? 3702;
  const timeoutMs = o.timeoutMs ?? 2000;
  const hosts = [...new Set([...(o.cidr ? expandCidr(o.cidr) : []), ...(o.hosts ?? [])])];
  const found = new Map<string, DiscoveredDevice>();
  const answered = new Map<string, () => void>();
  const add = (address: string, m: ProbeMatch) => {
    const key = m.endpoint ?? m.xaddrs[0] ?? address;
    if (found.has(key)) return;
    found.set(key, {
      address,
      xaddrs: m.xaddrs,
      ...(m.endpoint ? { endpoint: m.endpoint } : {}),
      scopes: m.scopes,
      ...(scopeValue(m.scopes, 'name') ? { name: scopeValue(m.scopes, 'name') } : {}),
      ...(scopeValue(m.scopes, 'hardware') ? { hardware: scopeValue(m.scopes, 'hardware') } : {}),
      auth: 'not-tried',
    });
  };
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  sock.on('message', (buf, rinfo) => {
    for (const m of parseProbeMatches(buf)) add(rinfo.address, m);
    answered.get(rinfo.address)?.();
  });
  sock.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, o.bindAddress ?? o.multicastInterface, () => resolve());
  });
  const send = (host: string) =>
    new Promise<void>((resolve) => sock.send(buildProbe(), port, host, () => resolve()));
  try {
    const multicastDone = o.multicast
      ? (async () => {
          sock.setMulticastInterface(o.multicastInterface!);
          sock.setMulticastTTL(1);
          sock.setMulticastLoopback(true);
          await send(WS_DISCOVERY_GROUP);
          await sleep(timeoutMs);
        })()
      : Promise.resolve();
    let done = 0;
    const report = () => o.onProgress?.({ done, total: hosts.length, found: found.size });
    await pool(hosts, o.concurrency ?? 32, async (host) => {
      const replied = new Promise<void>((r) => answered.set(host, r));
      await send(host);
      await Promise.race([replied, sleep(timeoutMs)]);
      answered.delete(host);
      for (const p of o.httpPorts ?? []) {
        const url = `http://${host}${p === 80 ? '' : `:${p}`}/onvif/device_service`;
        if ([...found.values()].some((d) => d.xaddrs.includes(url))) continue;
        try {
          await new SoapClient({ url, timeoutMs }).syncClock();
          add(host, { xaddrs: [url], scopes: [] });
        } catch {
          // nothing ONVIF there
        }
      }
      done++;
      report();
    });
    await multicastDone;
  } finally {
    sock.close();
  }
  const devices = [...found.values()];
  await pool(devices, o.concurrency ?? 32, (d) => identify(d, o));
  return devices;
}
