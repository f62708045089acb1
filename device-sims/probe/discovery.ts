import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { createHash, randomUUID } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import type { CameraPeer } from './peer.ts';
import { scopeList } from './ops/device/GetScopes.ts';
import { at, esc, text } from './soap/xml.ts';

export const DISCOVERY_GROUP = '239.255.255.250';
const MAX_DATAGRAM = 8 * 1024;
const TYPES = 'dn:NetworkVideoTransmitter tds:Device';
const TYPE_NAMES = new Set(['NetworkVideoTransmitter', 'Device']);

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  processEntities: false,
  htmlEntities: false,
});

/** A stable urn:uuid for the camera, derived from its serial number. */
export function endpointUuid(serial: string): string {
  const h = createHash('sha1').update(`gatehouse-probe:${serial}`).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * WS-Discovery target service (SOAP-over-UDP): answers Probe sent to the multicast group
 * and Probe sent straight to its own port. The group is joined on `iface` only (loopback
 * by default) so nothing goes out through a real network interface.
 */
export class DiscoveryResponder {
  private unicast: Socket | undefined;
  private multicast: Socket | undefined;
  private readonly instanceId = Math.floor(Date.now() / 1000);
  private messageNumber = 0;
  port = 0;
  /** Why the group could not be joined, when it could not. */
  multicastError: string | undefined;

  constructor(private readonly cam: CameraPeer) {}

  async start(port: number, iface: string): Promise<number> {
    const host = this.cam.state.config.host;
    this.unicast = await bind(port, host, (m, r) => this.onMessage(m, r));
    this.port = this.unicast.address().port;
    try {
      const mc = await bind(this.port, DISCOVERY_GROUP, (m, r) => this.onMessage(m, r));
      this.multicast = mc;
      mc.addMembership(DISCOVERY_GROUP, iface);
      mc.setMulticastInterface(iface);
      mc.setMulticastTTL(1);
    } catch (err) {
      this.multicastError = (err as Error).message;
      this.multicast?.close();
      this.multicast = undefined;
    }
    return this.port;
  }

  close(): void {
    this.unicast?.close();
    this.multicast?.close();
    this.unicast = this.multicast = undefined;
  }

  private onMessage(msg: Buffer, from: RemoteInfo): void {
    if (!this.cam.state.online || msg.length > MAX_DATAGRAM) return;
    const xml = msg.toString('utf8');
    if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return;
    let doc: unknown;
    try {
      doc = parser.parse(xml);
    } catch {
      return; // not ours to answer
    }
    const probe = at(doc, 'Envelope', 'Body', 'Probe');
    if (probe === undefined) return;
    const messageId = text(at(doc, 'Envelope', 'Header', 'MessageID'));
    if (!messageId || !this.matches(probe)) return;
    const reply = Buffer.from(this.probeMatches(messageId));
    this.unicast?.send(reply, from.port, from.address);
  }

  /** Probe matching (WS-Discovery §5.3): every listed type and scope must be ours. */
  private matches(probe: unknown): boolean {
    const types = (text(at(probe, 'Types')) ?? '').split(/\s+/).filter(Boolean);
    if (!types.every((t) => TYPE_NAMES.has(t.replace(/^.*:/, '')))) return false;
    const scopes = (text(at(probe, 'Scopes')) ?? '').split(/\s+/).filter(Boolean);
    const ours = scopeList(this.cam.state.config).map((s) => s.item);
    return scopes.every((s) => ours.some((o) => o === s || o.startsWith(s.endsWith('/') ? s : `${s}/`)));
  }

  private probeMatches(relatesTo: string): string {
    const c = this.cam.state.config;
    const scopes = scopeList(c)
      .map((s) => s.item)
      .join(' ');
    this.messageNumber++;
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">` +
      `<env:Header><wsa:MessageID>uuid:${randomUUID()}</wsa:MessageID><wsa:RelatesTo>${esc(relatesTo)}</wsa:RelatesTo>` +
      `<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>` +
      `<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>` +
      `<d:AppSequence InstanceId="${this.instanceId}" MessageNumber="${this.messageNumber}"/></env:Header>` +
      `<env:Body><d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference><wsa:Address>${endpointUuid(c.serial)}</wsa:Address></wsa:EndpointReference>` +
      `<d:Types>${TYPES}</d:Types><d:Scopes>${esc(scopes)}</d:Scopes><d:XAddrs>${esc(this.cam.urls.device)}</d:XAddrs>` +
      `<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>`
    );
  }
}

function bind(port: number, address: string, onMessage: (m: Buffer, r: RemoteInfo) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // reuseAddr: several simulated cameras on one machine all listen on 3702.
    const s = createSocket({ type: 'udp4', reuseAddr: true });
    s.once('error', reject);
    s.on('message', onMessage);
    s.bind(port, address, () => {
      s.off('error', reject);
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}
