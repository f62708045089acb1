import { createSocket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess, startTs, type Proc } from '../helpers/procs.ts';

const probeXml = (id: string, type = 'dn:NetworkVideoTransmitter', scopes = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action><a:MessageID>${id}</a:MessageID><a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header><s:Body><d:Probe><d:Types>${type}</d:Types>${scopes ? `<d:Scopes>${scopes}</d:Scopes>` : ''}</d:Probe></s:Body></s:Envelope>`;

/**
 * Send one datagram and collect replies for `waitMs`, or until `want` replies came.
 * Multicast is pinned to loopback.
 */
async function probe(
  host: string,
  port: number,
  xml: string,
  waitMs = 800,
  want = Infinity,
): Promise<string[]> {
  const sock = createSocket('udp4');
  const replies: string[] = [];
  sock.on('message', (m) => replies.push(m.toString()));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  sock.setMulticastInterface('127.0.0.1');
  sock.setMulticastTTL(1);
  sock.send(xml, port, host);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && replies.length < want) await new Promise((r) => setTimeout(r, 20));
  sock.close();
  return replies;
}

let sim: Proc;
let port: number;
let device: string;
let control: string;

beforeAll(async () => {
  sim = startTs('device-sims/main.ts', [
    'probe',
    '--discovery-port',
    '0',
    '--name',
    'Gate North',
    '--location',
    'ville/north',
  ]);
  const line = await sim.waitFor(/listening/);
  port = Number(/discovery=(\d+)/.exec(line)![1]);
  device = /device_service=(\S+)/.exec(line)![1]!;
  control = /control=(\S+)/.exec(line)![1]!;
  expect(line).not.toMatch(/multicast off/);
});
afterAll(async () => {
  await sim?.stop();
});

describe('WS-Discovery', () => {
  it('answers a unicast Probe on its own port with a ProbeMatch relating to the probe', async () => {
    const id = `uuid:${randomUUID()}`;
    const [reply] = await probe('127.0.0.1', port, probeXml(id), 5000, 1);
    expect(reply).toContain(`<wsa:RelatesTo>${id}</wsa:RelatesTo>`);
    expect(reply).toMatch(/<d:Types>dn:NetworkVideoTransmitter tds:Device<\/d:Types>/);
    expect(reply).toContain(`<d:XAddrs>${device}</d:XAddrs>`);
    expect(reply).toContain('onvif://www.onvif.org/name/Gate_North');
    expect(reply).toContain('onvif://www.onvif.org/location/ville/north');
    expect(reply).toMatch(/<d:MetadataVersion>1<\/d:MetadataVersion>/);
    expect(reply).toMatch(/<wsa:Address>urn:uuid:[0-9a-f-]{36}<\/wsa:Address>/);
  });

  it('answers on the multicast group joined on loopback', async () => {
    const id = `uuid:${randomUUID()}`;
    const replies = await probe('239.255.255.250', port, probeXml(id), 5000, 1);
    expect(replies.some((r) => r.includes(id))).toBe(true);
  });

  it('ignores probes for other types or scopes, and garbage', async () => {
    expect(await probe('127.0.0.1', port, probeXml('uuid:1', 'dn:NetworkVideoDisplay'))).toHaveLength(0);
    expect(
      await probe('127.0.0.1', port, probeXml('uuid:2', '', 'onvif://www.onvif.org/location/elsewhere')),
    ).toHaveLength(0);
    expect(
      await probe('127.0.0.1', port, probeXml('uuid:3', '', 'onvif://www.onvif.org/location/ville'), 5000, 1),
    ).toHaveLength(1);
    expect(await probe('127.0.0.1', port, '<not xml', 300)).toHaveLength(0);
  });

  it('goes silent while offline', async () => {
    await fetch(`${control}/fault`, {
      method: 'POST',
      body: JSON.stringify({ fault: 'offline', active: true }),
    });
    expect(await probe('127.0.0.1', port, probeXml('uuid:4'))).toHaveLength(0);
    await fetch(`${control}/fault`, {
      method: 'POST',
      body: JSON.stringify({ fault: 'offline', active: false }),
    });
    expect(await probe('127.0.0.1', port, probeXml('uuid:5'), 5000, 1)).toHaveLength(1);
  });
});

// node-onvif multicasts on the default interface, so its own startProbe() runs in a private
// network namespace (loopback only) where that cannot reach any real network.
const unshareWorks =
  process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true'], { stdio: 'ignore' }).status === 0;

describe('node-onvif discovery', () => {
  it.skipIf(!unshareWorks)(
    'startProbe() finds the simulator (inside unshare -n; skipped where namespaces are unavailable)',
    async () => {
      const p = startProcess('unshare', [
        '-n',
        'sh',
        '-c',
        'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec node_modules/.bin/tsx device-sims/probe/tools/netns-discover.ts --serial NETNS-1',
      ]);
      try {
        // Two programs start inside the namespace; on a busy 2-core machine that can take a while.
        const line = await p.waitFor(/^found /, 90_000);
        const found = JSON.parse(line.slice('found '.length)) as {
          name: string;
          xaddrs: string[];
          types: string[];
        }[];
        expect(found).toHaveLength(1);
        expect(found[0]!.name).toBe('Netns Gate');
        expect(found[0]!.types).toContain('dn:NetworkVideoTransmitter');
        expect(found[0]!.xaddrs[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service$/);
      } finally {
        await p.stop();
      }
    },
    120_000,
  );
});
